// Autoscaling and deployment alarms under mocks: what the engine receives for each role, in a stack
// whose sizing opens ranges (production) and one whose sizing is fixed (mastertest).
import * as assert from "assert";
import { QUEUE_ALARM_PERIOD_SECONDS, WSGI_REQUESTS_PER_TARGET } from "../../components/autoscaling";
import { formatPlan, rolloutPlan } from "../../ops/offline/plan";
import { ProgramResult, runProgram } from "../../ops/offline/program";
import { parseStackConfig, ownKeys } from "../../components/config";
import { inputs, one, ofType, statements, T } from "./helpers";

const TARGET = "aws:appautoscaling/target:Target";
const POLICY = "aws:appautoscaling/policy:Policy";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

function scalingPolicies(run: ProgramResult, role: string) {
    return ofType(run.resources, POLICY).filter((p) => p.name.startsWith(`cgap-${role}-`));
}

describe("autoscaling, Pulumi.production.yaml (wsgi 2..4, indexer 4..8, ingester 1..4)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "production", preview: false });
    });

    it("registers one scalable target per service with the sizing's bounds, after the service", () => {
        const bounds = { wsgi: [2, 4], indexer: [4, 8], ingester: [1, 4] } as const;
        assert.strictEqual(ofType(run.resources, TARGET).length, 3);
        for (const [role, [min, max]] of Object.entries(bounds)) {
            const target = one(run.resources, TARGET, `cgap-${role}`);
            const service = one(run.resources, T.service, `cgap-${role}`);
            assert.strictEqual(inputs(target).serviceNamespace, "ecs");
            assert.strictEqual(inputs(target).scalableDimension, "ecs:service:DesiredCount");
            assert.strictEqual(inputs(target).resourceId, `service/cgap-production/cgap-production-${role}`);
            assert.deepStrictEqual([inputs(target).minCapacity, inputs(target).maxCapacity], [min, max]);
            assert.ok(target.dependencies.includes(service.urn), `${role}: the target waits for its service`);
        }
    });

    it("puts desiredCount in ignoreChanges of every autoscaled service, and still seeds it with count", () => {
        for (const [role, count] of [["wsgi", 2], ["indexer", 4], ["ingester", 1]] as const) {
            const service = one(run.resources, T.service, `cgap-${role}`);
            assert.deepStrictEqual(service.ignoreChanges, ["desiredCount"], role);
            assert.strictEqual(inputs(service).desiredCount, count);
        }
    });

    it("scales WSGI by target tracking on the ALB's request count per target of its own target group", () => {
        const [policy] = scalingPolicies(run, "wsgi");
        assert.strictEqual(scalingPolicies(run, "wsgi").length, 1);
        const alb = one(run.resources, T.loadBalancer, "cgap-alb");
        const tg = one(run.resources, T.targetGroup, "cgap-wsgi");
        const p = inputs(policy);
        assert.strictEqual(p.policyType, "TargetTrackingScaling");
        assert.strictEqual(p.resourceId, "service/cgap-production/cgap-production-wsgi");
        const config = p.targetTrackingScalingPolicyConfiguration;
        assert.deepStrictEqual(config.predefinedMetricSpecification, {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: `${alb.outputs.arnSuffix}/${tg.outputs.arnSuffix}`,
        });
        assert.match(String(config.predefinedMetricSpecification.resourceLabel), /^app\/[^/]+\/targetgroup\/[^/]+$/);
        assert.strictEqual(config.targetValue, WSGI_REQUESTS_PER_TARGET);
        assert.ok(config.scaleOutCooldown < config.scaleInCooldown, "out fast, in slowly");
    });

    for (const [role, queue, depth, step, watched] of [
        ["ingester", "cgap-production-ingestion-queue", 2, 1, ["cgap-production-ingestion-queue"]],
        [
            "indexer",
            "cgap-production-secondary-indexer-queue",
            1000,
            2,
            ["cgap-production-indexer-queue", "cgap-production-secondary-indexer-queue"],
        ],
    ] as const) {
        it(`scales the ${role} out when more than ${depth} messages are visible on ${queue}`, () => {
            const alarm = inputs(one(run.resources, ALARM, `cgap-${role}-queue-depth`));
            const policy = one(run.resources, POLICY, `cgap-${role}-scale-out`);
            assert.strictEqual(alarm.namespace, "AWS/SQS");
            assert.strictEqual(alarm.metricName, "ApproximateNumberOfMessagesVisible");
            assert.deepStrictEqual(alarm.dimensions, { QueueName: queue });
            assert.strictEqual(alarm.statistic, "Maximum");
            assert.strictEqual(alarm.period, QUEUE_ALARM_PERIOD_SECONDS);
            assert.strictEqual(alarm.threshold, depth);
            assert.strictEqual(alarm.comparisonOperator, "GreaterThanThreshold");
            assert.deepStrictEqual(alarm.alarmActions, [policy.outputs.arn]);
            const p = inputs(policy);
            assert.strictEqual(p.policyType, "StepScaling");
            assert.strictEqual(p.resourceId, `service/cgap-production/cgap-production-${role}`);
            assert.strictEqual(p.stepScalingPolicyConfiguration.adjustmentType, "ChangeInCapacity");
            assert.deepStrictEqual(p.stepScalingPolicyConfiguration.stepAdjustments, [
                { metricIntervalLowerBound: "0", scalingAdjustment: step },
            ]);
        });

        it(`scales the ${role} back to min when its queues hold nothing, visible or in flight`, () => {
            const alarm = inputs(one(run.resources, ALARM, `cgap-${role}-queue-empty`));
            const policy = one(run.resources, POLICY, `cgap-${role}-scale-in`);
            assert.strictEqual(alarm.threshold, 0);
            assert.strictEqual(alarm.comparisonOperator, "LessThanOrEqualToThreshold");
            assert.deepStrictEqual(alarm.alarmActions, [policy.outputs.arn]);
            const queries = alarm.metricQueries as { id: string; expression?: string; metric?: any; returnData?: boolean }[];
            const metrics = queries.filter((q) => q.metric);
            assert.deepStrictEqual(
                metrics.map((q) => [q.metric.dimensions.QueueName, q.metric.metricName]).sort(),
                watched
                    .flatMap((q) => [
                        [q, "ApproximateNumberOfMessagesNotVisible"],
                        [q, "ApproximateNumberOfMessagesVisible"],
                    ])
                    .sort(),
            );
            const [sum] = queries.filter((q) => q.returnData);
            assert.deepStrictEqual(sum.expression!.split(" + ").sort(), metrics.map((q) => q.id).sort());
            const min = role === "ingester" ? 1 : 4;
            assert.deepStrictEqual(inputs(policy).stepScalingPolicyConfiguration, {
                adjustmentType: "ExactCapacity",
                cooldown: 300,
                metricAggregationType: "Maximum",
                stepAdjustments: [{ metricIntervalUpperBound: "0", scalingAdjustment: min }],
            });
        });
    }

    it("shows min/count/max in the offline plan", () => {
        const config = parseStackConfig(ownKeys(run.config));
        const table = formatPlan(rolloutPlan(run, config.sizing));
        assert.match(table, /min\/count\/max/);
        assert.match(table, /^wsgi .* 2\/2\/4 autoscaled /m);
        assert.match(table, /^indexer .* 4\/4\/8 autoscaled /m);
        assert.match(table, /^ingester .* 1\/1\/4 autoscaled /m);
        assert.match(table, /^deployment .*\(one-shot task\)\s+- /m);
    });
});

describe("autoscaling, Pulumi.mastertest.yaml (fixed sizes) and a scale-to-zero ingester", () => {
    it("registers no scaling for fixed sizes and leaves desiredCount managed by the program", async () => {
        const run = await runProgram({ stack: "mastertest", preview: false });
        assert.deepStrictEqual(ofType(run.resources, TARGET), []);
        assert.deepStrictEqual(ofType(run.resources, POLICY), []);
        for (const service of ofType(run.resources, T.service)) {
            assert.deepStrictEqual(service.ignoreChanges, [], service.name);
        }
        const config = parseStackConfig(ownKeys(run.config));
        assert.match(formatPlan(rolloutPlan(run, config.sizing)), /^wsgi .* 2\/2\/2 {2}/m);
    });

    it("wakes an ingester scaled to zero on the first waiting message, and scales only that role", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:sizing": JSON.stringify({ ingester: { min: 0, max: 2 } }) },
        });
        assert.deepStrictEqual(ofType(run.resources, TARGET).map((t) => t.name), ["cgap-ingester"]);
        assert.strictEqual(inputs(one(run.resources, ALARM, "cgap-ingester-queue-depth")).threshold, 0);
        const scaleIn = inputs(one(run.resources, POLICY, "cgap-ingester-scale-in"));
        assert.strictEqual(scaleIn.stepScalingPolicyConfiguration.stepAdjustments[0].scalingAdjustment, 0);
        assert.deepStrictEqual(one(run.resources, T.service, "cgap-ingester").ignoreChanges, ["desiredCount"]);
        assert.deepStrictEqual(one(run.resources, T.service, "cgap-wsgi").ignoreChanges, []);
    });
});

describe("WSGI deployment alarms (rollback on top of the circuit breaker)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "mastertest", preview: false });
    });

    it("alarms on the WSGI target group's 5xx answers and unhealthy hosts", () => {
        const alb = one(run.resources, T.loadBalancer, "cgap-alb");
        const tg = one(run.resources, T.targetGroup, "cgap-wsgi");
        const fivexx = inputs(one(run.resources, ALARM, "cgap-wsgi-target-5xx"));
        const unhealthy = inputs(one(run.resources, ALARM, "cgap-wsgi-unhealthy-hosts"));
        for (const alarm of [fivexx, unhealthy]) {
            assert.strictEqual(alarm.namespace, "AWS/ApplicationELB");
            assert.deepStrictEqual(alarm.dimensions, { LoadBalancer: alb.outputs.arnSuffix, TargetGroup: tg.outputs.arnSuffix });
            assert.strictEqual(alarm.comparisonOperator, "GreaterThanThreshold");
            assert.strictEqual(alarm.treatMissingData, "notBreaching");
        }
        assert.deepStrictEqual([fivexx.name, fivexx.metricName, fivexx.statistic], ["cgap-mastertest-wsgi-target-5xx", "HTTPCode_Target_5XX_Count", "Sum"]);
        assert.deepStrictEqual(
            [unhealthy.name, unhealthy.metricName, unhealthy.statistic, unhealthy.threshold],
            ["cgap-mastertest-wsgi-unhealthy-hosts", "UnHealthyHostCount", "Maximum", 0],
        );
    });

    it("wires both alarms into the WSGI service with rollback, keeping the circuit breaker; other services get none", () => {
        const wsgi = one(run.resources, T.service, "cgap-wsgi");
        assert.deepStrictEqual(inputs(wsgi).alarms, {
            alarmNames: ["cgap-mastertest-wsgi-target-5xx", "cgap-mastertest-wsgi-unhealthy-hosts"],
            enable: true,
            rollback: true,
        });
        assert.deepStrictEqual(inputs(wsgi).deploymentCircuitBreaker, { enable: true, rollback: true });
        for (const name of ["cgap-wsgi-target-5xx", "cgap-wsgi-unhealthy-hosts"]) {
            assert.ok(wsgi.dependencies.includes(one(run.resources, ALARM, name).urn), `the service waits for ${name}`);
        }
        for (const role of ["indexer", "ingester"]) {
            assert.strictEqual(inputs(one(run.resources, T.service, `cgap-${role}`)).alarms, undefined, role);
        }
    });
});

describe("ECS Exec (cgap:exec) and ALB access logs (cgap:accessLogsBucket)", () => {
    let off: ProgramResult;
    let on: ProgramResult;
    before(async () => {
        off = await runProgram({ stack: "mastertest", preview: false });
        on = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:exec": "ingester", "cgap:accessLogsBucket": "cgap-mastertest-alb-logs" },
        });
    });

    function taskRoleActions(run: ProgramResult): string[] {
        return statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).flatMap((s) => s.Action);
    }

    it("is off by default: no service accepts exec and the task role has no ssmmessages action", () => {
        for (const service of ofType(off.resources, T.service)) {
            assert.strictEqual(inputs(service).enableExecuteCommand, false, service.name);
        }
        assert.deepStrictEqual(taskRoleActions(off).filter((a) => a.startsWith("ssmmessages:")), []);
    });

    it("turns exec on for the named role only, and grants the task role the SSM channels", () => {
        const enabled = Object.fromEntries(ofType(on.resources, T.service).map((s) => [s.name, inputs(s).enableExecuteCommand]));
        assert.deepStrictEqual(enabled, { "cgap-wsgi": false, "cgap-indexer": false, "cgap-ingester": true });
        const exec = statements(one(on.resources, T.rolePolicy, "cgap-roles-task-policy")).find((s) => s.Sid === "EcsExec");
        assert.deepStrictEqual(exec?.Action, [
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]);
        assert.strictEqual(exec?.Resource, "*");
        const execution = statements(one(on.resources, T.rolePolicy, "cgap-roles-execution-policy")).flatMap((s) => s.Action);
        assert.ok(!execution.some((a) => a.startsWith("ssm")), "the execution role never needs them");
    });

    it("writes ALB access logs to the configured bucket under the environment's prefix, and none without one", () => {
        assert.deepStrictEqual(inputs(one(on.resources, T.loadBalancer, "cgap-alb")).accessLogs, {
            bucket: "cgap-mastertest-alb-logs",
            prefix: "cgap-mastertest",
            enabled: true,
        });
        assert.strictEqual(inputs(one(off.resources, T.loadBalancer, "cgap-alb")).accessLogs, undefined);
    });
});

describe("count: 0 stops a service whatever min and max say (cut-over, the way back)", () => {
    const stopped = { "cgap:sizing": JSON.stringify({ wsgi: { count: 2, max: 4 }, indexer: { count: 0, max: 8 }, ingester: { count: 0, max: 4, capacity: "on-demand" } }) };
    let running: ProgramResult;
    let after: ProgramResult;
    before(async () => {
        running = await runProgram({ stack: "production", preview: false });
        after = await runProgram({ stack: "production", preview: false, config: stopped, state: running.resources });
    });

    it("leaves no scalable target, scaling policy or queue alarm on the stopped workers", () => {
        for (const role of ["indexer", "ingester"]) {
            assert.deepStrictEqual(ofType(after.resources, TARGET).filter((t) => t.name.startsWith(`cgap-${role}`)), [], role);
            assert.deepStrictEqual(scalingPolicies(after, role), [], role);
            assert.deepStrictEqual(ofType(after.resources, ALARM).filter((a) => a.name.startsWith(`cgap-${role}-`)), [], role);
        }
        assert.strictEqual(ofType(after.resources, TARGET).length, 1, "WSGI stays autoscaled");
    });

    it("sets an existing autoscaled service's desiredCount to 0, which ignoreChanges would otherwise keep", () => {
        for (const role of ["indexer", "ingester"]) {
            assert.deepStrictEqual(one(running.resources, T.service, `cgap-${role}`).ignoreChanges, ["desiredCount"], role);
            const service = one(after.resources, T.service, `cgap-${role}`);
            assert.deepStrictEqual(service.ignoreChanges, [], role);
            // What the provider receives after the engine's ignoreChanges against the old state.
            assert.strictEqual(service.inputs.desiredCount, 0, role);
        }
        const plan = rolloutPlan(after, parseStackConfig(ownKeys(after.config)).sizing);
        assert.deepStrictEqual(
            plan.filter((r) => r.role === "indexer" || r.role === "ingester").map((r) => [r.min, r.count, r.max]),
            [[0, 0, 0], [0, 0, 0]],
        );
        assert.doesNotMatch(formatPlan(plan).split("\n").find((l) => l.startsWith("indexer"))!, /autoscaled/);
    });
});
