// `npm run deployment-task -- --stack <name> [--outputs <file>] [--initial [--confirm-production <stack>]]`
//
// Runs the one-shot deployment task (the steps of the app's entrypoint_deployment.sh, routine by
// default, initial with --initial: components/appContract.ts DEPLOYMENT_STEPS) the way
// production ran it by hand in the console: after every service has finished rolling out, in the
// stack's private subnets with its security groups, on the stack's capacity provider. Streams the
// container's CloudWatch log lines and exits with its exit code.

import {
    CloudWatchLogsClient,
    GetLogEventsCommand,
    type GetLogEventsCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import {
    DescribeServicesCommand,
    DescribeTasksCommand,
    ECSClient,
    RunTaskCommand,
    type Service,
    type Task,
} from "@aws-sdk/client-ecs";
import {
    AwsFailure,
    EXIT,
    InterruptedError,
    UsageError,
    NotReadyError,
    positiveNumber,
    runMain,
    type CommandSpec,
} from "../cli";
import { commandContext } from "./command";
import {
    SERVICE_ROLES,
    readDeploymentTask,
    readServiceNames,
    type DeploymentTaskOutput,
    type ServiceRole,
    type StackOutputs,
} from "./stackOutputs";
import { capacityProvider, type CapacityProviderName } from "../../components/roles";

/** Value of RunTask's `startedBy`, so the console and `aws ecs list-tasks --started-by` find these runs. */
export const STARTED_BY = "cgap-deployment-task";
export const DEFAULT_POLL_INTERVAL_MS = 6_000;
export const DEFAULT_TIMEOUT_MINUTES = 60;
/** Upper bound of GetLogEvents pages read per poll, so a misbehaving stream cannot spin forever. */
const MAX_LOG_PAGES_PER_POLL = 100;

/** What the command needs from the stack's outputs. */
export interface DeploymentTaskInputs {
    stack: string;
    /** Cluster of the long-lived services (`clusterName`). */
    clusterName: string;
    serviceNames: Record<ServiceRole, string>;
    task: DeploymentTaskOutput;
    /** The stack's cgap:environment (`deploymentTask.environment`); undefined in older outputs. */
    environment?: string;
}

export function readDeploymentTaskInputs(o: StackOutputs): DeploymentTaskInputs {
    return {
        stack: o.stack,
        clusterName: o.string("clusterName"),
        serviceNames: readServiceNames(o),
        task: readDeploymentTask(o),
        environment: o.optionalString("deploymentTask.environment"),
    };
}

/** What the container reads to run the app's initial sequence (entrypoint_deployment.sh v15.6.0). */
export const INITIAL_DEPLOYMENT_VARIABLE = "INITIAL_DEPLOYMENT";

/**
 * An initial deployment loads every insert again (and on development wipes first). On a stack
 * that is production, or whose outputs do not say what it is, it needs `--confirm-production`
 * naming the stack: a bare `--initial` typed into the wrong terminal must not do it.
 */
export function checkInitialDeployment(inputs: DeploymentTaskInputs, initial: boolean, confirm: string | undefined): void {
    if (confirm !== undefined && !initial) {
        throw new UsageError("--confirm-production only goes with --initial");
    }
    if (!initial || (inputs.environment !== undefined && inputs.environment !== "production")) {
        return;
    }
    const what =
        inputs.environment === undefined
            ? `the outputs of stack ${inputs.stack} do not say its environment (deploymentTask.environment), so it counts as production`
            : `stack ${inputs.stack} is production`;
    if (confirm !== inputs.stack) {
        throw new UsageError(
            `not starting an initial deployment: ${what}, and an initial deployment loads every insert again; ` +
                `to do it anyway add --confirm-production ${inputs.stack}` +
                (confirm === undefined ? "" : ` (--confirm-production was "${confirm}")`),
        );
    }
}

export interface RunDeploymentTaskOptions {
    ecs: ECSClient;
    logs: CloudWatchLogsClient;
    /** Receives each CloudWatch log line of the container, in order. */
    logLine: (line: string) => void;
    /** Receives progress lines (task started, status changes, result). */
    status: (line: string) => void;
    pollIntervalMs?: number;
    timeoutMs?: number;
    /** Run the app's initial sequence (INITIAL_DEPLOYMENT in the container) instead of the routine one. */
    initial?: boolean;
    /** Capacity provider for this run instead of the stack's (`--capacity`). */
    capacityProvider?: CapacityProviderName;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Why a service is not settled, or undefined when it is. */
export function rolloutProblem(service: Service): string | undefined {
    const problems: string[] = [];
    const deployments = service.deployments ?? [];
    if (deployments.length > 1) {
        problems.push(`${deployments.length} deployments`);
    }
    const primary = deployments.find((d) => d.status === "PRIMARY");
    if (primary?.rolloutState === "IN_PROGRESS") {
        problems.push("PRIMARY deployment IN_PROGRESS");
    } else if (primary?.rolloutState === "FAILED") {
        problems.push(`PRIMARY deployment FAILED${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ""}`);
    }
    const running = service.runningCount ?? 0;
    const desired = service.desiredCount ?? 0;
    if (running !== desired) {
        problems.push(`running ${running}/${desired}`);
    }
    return problems.length > 0 ? problems.join(", ") : undefined;
}

/**
 * Refuses (NotReadyError, exit 4) while any service is still rolling out: the deployment task
 * loads data through the new code and must not race the old tasks.
 */
export async function assertServicesSettled(ecs: ECSClient, inputs: DeploymentTaskInputs): Promise<void> {
    const names = SERVICE_ROLES.map((r) => inputs.serviceNames[r]);
    const res = await ecs.send(new DescribeServicesCommand({ cluster: inputs.clusterName, services: names }));
    const byName = new Map((res.services ?? []).map((s) => [s.serviceName, s]));
    const notReady: string[] = [];
    for (const role of SERVICE_ROLES) {
        const name = inputs.serviceNames[role];
        const service = byName.get(name);
        if (service === undefined) {
            const failure = (res.failures ?? []).find((f) => f.arn?.endsWith(`/${name}`) || f.arn === name);
            throw new AwsFailure(
                `service ${name} (${role}) not found in cluster ${inputs.clusterName}` +
                    `${failure?.reason ? ` (${failure.reason})` : ""}; are the stack outputs current?`,
            );
        }
        if (service.status !== undefined && service.status !== "ACTIVE") {
            throw new AwsFailure(`service ${name} (${role}) is ${service.status}, not ACTIVE`);
        }
        const problem = rolloutProblem(service);
        if (problem !== undefined) {
            notReady.push(`${role} (${name}): ${problem}`);
        }
    }
    if (notReady.length > 0) {
        throw new NotReadyError(
            `not starting the deployment task while services are rolling out: ${notReady.join("; ")}; ` +
                "run it again once they are stable",
        );
    }
}

export function taskIdOf(taskArn: string): string {
    return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}

/** The awslogs stream of the task's container: `<prefix>/<containerName>/<taskId>`. */
export function logStreamName(task: DeploymentTaskOutput, taskArn: string): string {
    return `${task.logStreamPrefix}/${task.containerName}/${taskIdOf(taskArn)}`;
}

/** Follows a log stream from the head, one forward token at a time. */
class LogFollower {
    private token: string | undefined;

    constructor(
        private readonly logs: CloudWatchLogsClient,
        private readonly logGroupName: string,
        private readonly logStreamName: string,
        private readonly emit: (line: string) => void,
    ) {}

    /** Prints every event available now; returns when the stream has nothing more. */
    async drain(): Promise<void> {
        for (let page = 0; page < MAX_LOG_PAGES_PER_POLL; page++) {
            const input: GetLogEventsCommandInput = {
                logGroupName: this.logGroupName,
                logStreamName: this.logStreamName,
                startFromHead: true,
            };
            if (this.token !== undefined) {
                input.nextToken = this.token;
            }
            let res;
            try {
                res = await this.logs.send(new GetLogEventsCommand(input));
            } catch (err) {
                // The awslogs driver creates the stream when the container starts.
                if ((err as { name?: string }).name === "ResourceNotFoundException") {
                    return;
                }
                throw err;
            }
            for (const event of res.events ?? []) {
                this.emit((event.message ?? "").replace(/\r?\n$/, ""));
            }
            const next = res.nextForwardToken;
            // GetLogEvents returns the token it was given once the end of the stream is reached.
            if (next === undefined || next === this.token) {
                return;
            }
            this.token = next;
        }
    }
}

async function describeTask(ecs: ECSClient, cluster: string, taskArn: string): Promise<Task> {
    const res = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const task = res.tasks?.find((t) => t.taskArn === taskArn) ?? res.tasks?.[0];
    if (task === undefined) {
        const reason = res.failures?.[0]?.reason;
        throw new AwsFailure(`task ${taskIdOf(taskArn)} cannot be described${reason ? ` (${reason})` : ""}`);
    }
    return task;
}

/**
 * Runs the deployment task and follows it to the end. Returns the container's exit code;
 * throws a CliError for everything that is not a clean stop.
 */
/**
 * Why a stopped deployment task stopped, read from its stop code, stopped reason and the
 * container's exit code, and what the operator does next. The codes are ECS's TaskStopCode values
 * (ECS API reference, Task.stopCode); the reasons are the texts ECS writes for them: "Your Spot Task
 * was interrupted." for a Fargate Spot reclaim (ECS developer guide, "AWS Fargate capacity
 * providers"), "Task stopped by user" or the StopTask `reason` for a stop by hand,
 * "Essential container in task exited" when the container ended by itself, and an error such as
 * `CannotPullContainerError: ...` or `ResourceInitializationError: ...` when it never started
 * ("Stopped tasks error codes"). The stop code is read before the exit code: a container stopped
 * by a Spot reclaim has an exit code too (143 after SIGTERM, 137 after SIGKILL), and it is not the
 * deployment's own failure.
 */
export type StopKind = "succeeded" | "container-failed" | "interrupted" | "stopped-by-user" | "failed-to-start" | "stopped";

export interface StopVerdict {
    kind: StopKind;
    /** The container's exit code, when it has one. */
    exitCode?: number;
    /** One sentence: what happened. */
    what: string;
    /** One sentence: what to do about it. */
    next: string;
}

const SPOT_REASON = /spot/i;

/** Reads a stopped task: the stop code first, then the container's exit code. */
export function classifyStop(task: Task, containerName: string, rerun: string): StopVerdict {
    const container = (task.containers ?? []).find((c) => c.name === containerName);
    const exitCode = container?.exitCode ?? undefined;
    const reason = [task.stoppedReason, container?.reason].filter((x) => x !== undefined && x !== "").join("; ");
    const code = task.stopCode;
    const said = `(stop code ${code ?? "none"}${reason ? `: ${reason}` : ""})`;
    const exited = exitCode === undefined ? "" : `; the container exited with ${exitCode}`;
    if (code === "SpotInterruption" || (code === "TerminationNotice" && SPOT_REASON.test(reason))) {
        return {
            kind: "interrupted",
            exitCode,
            what: `Fargate Spot reclaimed the task's capacity while it ran ${said}${exited}: the step in progress did not finish and the steps after it did not run`,
            next: `run it again on on-demand capacity: ${rerun} --capacity on-demand (every step may be re-run; see docs/operating.md, When a rollout fails)`,
        };
    }
    if (code === "UserInitiated") {
        return {
            kind: "stopped-by-user",
            exitCode,
            what: `someone (or a tool) stopped the task ${said}${exited}: the step in progress did not finish and the steps after it did not run`,
            next: `find out who and why (CloudTrail StopTask), then run it again: ${rerun}`,
        };
    }
    if (code === "TaskFailedToStart") {
        return {
            kind: "failed-to-start",
            exitCode,
            what: `the container never started ${said}: no deployment step ran`,
            next:
                "fix what the reason names (CannotPullContainerError: the image or the execution role's ECR access; " +
                `ResourceInitializationError: the identity secret, the log group or the subnets' route to AWS), then run it again: ${rerun}`,
        };
    }
    if (exitCode === 0 && (code === undefined || code === "EssentialContainerExited")) {
        return { kind: "succeeded", exitCode, what: `the container exited with 0 ${said}`, next: "" };
    }
    if (exitCode !== undefined && (code === undefined || code === "EssentialContainerExited")) {
        return {
            kind: "container-failed",
            exitCode,
            what: `a deployment step failed: the container exited with ${exitCode} ${said}; the log above names the step`,
            next: `fix what the log shows, then run it again: ${rerun} (see docs/operating.md, When a rollout fails, for what each step leaves behind)`,
        };
    }
    return {
        kind: "stopped",
        exitCode,
        what: `ECS stopped the task ${said}${exited}: the deployment did not finish`,
        next: `run it again: ${rerun}`,
    };
}

export async function runDeploymentTask(inputs: DeploymentTaskInputs, opts: RunDeploymentTaskOptions): Promise<number> {
    const { ecs } = opts;
    const { task } = inputs;
    const sleep = opts.sleep ?? defaultSleep;
    const now = opts.now ?? Date.now;
    const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MINUTES * 60_000;

    await assertServicesSettled(ecs, inputs);
    const provider = opts.capacityProvider ?? task.capacityProvider;
    const rerun = rerunCommand(inputs, opts.initial === true);

    const run = await ecs.send(
        new RunTaskCommand({
            cluster: task.cluster,
            taskDefinition: task.taskDefinitionArn,
            count: 1,
            capacityProviderStrategy: [{ capacityProvider: provider, weight: 1 }],
            networkConfiguration: {
                awsvpcConfiguration: {
                    subnets: task.subnets,
                    securityGroups: task.securityGroups,
                    assignPublicIp: task.assignPublicIp,
                },
            },
            startedBy: STARTED_BY,
            ...(opts.initial
                ? {
                      overrides: {
                          containerOverrides: [
                              { name: task.containerName, environment: [{ name: INITIAL_DEPLOYMENT_VARIABLE, value: "true" }] },
                          ],
                      },
                  }
                : {}),
        }),
    );
    const started = run.tasks?.[0];
    if ((run.failures ?? []).length > 0 || started?.taskArn === undefined) {
        const reasons = (run.failures ?? [])
            .map((f) => [f.reason, f.detail].filter((x) => x !== undefined && x !== "").join(": "))
            .filter((r) => r !== "");
        const other = provider === "FARGATE_SPOT" ? "on-demand" : "spot";
        throw new AwsFailure(
            `the deployment task could not be placed on ${provider} in cluster ${task.cluster}: ` +
                `${reasons.length > 0 ? reasons.join("; ") : "RunTask returned no task"}; nothing ran. ` +
                `Run it again in a few minutes, or on the other capacity: ${rerun} --capacity ${other}`,
        );
    }
    const taskArn = started.taskArn;
    const taskId = taskIdOf(taskArn);
    const stream = logStreamName(task, taskArn);
    opts.status(
        `started task ${taskId} (${provider}) in cluster ${task.cluster}: ${opts.initial ? "initial" : "routine"} deployment`,
    );
    opts.status(`logs: ${task.logGroupName} ${stream} (Ctrl-C stops following, not the task)`);

    const follower = new LogFollower(opts.logs, task.logGroupName, stream, opts.logLine);
    const deadline = now() + timeoutMs;
    let lastStatus = started.lastStatus;
    let current: Task = started;
    for (;;) {
        current = await describeTask(ecs, task.cluster, taskArn);
        const changed = current.lastStatus !== lastStatus;
        lastStatus = current.lastStatus;
        if (changed && lastStatus !== "STOPPED") {
            opts.status(`task ${taskId}: ${lastStatus}`);
        }
        // Describe first, then read: once the task is seen STOPPED, this read gets the last lines.
        await follower.drain();
        if (changed && lastStatus === "STOPPED") {
            opts.status(`task ${taskId}: STOPPED${current.stoppedReason ? ` (${current.stoppedReason})` : ""}`);
        }
        if (current.lastStatus === "STOPPED") {
            break;
        }
        if (now() >= deadline) {
            throw new AwsFailure(
                `task ${taskId} is still ${current.lastStatus ?? "running"} after ${Math.round(timeoutMs / 60_000)} min ` +
                    `and was left running; stop it with: aws ecs stop-task --cluster ${task.cluster} --task ${taskId}`,
            );
        }
        await sleep(pollIntervalMs);
    }

    const verdict = classifyStop(current, task.containerName, rerun);
    switch (verdict.kind) {
        case "succeeded":
            opts.status(`task ${taskId} stopped: container ${task.containerName} exited with 0`);
            return 0;
        case "container-failed":
            opts.status(`task ${taskId} stopped: ${verdict.what}. Next: ${verdict.next}`);
            return verdict.exitCode ?? EXIT.aws;
        case "failed-to-start":
            throw new AwsFailure(`task ${taskId} failed to start: ${verdict.what}. Next: ${verdict.next}`);
        default:
            throw new InterruptedError(`task ${taskId} did not finish: ${verdict.what}. Next: ${verdict.next}`);
    }
}

/** The command that runs the same deployment again. */
function rerunCommand(inputs: DeploymentTaskInputs, initial: boolean): string {
    const production = inputs.environment === undefined || inputs.environment === "production";
    return (
        `npm run deployment-task -- --stack ${inputs.stack}` +
        (initial ? ` --initial${production ? ` --confirm-production ${inputs.stack}` : ""}` : "")
    );
}

export const SPEC: CommandSpec = {
    name: "deployment-task",
    summary:
        "Runs the stack's deployment task once every service has finished rolling out, prints its\n" +
        "CloudWatch log lines and exits with the container's exit code. Routine by default; --initial\n" +
        "runs the app's initial sequence (wipe on development, then every insert). Exit 2: bad input or a missing\n" +
        "stack output; 3: AWS refused, the task could not be placed or its container never started;\n" +
        "4: a service is still rolling out (nothing was started); 5: the task was stopped from outside\n" +
        "before it finished (a Spot reclaim, a stop by hand): run it again.",
    options: {
        initial: { type: "boolean", description: "run the initial deployment (INITIAL_DEPLOYMENT): wipe (development only), load every insert" },
        "confirm-production": {
            type: "string",
            description: "with --initial on a production stack: the stack's name, to confirm",
        },
        capacity: {
            type: "string",
            description: "spot or on-demand: run on this capacity instead of the stack's (e.g. after a Spot reclaim)",
        },
        timeout: { type: "string", description: `minutes to wait for the task to stop (default ${DEFAULT_TIMEOUT_MINUTES})` },
        "poll-interval": {
            type: "string",
            description: `seconds between status and log polls (default ${DEFAULT_POLL_INTERVAL_MS / 1000})`,
        },
    },
};

export async function main(argv: string[]): Promise<number> {
    const context = await commandContext(argv, SPEC, (extra) => {
        const capacity = extra.capacity;
        if (capacity !== undefined && capacity !== "spot" && capacity !== "on-demand") {
            throw new UsageError(`--capacity must be spot or on-demand, got "${String(capacity)}"`);
        }
        const confirm = extra["confirm-production"];
        return {
            timeoutMs: positiveNumber("timeout", extra.timeout, DEFAULT_TIMEOUT_MINUTES) * 60_000,
            pollIntervalMs: positiveNumber("poll-interval", extra["poll-interval"], DEFAULT_POLL_INTERVAL_MS / 1000) * 1000,
            initial: extra.initial === true,
            confirm: typeof confirm === "string" ? confirm : undefined,
            capacityProvider: capacity === undefined ? undefined : capacityProvider(capacity),
        };
    });
    if (context === undefined) {
        return EXIT.ok;
    }
    const { confirm, ...run } = context.flags;
    const inputs = readDeploymentTaskInputs(context.outputs);
    checkInitialDeployment(inputs, run.initial, confirm);
    const ecs = new ECSClient({ region: context.region });
    const logs = new CloudWatchLogsClient({ region: context.region });
    try {
        return await runDeploymentTask(inputs, {
            ecs,
            logs,
            logLine: (line) => process.stdout.write(`${line}\n`),
            status: (line) => process.stderr.write(`deployment-task: ${line}\n`),
            ...run,
        });
    } finally {
        ecs.destroy();
        logs.destroy();
    }
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2)));
}
