// `npm run exec -- --stack <name> --role <role> [--command "<cmd>"] [--print]`
//
// Finds a running task of a role's service that accepts ECS Exec sessions (cgap:exec) and runs the
// `aws ecs execute-command` line for it (the AWS CLI and its Session Manager plugin do the
// interactive part), or prints the line with --print. Exits with the AWS CLI's exit code.

import { spawn } from "node:child_process";
import { DescribeTasksCommand, ECSClient, ListTasksCommand, type Task } from "@aws-sdk/client-ecs";
import { ROLE_SPECS } from "../../components/roles";
import {
    AwsFailure,
    EXIT,
    NotReadyError,
    UsageError,
    requiredChoice,
    runMain,
    type CommandSpec,
} from "../cli";
import { commandContext } from "./command";
import { SERVICE_ROLES, type ServiceRole, type StackOutputs } from "./stackOutputs";

export const DEFAULT_COMMAND = "/bin/bash";
const EXEC_AGENT = "ExecuteCommandAgent";

export interface ExecInputs {
    stack: string;
    role: ServiceRole;
    clusterName: string;
    serviceName: string;
    containerName: string;
}

export function readExecInputs(o: StackOutputs, role: ServiceRole): ExecInputs {
    return {
        stack: o.stack,
        role,
        clusterName: o.string("clusterName"),
        serviceName: o.string(`serviceNames.${role}`),
        containerName: ROLE_SPECS[role].containerName,
    };
}

function taskId(task: Task): string {
    const arn = task.taskArn ?? "";
    return arn.slice(arn.lastIndexOf("/") + 1);
}

function agentStatus(task: Task, containerName: string): string | undefined {
    const container = (task.containers ?? []).find((c) => c.name === containerName);
    return container?.managedAgents?.find((a) => a.name === EXEC_AGENT)?.lastStatus;
}

/**
 * A RUNNING task of the role's service whose exec agent runs. Refuses with what to do: no running
 * task (exit 4), exec off for the role (exit 2), the agent still starting (exit 4).
 */
export async function findExecTask(ecs: ECSClient, inputs: ExecInputs): Promise<Task> {
    const where = `service ${inputs.serviceName} (${inputs.role}) in cluster ${inputs.clusterName}`;
    let listed;
    try {
        listed = await ecs.send(
            new ListTasksCommand({ cluster: inputs.clusterName, serviceName: inputs.serviceName, desiredStatus: "RUNNING" }),
        );
    } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === "ServiceNotFoundException" || name === "ClusterNotFoundException") {
            throw new AwsFailure(`${where} not found (${name}); are the stack outputs current?`);
        }
        throw err;
    }
    const arns = listed.taskArns ?? [];
    if (arns.length === 0) {
        throw new NotReadyError(`no running task of ${where}; is the service scaled to 0?`);
    }
    const described = await ecs.send(new DescribeTasksCommand({ cluster: inputs.clusterName, tasks: arns.slice(0, 100) }));
    const running = (described.tasks ?? []).filter((t) => t.lastStatus === "RUNNING");
    if (running.length === 0) {
        throw new NotReadyError(`no task of ${where} is RUNNING yet; try again shortly`);
    }
    const enabled = running.filter((t) => t.enableExecuteCommand === true);
    if (enabled.length === 0) {
        throw new UsageError(
            `the tasks of ${where} do not accept ECS Exec: set it on with ` +
                `\`pulumi config set cgap:exec ${inputs.role}\` and \`pulumi up\` (only tasks started after that accept sessions)`,
        );
    }
    const ready = enabled.find((t) => agentStatus(t, inputs.containerName) === "RUNNING");
    if (ready === undefined) {
        const t = enabled[0];
        throw new NotReadyError(
            `the ${EXEC_AGENT} of task ${taskId(t)} is ${agentStatus(t, inputs.containerName) ?? "not reported"}, not RUNNING; try again shortly`,
        );
    }
    return ready;
}

/** The AWS CLI's arguments for an interactive session in the task's container. */
export function executeCommandArgs(inputs: ExecInputs, task: Task, command: string, region?: string): string[] {
    return [
        "ecs",
        "execute-command",
        ...(region ? ["--region", region] : []),
        "--cluster",
        inputs.clusterName,
        "--task",
        taskId(task),
        "--container",
        inputs.containerName,
        "--interactive",
        "--command",
        command,
    ];
}

/** A POSIX-shell-safe rendering of a command line, for printing. */
export function shellLine(argv: string[]): string {
    return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Runs the AWS CLI attached to this terminal; resolves with its exit code. */
export function runAwsCli(args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("aws", args, { stdio: "inherit" });
        child.once("error", (err: NodeJS.ErrnoException) =>
            reject(
                err.code === "ENOENT"
                    ? new UsageError(
                          "the AWS CLI is not on PATH (ECS Exec needs it and its Session Manager plugin); " +
                              "run with --print and use the line where it is installed",
                      )
                    : err,
            ),
        );
        child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}

export const SPEC: CommandSpec = {
    name: "exec",
    summary:
        "Opens a shell (or runs --command) in a running task of a role through ECS Exec: finds a task\n" +
        "whose exec agent runs and hands over to `aws ecs execute-command`. Needs cgap:exec on for the\n" +
        "role. Exit: the AWS CLI's; 2: bad input, a missing stack output or exec off for the role;\n" +
        "3: AWS refused; 4: no running task (or its agent is still starting).",
    options: {
        role: { type: "string", description: `whose task: ${SERVICE_ROLES.join(", ")}` },
        command: { type: "string", description: `what to run in the container (default ${DEFAULT_COMMAND})` },
        print: { type: "boolean", description: "print the aws ecs execute-command line instead of running it" },
    },
};

export interface ExecDeps {
    run?: (args: string[]) => Promise<number>;
}

export async function main(argv: string[], deps: ExecDeps = {}): Promise<number> {
    const context = await commandContext(argv, SPEC, (extra) => ({
        role: requiredChoice("role", extra.role, SERVICE_ROLES),
        command: typeof extra.command === "string" && extra.command !== "" ? extra.command : DEFAULT_COMMAND,
        print: extra.print === true,
    }));
    if (context === undefined) {
        return EXIT.ok;
    }
    const { flags, region } = context;
    const inputs = readExecInputs(context.outputs, flags.role);
    const ecs = new ECSClient({ region });
    let task: Task;
    try {
        task = await findExecTask(ecs, inputs);
    } finally {
        ecs.destroy();
    }
    const cli = executeCommandArgs(inputs, task, flags.command, region);
    const line = shellLine(["aws", ...cli]);
    if (flags.print) {
        process.stdout.write(`${line}\n`);
        return EXIT.ok;
    }
    process.stderr.write(`exec: task ${taskId(task)} of ${inputs.serviceName}: ${line}\n`);
    return (deps.run ?? runAwsCli)(cli);
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2)));
}
