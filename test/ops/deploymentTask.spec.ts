import * as assert from "node:assert/strict";
import { CloudWatchLogsClient, GetLogEventsCommand, type GetLogEventsCommandInput } from "@aws-sdk/client-cloudwatch-logs";
import {
    DescribeServicesCommand,
    DescribeTasksCommand,
    ECSClient,
    RunTaskCommand,
    type RunTaskCommandInput,
    type Service,
    type Task,
} from "@aws-sdk/client-ecs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { describeError, EXIT } from "../../ops/cli";
import {
    checkInitialDeployment,
    readDeploymentTaskInputs,
    runDeploymentTask,
    STARTED_BY,
    type DeploymentTaskInputs,
} from "../../ops/aws/deploymentTask";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { CLUSTER_ARN, REGION, ACCOUNT, sampleOutputs, settledService, taskDefinitionArn, without } from "./fixtures";

const TASK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/cgap-mastertest/${TASK_ID}`;
const STREAM = `cgap-deployment/DeploymentAction/${TASK_ID}`;

function inputs(outputs = sampleOutputs()): DeploymentTaskInputs {
    return readDeploymentTaskInputs(new StackOutputs("mastertest", outputs));
}

function settledServices(): Service[] {
    return [
        settledService("cgap-wsgi", taskDefinitionArn("CGAPWSGI", 3), 8),
        settledService("cgap-indexer", taskDefinitionArn("CGAPIndexer", 3), 4),
        settledService("cgap-ingester", taskDefinitionArn("CGAPIngester", 3), 1),
    ];
}

function task(lastStatus: string, extra: Partial<Task> = {}): Task {
    return { taskArn: TASK_ARN, lastStatus, containers: [{ name: "DeploymentAction", lastStatus }], ...extra };
}

function stopped(exitCode: number | undefined, extra: Partial<Task> = {}): Task {
    return task("STOPPED", {
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        containers: [{ name: "DeploymentAction", lastStatus: "STOPPED", exitCode }],
        ...extra,
    });
}

interface Harness {
    ecs: ECSClient;
    logs: CloudWatchLogsClient;
    ecsMock: AwsClientStub<ECSClient>;
    logsMock: AwsClientStub<CloudWatchLogsClient>;
    printed: string[];
    status: string[];
    getLogInputs: GetLogEventsCommandInput[];
    /** DescribeTasks polls (`poll <n>`) and printed lines, in the order they happened. */
    timeline: string[];
    run: (i?: DeploymentTaskInputs, initial?: boolean, capacityProvider?: "FARGATE" | "FARGATE_SPOT") => Promise<number>;
}

/**
 * A cluster whose services are `services`, whose RunTask starts TASK_ARN, whose DescribeTasks
 * walks through `states` (one per poll, the last repeating) and whose log stream gains the lines
 * of `linesPerPoll[i]` at poll i (the stream does not exist before the first batch).
 */
function harness(opts: { services?: Service[]; states: Task[]; linesPerPoll?: string[][] }): Harness {
    const ecs = new ECSClient({ region: REGION });
    const logs = new CloudWatchLogsClient({ region: REGION });
    const ecsMock = mockClient(ecs);
    const logsMock = mockClient(logs);
    const printed: string[] = [];
    const status: string[] = [];
    const getLogInputs: GetLogEventsCommandInput[] = [];
    const timeline: string[] = [];

    ecsMock.on(DescribeServicesCommand).resolves({ services: opts.services ?? settledServices(), failures: [] });
    ecsMock.on(RunTaskCommand).resolves({ tasks: [task("PROVISIONING")], failures: [] });
    let poll = 0;
    const stream: string[] = [];
    ecsMock.on(DescribeTasksCommand).callsFake(() => {
        const state = opts.states[Math.min(poll, opts.states.length - 1)];
        stream.push(...(opts.linesPerPoll?.[poll] ?? []));
        poll++;
        timeline.push(`poll ${poll}`);
        return { tasks: [state], failures: [] };
    });
    // Two events per page; the forward token is the index of the next event.
    logsMock.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => {
        getLogInputs.push(input);
        if (stream.length === 0) {
            const err = new Error("The specified log stream does not exist.");
            err.name = "ResourceNotFoundException";
            throw err;
        }
        const from = input.nextToken === undefined ? 0 : Number(input.nextToken.slice(2));
        const page = stream.slice(from, from + 2);
        return {
            events: page.map((message, i) => ({ timestamp: 1_700_000_000_000 + from + i, message: `${message}\n` })),
            nextForwardToken: `f/${String(from + page.length).padStart(6, "0")}`,
        };
    });

    return {
        ecs,
        logs,
        ecsMock,
        logsMock,
        printed,
        status,
        getLogInputs,
        timeline,
        run: (i = inputs(), initial = false, capacityProvider = undefined) =>
            runDeploymentTask(i, {
                initial,
                capacityProvider,
                ecs,
                logs,
                logLine: (l) => {
                    printed.push(l);
                    timeline.push(l);
                },
                status: (l) => status.push(l),
                pollIntervalMs: 0,
                sleep: async () => {},
            }),
    };
}

async function rejection(p: Promise<unknown>): Promise<{ message: string; exitCode: number }> {
    try {
        await p;
    } catch (err) {
        return describeError(err);
    }
    assert.fail("expected the promise to reject");
}

describe("deployment-task", () => {
    it("runs the task with the stack's network settings and capacity provider", async () => {
        const h = harness({ states: [stopped(0)] });
        await h.run();
        const calls = h.ecsMock.commandCalls(RunTaskCommand);
        assert.equal(calls.length, 1);
        const input = calls[0].args[0].input as RunTaskCommandInput;
        const expected = sampleOutputs().deploymentTask as Record<string, unknown>;
        assert.equal(input.cluster, expected.cluster);
        assert.equal(input.taskDefinition, expected.taskDefinitionArn);
        assert.equal(input.count, 1);
        assert.equal(input.launchType, undefined, "a launch type next to a capacity provider strategy is rejected by ECS");
        assert.deepEqual(input.capacityProviderStrategy, [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
        assert.deepEqual(input.networkConfiguration, {
            awsvpcConfiguration: {
                subnets: expected.subnets,
                securityGroups: expected.securityGroups,
                assignPublicIp: "DISABLED",
            },
        });
        assert.equal(input.startedBy, STARTED_BY);
    });

    it("runs the routine sequence by default: no container override", async () => {
        const h = harness({ states: [stopped(0)] });
        await h.run();
        const input = h.ecsMock.commandCalls(RunTaskCommand)[0].args[0].input as RunTaskCommandInput;
        assert.equal(input.overrides, undefined);
        assert.match(h.status[0], /: routine deployment$/);
    });

    it("asks the container for the app's initial sequence with --initial (INITIAL_DEPLOYMENT)", async () => {
        const h = harness({ states: [stopped(0)] });
        await h.run(inputs(), true);
        const input = h.ecsMock.commandCalls(RunTaskCommand)[0].args[0].input as RunTaskCommandInput;
        assert.deepEqual(input.overrides, {
            containerOverrides: [{ name: "DeploymentAction", environment: [{ name: "INITIAL_DEPLOYMENT", value: "true" }] }],
        });
        assert.match(h.status[0], /: initial deployment$/);
    });

    describe("--initial on production", () => {
        const on = (environment: string | undefined, stack = "production") => {
            const outputs = sampleOutputs();
            const task = outputs.deploymentTask as Record<string, unknown>;
            if (environment === undefined) {
                delete task.environment;
            } else {
                task.environment = environment;
            }
            return readDeploymentTaskInputs(new StackOutputs(stack, outputs));
        };
        const refusal = (f: () => void) => {
            try {
                f();
            } catch (err) {
                return describeError(err);
            }
            return assert.fail("expected a refusal");
        };

        it("is refused without --confirm-production naming the stack, exit 2, before anything is asked of AWS", () => {
            const { message, exitCode } = refusal(() => checkInitialDeployment(on("production"), true, undefined));
            assert.equal(exitCode, EXIT.usage);
            assert.match(message, /^not starting an initial deployment: stack production is production, .* add --confirm-production production$/);
        });

        it("is refused with a confirmation naming another stack (a pasted command)", () => {
            const { message } = refusal(() => checkInitialDeployment(on("production"), true, "mastertest"));
            assert.match(message, /\(--confirm-production was "mastertest"\)$/);
        });

        it("counts a stack whose outputs do not say its environment as production", () => {
            const { message } = refusal(() => checkInitialDeployment(on(undefined, "cgap-old"), true, undefined));
            assert.match(message, /the outputs of stack cgap-old do not say its environment .* so it counts as production/);
            assert.doesNotThrow(() => checkInitialDeployment(on(undefined, "cgap-old"), true, "cgap-old"));
        });

        it("runs with the stack's own name as confirmation, and needs none on development or staging", () => {
            assert.doesNotThrow(() => checkInitialDeployment(on("production"), true, "production"));
            assert.doesNotThrow(() => checkInitialDeployment(on("development", "mastertest"), true, undefined));
            assert.doesNotThrow(() => checkInitialDeployment(on("staging", "staging"), true, undefined));
            assert.doesNotThrow(() => checkInitialDeployment(on("production"), false, undefined));
        });

        it("refuses --confirm-production without --initial", () => {
            assert.match(refusal(() => checkInitialDeployment(on("production"), false, "production")).message, /only goes with --initial/);
        });
    });

    it("uses on-demand FARGATE when the stack says so", async () => {
        const outputs = sampleOutputs();
        (outputs.deploymentTask as Record<string, unknown>).capacityProvider = "FARGATE";
        const h = harness({ states: [stopped(0)] });
        await h.run(inputs(outputs));
        const input = h.ecsMock.commandCalls(RunTaskCommand)[0].args[0].input as RunTaskCommandInput;
        assert.deepEqual(input.capacityProviderStrategy, [{ capacityProvider: "FARGATE", weight: 1 }]);
    });

    it("prints the container's log lines in order as they arrive and returns exit code 0", async () => {
        const h = harness({
            states: [task("PENDING"), task("RUNNING"), task("RUNNING"), stopped(0)],
            linesPerPoll: [
                [],
                ["Assuming identity cgap-mastertest", "clear-db-es-contents: cleared", "create-mapping-on-deploy"],
                ["load-data --prod: 1200 items"],
                ["load-access-keys: done", "deployment finished"],
            ],
        });
        const code = await h.run();
        assert.equal(code, 0);
        assert.deepEqual(h.printed, [
            "Assuming identity cgap-mastertest",
            "clear-db-es-contents: cleared",
            "create-mapping-on-deploy",
            "load-data --prod: 1200 items",
            "load-access-keys: done",
            "deployment finished",
        ]);
        // Each line is printed at the poll where it appeared, not after the task stopped.
        assert.deepEqual(h.timeline, [
            "poll 1",
            "poll 2",
            "Assuming identity cgap-mastertest",
            "clear-db-es-contents: cleared",
            "create-mapping-on-deploy",
            "poll 3",
            "load-data --prod: 1200 items",
            "poll 4",
            "load-access-keys: done",
            "deployment finished",
        ]);
        // The stream read is the awslogs one, followed by forward tokens from the head.
        for (const input of h.getLogInputs) {
            assert.equal(input.logGroupName, "/ecs/cgap-mastertest-10530356517158578424743423");
            assert.equal(input.logStreamName, STREAM);
            assert.equal(input.startFromHead, true);
        }
        const tokens = h.getLogInputs.map((i) => i.nextToken).filter((t) => t !== undefined);
        assert.deepEqual(tokens, [...tokens].sort(), "tokens only move forward");
        assert.ok(h.status.some((l) => l.includes(TASK_ID) && l.includes("FARGATE_SPOT")), h.status.join("\n"));
        assert.ok(h.status.some((l) => l.includes("exited with 0")));
    });

    it("propagates a non-zero container exit code", async () => {
        const h = harness({
            states: [task("RUNNING"), stopped(3)],
            linesPerPoll: [["load-data --prod"], ["Traceback (most recent call last):", "KeyError: 'ENV_NAME'"]],
        });
        const code = await h.run();
        assert.equal(code, 3);
        assert.deepEqual(h.printed, ["load-data --prod", "Traceback (most recent call last):", "KeyError: 'ENV_NAME'"]);
        const last = h.status[h.status.length - 1];
        assert.match(last, /stopped: a deployment step failed: the container exited with 3 \(stop code EssentialContainerExited: Essential container in task exited\); the log above names the step\./);
        assert.match(last, /Next: fix what the log shows, then run it again: npm run deployment-task -- --stack mastertest /);
    });

    // Stop codes and reasons as ECS writes them (TaskStopCode; "Your Spot Task was interrupted." from
    // the ECS developer guide's Fargate Spot termination notice; "Task stopped by user" for StopTask).
    it("tells a Spot reclaim from a failed step, though the killed container has an exit code (exit 5)", async () => {
        const h = harness({
            states: [
                task("RUNNING"),
                stopped(143, { stopCode: "SpotInterruption", stoppedReason: "Your Spot Task was interrupted." }),
            ],
            linesPerPoll: [["deployment: running create-mapping-on-deploy production.ini --app-name app --staggered"]],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.interrupted);
        assert.match(
            message,
            /^task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 did not finish: Fargate Spot reclaimed the task's capacity while it ran \(stop code SpotInterruption: Your Spot Task was interrupted\.\); the container exited with 143: the step in progress did not finish/,
        );
        assert.match(message, /Next: run it again on on-demand capacity: npm run deployment-task -- --stack mastertest --capacity on-demand/);
    });

    it("reads a termination notice that names Spot as a Spot reclaim too", async () => {
        const h = harness({
            states: [stopped(undefined, { stopCode: "TerminationNotice", stoppedReason: "Your Spot Task was interrupted." })],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.interrupted);
        assert.match(message, /Fargate Spot reclaimed/);
    });

    it("says a person stopped it, and not that a step failed (exit 5)", async () => {
        const h = harness({
            states: [stopped(137, { stopCode: "UserInitiated", stoppedReason: "Task stopped by user" })],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.interrupted);
        assert.match(message, /someone \(or a tool\) stopped the task \(stop code UserInitiated: Task stopped by user\); the container exited with 137/);
        assert.match(message, /CloudTrail StopTask/);
    });

    it("reruns on the capacity given with --capacity instead of the stack's", async () => {
        const h = harness({ states: [stopped(0)] });
        assert.equal(await h.run(inputs(), false, "FARGATE"), 0);
        const input = h.ecsMock.commandCalls(RunTaskCommand)[0].args[0].input as RunTaskCommandInput;
        assert.deepEqual(input.capacityProviderStrategy, [{ capacityProvider: "FARGATE", weight: 1 }]);
        assert.ok(h.status[0].includes("(FARGATE)"), h.status[0]);
    });

    it("reports a task that fails to place, with RunTask's reason, as a one-line AWS failure", async () => {
        const h = harness({ states: [stopped(0)] });
        // RunTask's `failures` reason for Fargate capacity, as ECS writes it.
        h.ecsMock.on(RunTaskCommand).resolves({
            tasks: [],
            failures: [
                {
                    arn: CLUSTER_ARN,
                    reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone",
                },
            ],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.aws);
        assert.match(message, /could not be placed on FARGATE_SPOT in cluster /);
        assert.match(message, /Capacity is unavailable at this time\. Please try again later or in a different availability zone; nothing ran\./);
        assert.match(message, /Run it again in a few minutes, or on the other capacity: npm run deployment-task -- --stack mastertest --capacity on-demand$/);
        assert.ok(!message.includes("\n"));
        assert.equal(h.ecsMock.commandCalls(DescribeTasksCommand).length, 0);
    });

    it("reports a task stopped without an exit code with its stopped reason", async () => {
        const h = harness({
            states: [
                stopped(undefined, {
                    stopCode: "TaskFailedToStart",
                    stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                }),
            ],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.aws);
        assert.match(message, /failed to start: the container never started \(stop code TaskFailedToStart: CannotPullContainerError: pull image manifest/);
        assert.match(message, /no deployment step ran\. Next: fix what the reason names/);
    });

    for (const [what, mutate, expected] of [
        [
            "two deployments",
            (s: Service) => {
                s.deployments = [...(s.deployments ?? []), { status: "ACTIVE", rolloutState: "IN_PROGRESS" }];
            },
            /wsgi \(cgap-wsgi\): 2 deployments/,
        ],
        [
            "a PRIMARY deployment in progress",
            (s: Service) => {
                s.deployments![0].rolloutState = "IN_PROGRESS";
            },
            /wsgi \(cgap-wsgi\): PRIMARY deployment IN_PROGRESS/,
        ],
        [
            "running below desired",
            (s: Service) => {
                s.runningCount = 6;
            },
            /wsgi \(cgap-wsgi\): running 6\/8/,
        ],
    ] as const) {
        it(`refuses to start while a service is still deploying (${what}); RunTask is never called`, async () => {
            const services = settledServices();
            mutate(services[0]);
            const h = harness({ services, states: [stopped(0)] });
            const { message, exitCode } = await rejection(h.run());
            assert.equal(exitCode, EXIT.notReady);
            assert.match(message, expected);
            assert.equal(h.ecsMock.commandCalls(RunTaskCommand).length, 0);
            const described = h.ecsMock.commandCalls(DescribeServicesCommand)[0].args[0].input as {
                cluster: string;
                services: string[];
            };
            assert.equal(described.cluster, "cgap-mastertest");
            assert.deepEqual(described.services, ["cgap-wsgi", "cgap-indexer", "cgap-ingester"]);
        });
    }

    it("stops with an error when a service is missing from the cluster", async () => {
        const h = harness({ services: settledServices().slice(0, 2), states: [stopped(0)] });
        h.ecsMock.on(DescribeServicesCommand).resolves({
            services: settledServices().slice(0, 2),
            failures: [{ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/cgap-mastertest/cgap-ingester`, reason: "MISSING" }],
        });
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.aws);
        assert.match(message, /service cgap-ingester \(ingester\) not found in cluster cgap-mastertest \(MISSING\)/);
        assert.equal(h.ecsMock.commandCalls(RunTaskCommand).length, 0);
    });

    it("turns missing credentials into one line and a distinct exit code", async () => {
        const h = harness({ states: [stopped(0)] });
        const err = Object.assign(new Error("Could not load credentials from any providers"), {
            name: "CredentialsProviderError",
            tryNextLink: false,
        });
        h.ecsMock.on(DescribeServicesCommand).rejects(err);
        const { message, exitCode } = await rejection(h.run());
        assert.equal(exitCode, EXIT.aws);
        assert.notEqual(exitCode, EXIT.usage);
        assert.match(message, /^no AWS credentials found \(Could not load credentials from any providers\)/);
        assert.ok(!message.includes("\n"));
        assert.equal(h.ecsMock.commandCalls(RunTaskCommand).length, 0);
    });

    it("gives up after the timeout and says the task was left running", async () => {
        const h = harness({ states: [task("RUNNING")] });
        let clock = 0;
        const run = runDeploymentTask(inputs(), {
            ecs: h.ecs,
            logs: h.logs,
            logLine: () => {},
            status: () => {},
            pollIntervalMs: 60_000,
            timeoutMs: 5 * 60_000,
            sleep: async (ms) => {
                clock += ms;
            },
            now: () => clock,
        });
        const { message, exitCode } = await rejection(run);
        assert.equal(exitCode, EXIT.aws);
        assert.match(message, /still RUNNING after 5 min and was left running; stop it with: aws ecs stop-task/);
        assert.equal(h.ecsMock.commandCalls(DescribeTasksCommand).length, 6);
    });

    for (const missing of ["deploymentTask.subnets", "deploymentTask.taskDefinitionArn", "serviceNames.indexer", "clusterName"]) {
        it(`names a missing stack output (${missing}) before any AWS call, exit 2`, () => {
            assert.throws(
                () => inputs(without(sampleOutputs(), missing)),
                (err: unknown) => {
                    const { message, exitCode } = describeError(err);
                    assert.equal(exitCode, EXIT.usage);
                    assert.equal(message, `stack "mastertest": output "${missing}" is missing (has \`pulumi up\` run with this program?)`);
                    return true;
                },
            );
        });
    }

    it("rejects an empty subnet list and an unknown capacity provider", () => {
        const outputs = sampleOutputs();
        (outputs.deploymentTask as Record<string, unknown>).subnets = [];
        assert.throws(() => inputs(outputs), /output "deploymentTask.subnets" is an empty list/);
        const other = sampleOutputs();
        (other.deploymentTask as Record<string, unknown>).capacityProvider = "EC2";
        assert.throws(() => inputs(other), /output "deploymentTask.capacityProvider" should be one of FARGATE_SPOT, FARGATE, got "EC2"/);
    });
});
