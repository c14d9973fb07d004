// Reads a stack's outputs, either through the Pulumi Automation API (when the `pulumi` CLI is on
// PATH) or from the JSON that `pulumi stack output --json --show-secrets` prints, and gives the
// operator commands typed access to them. A missing or malformed output is a one-line error
// naming it (exit 2), raised before any AWS call.

import * as fs from "node:fs";
import * as path from "node:path";
import { ROLES, ROLE_SPECS, type Role } from "../../components/roles";
import { UsageError, oneLine } from "../cli";
import { OFFLINE_OUTPUTS_KEY } from "../offline/outputsMarker";
import { PROJECT_DIR } from "../project";

export type RawOutputs = Record<string, unknown>;


/** A stack output that is absent or not of the shape the commands rely on. */
export class StackOutputError extends UsageError {
    constructor(
        readonly stack: string,
        readonly output: string,
        problem: string,
    ) {
        super(`stack "${stack}": output "${output}" ${problem}`);
    }
}

/** Typed, path-addressed access (`deploymentTask.subnets`) to one stack's outputs. */
export class StackOutputs {
    constructor(
        readonly stack: string,
        readonly raw: RawOutputs,
    ) {}

    /** The value at a dotted path, or undefined when any step is missing. */
    lookup(outputPath: string): unknown {
        let value: unknown = this.raw;
        for (const key of outputPath.split(".")) {
            if (typeof value !== "object" || value === null || !Object.prototype.hasOwnProperty.call(value, key)) {
                return undefined;
            }
            value = (value as Record<string, unknown>)[key];
        }
        return value;
    }

    private missing(outputPath: string): StackOutputError {
        return new StackOutputError(this.stack, outputPath, "is missing (has `pulumi up` run with this program?)");
    }

    string(outputPath: string): string {
        const value = this.lookup(outputPath);
        if (value === undefined || value === null || value === "") {
            throw this.missing(outputPath);
        }
        if (typeof value !== "string") {
            throw new StackOutputError(this.stack, outputPath, `should be a string, got ${describe(value)}`);
        }
        return value;
    }

    optionalString(outputPath: string): string | undefined {
        const value = this.lookup(outputPath);
        return typeof value === "string" && value !== "" ? value : undefined;
    }

    stringArray(outputPath: string): string[] {
        const value = this.lookup(outputPath);
        if (value === undefined || value === null) {
            throw this.missing(outputPath);
        }
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
            throw new StackOutputError(this.stack, outputPath, `should be a list of strings, got ${describe(value)}`);
        }
        if (value.length === 0) {
            throw new StackOutputError(this.stack, outputPath, "is an empty list");
        }
        return value as string[];
    }

    oneOf<T extends string>(outputPath: string, allowed: readonly T[]): T {
        const value = this.string(outputPath);
        if (!(allowed as readonly string[]).includes(value)) {
            throw new StackOutputError(this.stack, outputPath, `should be one of ${allowed.join(", ")}, got "${value}"`);
        }
        return value as T;
    }
}

function describe(value: unknown): string {
    if (Array.isArray(value)) {
        return "a list";
    }
    return value === null ? "null" : typeof value;
}

/** Roles that run as long-lived ECS services (all but the deployment role). */
export type ServiceRole = Exclude<Role, "deployment">;
export const SERVICE_ROLES = ROLES.filter((r) => ROLE_SPECS[r].hasService) as ServiceRole[];

export interface DeploymentTaskOutput {
    cluster: string;
    taskDefinitionArn: string;
    containerName: string;
    subnets: string[];
    securityGroups: string[];
    assignPublicIp: "ENABLED" | "DISABLED";
    capacityProvider: "FARGATE_SPOT" | "FARGATE";
    logGroupName: string;
    logStreamPrefix: string;
}

export function readDeploymentTask(o: StackOutputs): DeploymentTaskOutput {
    return {
        cluster: o.string("deploymentTask.cluster"),
        taskDefinitionArn: o.string("deploymentTask.taskDefinitionArn"),
        containerName: o.string("deploymentTask.containerName"),
        subnets: o.stringArray("deploymentTask.subnets"),
        securityGroups: o.stringArray("deploymentTask.securityGroups"),
        assignPublicIp: o.oneOf("deploymentTask.assignPublicIp", ["ENABLED", "DISABLED"] as const),
        capacityProvider: o.oneOf("deploymentTask.capacityProvider", ["FARGATE_SPOT", "FARGATE"] as const),
        logGroupName: o.string("deploymentTask.logGroupName"),
        logStreamPrefix: o.string("deploymentTask.logStreamPrefix"),
    };
}

export function readServiceNames(o: StackOutputs): Record<ServiceRole, string> {
    return Object.fromEntries(SERVICE_ROLES.map((r) => [r, o.string(`serviceNames.${r}`)])) as Record<
        ServiceRole,
        string
    >;
}

export function readTags(o: StackOutputs): Record<Role, string> {
    return Object.fromEntries(ROLES.map((r) => [r, o.string(`tags.${r}`)])) as Record<Role, string>;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>` -> `<region>`. */
export function regionFromRepositoryUrl(url: string | undefined): string | undefined {
    const m = url?.match(/^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//);
    return m?.[1];
}

/**
 * The region the commands talk to: `--region`, else the stack's own region (from its ECR
 * repository URL; any other region would only answer "cluster not found"), else the SDK's
 * default (AWS_REGION, the profile).
 */
export function resolveRegion(flag: string | undefined, o: StackOutputs): string | undefined {
    return flag ?? regionFromRepositoryUrl(o.optionalString("repositoryUrl"));
}

export interface LoadOptions {
    stack: string;
    /** Path of a `pulumi stack output --json --show-secrets` file; `-` is stdin. */
    outputsFile?: string;
    /** Pulumi project directory; defaults to the repository root. */
    workDir?: string;
}

export interface LoadDeps {
    /** Whether the `pulumi` CLI can be run; defaults to a PATH search. */
    pulumiOnPath?: () => boolean;
    /** Reads outputs through the Automation API; injectable for tests. */
    automationOutputs?: (stack: string, workDir: string) => Promise<RawOutputs>;
    readStdin?: () => string;
    /** Where the note on an offline outputs file goes; defaults to stderr. */
    note?: (line: string) => void;
}

/** Searches PATH for an executable `pulumi` (honouring PATHEXT on Windows). */
export function pulumiOnPath(env: NodeJS.ProcessEnv = process.env): boolean {
    const dirs = (env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
    const exts = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
    for (const dir of dirs) {
        for (const ext of exts) {
            try {
                const candidate = path.join(dir, `pulumi${ext}`);
                fs.accessSync(candidate, fs.constants.X_OK);
                if (fs.statSync(candidate).isFile()) {
                    return true;
                }
            } catch {
                // not here
            }
        }
    }
    return false;
}

/**
 * Outputs through the Automation API, with secrets shown. The workspace passes `--stack` on
 * every call, so the operator's currently selected stack is left alone.
 */
export async function outputsThroughAutomation(stack: string, workDir: string): Promise<RawOutputs> {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const workspace = await LocalWorkspace.create({ workDir });
    const outputs = await workspace.stackOutputs(stack);
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
}

/** The `error: ...` line of a failed pulumi CLI call, or the first line of the message. */
export function pulumiErrorLine(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    const errorLine = text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => /^error:/i.test(l));
    return oneLine(errorLine ?? text.split("\n").find((l) => l.trim() !== "") ?? text);
}

function parseOutputsJson(text: string, source: string): RawOutputs {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (err) {
        throw new UsageError(`${source} is not JSON (${oneLine((err as Error).message)})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new UsageError(`${source} should hold a JSON object of stack outputs`);
    }
    return parsed as RawOutputs;
}

export async function loadStackOutputs(opts: LoadOptions, deps: LoadDeps = {}): Promise<StackOutputs> {
    const { stack } = opts;
    if (opts.outputsFile !== undefined) {
        let text: string;
        const source = opts.outputsFile === "-" ? "stdin" : `outputs file ${opts.outputsFile}`;
        try {
            text =
                opts.outputsFile === "-"
                    ? (deps.readStdin ?? (() => fs.readFileSync(0, "utf8")))()
                    : fs.readFileSync(opts.outputsFile, "utf8");
        } catch (err) {
            throw new UsageError(`cannot read ${source}: ${oneLine((err as Error).message)}`);
        }
        const raw = parseOutputsJson(text, source);
        if (typeof raw[OFFLINE_OUTPUTS_KEY] === "string") {
            // Written by `check --write-outputs`: the commands run, but AWS knows none of its names.
            (deps.note ?? ((line: string) => process.stderr.write(`${line}\n`)))(
                `note: ${source} was ${raw[OFFLINE_OUTPUTS_KEY]}`,
            );
        }
        return new StackOutputs(stack, raw);
    }
    if (!(deps.pulumiOnPath ?? pulumiOnPath)()) {
        throw new UsageError(
            `no pulumi CLI on PATH to read the outputs of stack "${stack}"; install it ` +
                "(https://www.pulumi.com/docs/iac/download-install/, e.g. `curl -fsSL https://get.pulumi.com | sh`), or pass " +
                "--outputs <file> with the JSON of `pulumi stack output --json --show-secrets` (to try a command " +
                `without a deployed stack, \`npm run check -- --stack ${stack} --write-outputs <file>\` writes one offline)`,
        );
    }
    const workDir = opts.workDir ?? PROJECT_DIR;
    let raw: RawOutputs;
    try {
        raw = await (deps.automationOutputs ?? outputsThroughAutomation)(stack, workDir);
    } catch (err) {
        throw new UsageError(`cannot read the outputs of stack "${stack}" through the pulumi CLI: ${pulumiErrorLine(err)}`);
    }
    return new StackOutputs(stack, raw);
}
