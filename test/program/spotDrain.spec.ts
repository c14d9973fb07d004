// A WSGI task Fargate Spot reclaims leaves the target group at once (components/spotDrain.ts): the
// resources under mocks, and the function's code against the event ECS sends.
import * as assert from "assert";
import * as path from "path";
import Module from "node:module";
import { ProgramResult, runProgram } from "../../ops/offline/program";
import { PROJECT_DIR } from "../../ops/project";
import { only, runsOnSpot } from "../../components/roles";
import { inputs, one, ofType, statements, T } from "./helpers";

const FUNCTION_FILE = path.join(PROJECT_DIR, "components", "spotDrainFunction", "index.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the function's own plain JavaScript
const fn = require(FUNCTION_FILE) as {
    ENVIRONMENT: { targetGroupArn: string; port: string };
    deregistrationOf(event: unknown, targetGroupArn: string, port: number): { TargetGroupArn: string; Targets: { Id: string; Port: number }[] } | undefined;
    handler(event: unknown): Promise<{ deregistered: unknown[] }>;
};

const DRAIN = {
    rule: "aws:cloudwatch/eventRule:EventRule",
    target: "aws:cloudwatch/eventTarget:EventTarget",
    function: "aws:lambda/function:Function",
    permission: "aws:lambda/permission:Permission",
};

/** The detail of an ECS Task State Change event for a Spot reclaim, as ECS sends it (trimmed). */
function reclaimEvent(stopCode = "SpotInterruption", lastStatus = "RUNNING"): Record<string, unknown> {
    return {
        "detail-type": "ECS Task State Change",
        source: "aws.ecs",
        detail: {
            clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/cgap-mastertest",
            group: "service:cgap-mastertest-wsgi",
            taskArn: "arn:aws:ecs:us-east-1:123456789012:task/cgap-mastertest/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            lastStatus,
            desiredStatus: "STOPPED",
            stopCode,
            stoppedReason: "Your Spot Task was interrupted.",
            attachments: [
                {
                    type: "eni",
                    status: "ATTACHED",
                    details: [
                        { name: "subnetId", value: "subnet-0a1b2c3d4e5f60101" },
                        { name: "networkInterfaceId", value: "eni-0a1b2c3d4e5f60708" },
                        { name: "privateIPv4Address", value: "10.0.12.34" },
                    ],
                },
            ],
        },
    };
}

/**
 * EventBridge's matching for the pattern forms the rule uses: every key of the pattern must be in the
 * event, an array of values matches when the event's value is one of them, an object recurses
 * ("Event patterns in Amazon EventBridge", EventBridge user guide).
 */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
    return Object.entries(pattern).every(([key, want]) => {
        const value = event[key];
        if (Array.isArray(want)) {
            return want.includes(value);
        }
        return typeof value === "object" && value !== null && matches(want as Record<string, unknown>, value as Record<string, unknown>);
    });
}

/** The states a reclaimed Fargate task reports on its way out, in order ("Amazon ECS task lifecycle"). */
const RECLAIM_SEQUENCE = ["RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"];

describe("the Spot reclaim drain", function () {
    this.timeout(60000);
    let spot: ProgramResult;
    before(async () => {
        spot = await runProgram({ stack: "mastertest", preview: false });
    });

    it("matches the reclaim's RUNNING event only: by STOPPED its address may belong to a new WSGI task", () => {
        const rule = one(spot.resources, DRAIN.rule, "cgap-spot-interruption");
        const cluster = one(spot.resources, T.cluster, "cgap-cluster");
        const pattern = JSON.parse(inputs(rule).eventPattern);
        const matched = RECLAIM_SEQUENCE.filter((status) => {
            const event = reclaimEvent("SpotInterruption", status);
            (event.detail as Record<string, unknown>).clusterArn = cluster.outputs.arn;
            return matches(pattern, event);
        });
        assert.deepStrictEqual(matched, ["RUNNING"]);
        const scaledIn = reclaimEvent("ServiceSchedulerInitiated");
        (scaledIn.detail as Record<string, unknown>).clusterArn = cluster.outputs.arn;
        assert.strictEqual(matches(pattern, scaledIn), false, "a task the scheduler stops is drained by ECS itself");
    });

    it("runs the function on the WSGI service's reclaim events only, with the target group and port it deregisters from", () => {
        const rule = one(spot.resources, DRAIN.rule, "cgap-spot-interruption");
        const cluster = one(spot.resources, T.cluster, "cgap-cluster");
        assert.deepStrictEqual(JSON.parse(inputs(rule).eventPattern), {
            source: ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            detail: {
                clusterArn: [cluster.outputs.arn],
                group: ["service:cgap-mastertest-wsgi"],
                stopCode: ["SpotInterruption"],
                lastStatus: ["RUNNING"],
            },
        });
        const lambda = one(spot.resources, DRAIN.function, "cgap-spot-drain");
        const targetGroup = ofType(spot.resources, T.targetGroup)[0];
        assert.deepStrictEqual(inputs(lambda).environment.variables, {
            [fn.ENVIRONMENT.targetGroupArn]: targetGroup.outputs.arn,
            [fn.ENVIRONMENT.port]: "8000",
        });
        assert.strictEqual(inputs(lambda).handler, "index.handler");
        assert.match(inputs(lambda).runtime, /^nodejs\d+\.x$/);
        assert.deepStrictEqual(inputs(one(spot.resources, DRAIN.target, "cgap-spot-drain")).arn, lambda.outputs.arn);
        const permission = inputs(one(spot.resources, DRAIN.permission, "cgap-spot-drain-invoke"));
        assert.deepStrictEqual([permission.principal, permission.sourceArn], ["events.amazonaws.com", rule.outputs.arn]);
    });

    it("lets the function deregister from that one target group and write its own log, nothing else", () => {
        const targetGroup = ofType(spot.resources, T.targetGroup)[0];
        const logGroup = one(spot.resources, T.logGroup, "cgap-spot-drain-logs");
        assert.strictEqual(inputs(logGroup).retentionInDays, 365);
        const [trust] = JSON.parse(inputs(one(spot.resources, T.role, "cgap-spot-drain")).assumeRolePolicy).Statement;
        assert.deepStrictEqual(trust.Principal, { Service: "lambda.amazonaws.com" });
        assert.strictEqual(inputs(one(spot.resources, DRAIN.function, "cgap-spot-drain")).role, one(spot.resources, T.role, "cgap-spot-drain").outputs.arn);
        assert.deepStrictEqual(
            statements(one(spot.resources, T.rolePolicy, "cgap-spot-drain-policy")).map((s) => [s.Action, s.Resource]),
            [
                [["elasticloadbalancing:DeregisterTargets"], targetGroup.outputs.arn],
                [["logs:CreateLogStream", "logs:PutLogEvents"], `${logGroup.outputs.arn}:*`],
            ],
        );
    });

    it("is not there when no WSGI task runs on Spot", async () => {
        const onDemand = await runProgram({ stack: "mastertest", preview: false, config: { "cgap:sizing": JSON.stringify({ wsgi: { capacity: "on-demand" } }) } });
        for (const type of Object.values(DRAIN)) {
            assert.deepStrictEqual(ofType(onDemand.resources, type), [], type);
        }
    });

    it("is there exactly when the WSGI strategy can place a task on Spot", () => {
        assert.strictEqual(runsOnSpot(only("spot")), true);
        assert.strictEqual(runsOnSpot(only("on-demand")), false);
        assert.strictEqual(runsOnSpot([{ capacity: "on-demand", base: 2, weight: 0 }, { capacity: "spot", base: 0, weight: 1 }]), true);
        assert.strictEqual(runsOnSpot([{ capacity: "on-demand", base: 2, weight: 1 }, { capacity: "spot", base: 0, weight: 0 }]), false);
    });

    describe("its code", () => {
        it("deregisters the reclaimed task's address on the registered port", () => {
            assert.deepStrictEqual(fn.deregistrationOf(reclaimEvent(), "arn:tg", 8000), { TargetGroupArn: "arn:tg", Targets: [{ Id: "10.0.12.34", Port: 8000 }] });
        });

        it("leaves anything else alone: another stop code, an event without an address", () => {
            assert.strictEqual(fn.deregistrationOf(reclaimEvent("UserInitiated"), "arn:tg", 8000), undefined);
            const noEni = reclaimEvent();
            (noEni.detail as { attachments: unknown[] }).attachments = [];
            assert.strictEqual(fn.deregistrationOf(noEni, "arn:tg", 8000), undefined);
            assert.strictEqual(fn.deregistrationOf({}, "arn:tg", 8000), undefined);
        });

        it("the handler sends that DeregisterTargets with the runtime's SDK, reading the environment the stack sets", async () => {
            // The Lambda runtime provides the SDK; this stands in for it and records what is sent.
            const sent: unknown[] = [];
            const sdk = {
                ElasticLoadBalancingV2Client: class {
                    async send(command: { input: unknown }) {
                        sent.push(command.input);
                        return {};
                    }
                },
                DeregisterTargetsCommand: class {
                    constructor(readonly input: unknown) {}
                },
            };
            const original = Module.prototype.require;
            Module.prototype.require = function (this: NodeJS.Module, id: string) {
                return id === "@aws-sdk/client-elastic-load-balancing-v2" ? sdk : original.call(this, id);
            } as typeof original;
            const saved = { ...process.env };
            process.env[fn.ENVIRONMENT.targetGroupArn] = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cgap-tg/0123456789abcdef";
            process.env[fn.ENVIRONMENT.port] = "8000";
            const log = console.log;
            console.log = () => undefined;
            try {
                assert.deepStrictEqual(await fn.handler(reclaimEvent("UserInitiated")), { deregistered: [] });
                assert.deepStrictEqual(sent, []);
                assert.deepStrictEqual(await fn.handler(reclaimEvent()), { deregistered: [{ Id: "10.0.12.34", Port: 8000 }] });
                assert.deepStrictEqual(sent, [
                    { TargetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/cgap-tg/0123456789abcdef", Targets: [{ Id: "10.0.12.34", Port: 8000 }] },
                ]);
            } finally {
                Module.prototype.require = original;
                process.env = saved;
                console.log = log;
            }
        });
    });
});
