// Argument parsing, exit codes and one-line error reporting shared by the operator commands
// (`npm run deployment-task`, `npm run info`, `npm run logs`, `npm run exec`).

import { parseArgs } from "node:util";

/**
 * Exit codes of the operator commands. `deployment-task` otherwise exits with the deployment
 * container's own exit code, so these only mean what they say when stderr carries the
 * `<command>: error:` line.
 */
export const EXIT = {
    ok: 0,
    /** `info`: at least one role is out of sync; `preflight`: the task role cannot use the S3 key. */
    findings: 1,
    /** Bad arguments, unknown stack, missing or malformed stack outputs, no AWS region. */
    usage: 2,
    /** AWS said no: missing/rejected credentials, an API error, a task that failed to place or stop cleanly. */
    aws: 3,
    /** `deployment-task`: a service is still rolling out; nothing was started. `exec`: no task of the role can take a session yet. */
    notReady: 4,
    /**
     * `deployment-task`: the task was stopped from outside before it finished (a Fargate Spot
     * reclaim, a stop by hand, ECS); run it again.
     */
    interrupted: 5,
} as const;

/** An error whose message is already written for the operator and whose exit code is known. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number,
    ) {
        super(message);
        this.name = new.target.name;
    }
}

export class UsageError extends CliError {
    constructor(message: string) {
        super(message, EXIT.usage);
    }
}

export class AwsFailure extends CliError {
    constructor(message: string) {
        super(message, EXIT.aws);
    }
}

export class InterruptedError extends CliError {
    constructor(message: string) {
        super(message, EXIT.interrupted);
    }
}

export class NotReadyError extends CliError {
    constructor(message: string) {
        super(message, EXIT.notReady);
    }
}

/** Collapses whitespace (including newlines) so a message fits on one line. */
export function oneLine(text: string): string {
    return text.replace(/\s+/g, " ").trim();
}

/** The width output is wrapped to: the terminal's, or 100 columns when not a terminal. */
export function terminalWidth(stream: { columns?: number } = process.stdout): number {
    return Math.max(60, Math.min(stream.columns ?? 100, 160));
}

/**
 * Wraps each line of `text` at spaces to `width` columns. A continued line keeps its line's
 * indentation plus four spaces, so a list of problems stays one problem per (wrapped) line.
 */
export function wrap(text: string, width = terminalWidth()): string {
    return text
        .split("\n")
        .flatMap((line) => {
            const indent = /^ */.exec(line)![0];
            const words = line.slice(indent.length).split(/ +/);
            const lines: string[] = [];
            let current = indent;
            for (const word of words) {
                const candidate = current.trim() === "" ? current + word : `${current} ${word}`;
                if (candidate.length > width && current.trim() !== "") {
                    lines.push(current);
                    current = `${indent}    ${word}`;
                } else {
                    current = candidate;
                }
            }
            lines.push(current);
            return lines;
        })
        .join("\n");
}

type OptionSpecs = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

/**
 * node:util parseArgs, strict, where an option that takes one value and is given twice is refused:
 * parseArgs itself keeps the last one without a word (`--stack a --stack b` would act on b).
 */
export function parseStrict(argv: string[], options: OptionSpecs): Record<string, unknown> {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false, tokens: true });
    } catch (err) {
        throw new UsageError(`${oneLine((err as Error).message)} (see --help)`);
    }
    const seen = new Map<string, string[]>();
    for (const token of parsed.tokens ?? []) {
        if (token.kind === "option" && !options[token.name]?.multiple) {
            seen.set(token.name, [...(seen.get(token.name) ?? []), token.value ?? "(no value)"]);
        }
    }
    const repeated = [...seen].filter(([, values]) => values.length > 1);
    if (repeated.length > 0) {
        const [name, values] = repeated[0];
        throw new UsageError(`--${name} is given ${values.length} times (${values.join(", ")}); give it once (see --help)`);
    }
    return parsed.values;
}

const CREDENTIAL_ERROR_NAMES = new Set(["CredentialsProviderError", "TokenProviderError"]);
const REJECTED_CREDENTIAL_NAMES = new Set([
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
]);
const NETWORK_ERROR_CODES = new Set(["ENOTFOUND", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"]);

interface ErrorLike {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $metadata?: unknown;
    $fault?: unknown;
}

function asErrorLike(err: unknown): ErrorLike {
    return typeof err === "object" && err !== null ? (err as ErrorLike) : { message: String(err) };
}

/** True for the SDK's "no credentials anywhere in the default chain" errors. */
export function isMissingCredentials(err: unknown): boolean {
    const e = asErrorLike(err);
    return (
        (typeof e.name === "string" && CREDENTIAL_ERROR_NAMES.has(e.name)) ||
        (typeof e.message === "string" && e.message.startsWith("Could not load credentials from any providers"))
    );
}

/** Maps any error to the one line printed and the process exit code. */
export function describeError(err: unknown): { message: string; exitCode: number } {
    if (err instanceof CliError) {
        return { message: oneLine(err.message), exitCode: err.exitCode };
    }
    const e = asErrorLike(err);
    const name = typeof e.name === "string" ? e.name : "Error";
    const message = oneLine(typeof e.message === "string" ? e.message : String(err));
    if (isMissingCredentials(err)) {
        return {
            message:
                `no AWS credentials found (${message}); set AWS_PROFILE (after \`aws sso login\`) ` +
                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            exitCode: EXIT.aws,
        };
    }
    if (REJECTED_CREDENTIAL_NAMES.has(name)) {
        return { message: `AWS rejected the credentials: ${name}: ${message}`, exitCode: EXIT.aws };
    }
    if (message === "Region is missing") {
        return { message: "no AWS region: set AWS_REGION or pass --region <region>", exitCode: EXIT.usage };
    }
    if (typeof e.code === "string" && NETWORK_ERROR_CODES.has(e.code)) {
        return { message: `cannot reach AWS: ${message}`, exitCode: EXIT.aws };
    }
    if (e.$metadata !== undefined || e.$fault !== undefined) {
        return { message: `AWS ${name}: ${message}`, exitCode: EXIT.aws };
    }
    return { message: `${name}: ${message}`, exitCode: EXIT.aws };
}

/** The options every operator command takes. */
export interface CommonArgs {
    stack: string;
    outputs?: string;
    region?: string;
}

export interface ExtraOption {
    type: "string" | "boolean";
    description: string;
}

export interface CommandSpec {
    /** The npm script name, used in usage and error lines. */
    name: string;
    summary: string;
    options?: Record<string, ExtraOption>;
}

export type ParsedArgs = CommonArgs & { extra: Record<string, string | boolean | undefined>; help: boolean };

export function usage(spec: CommandSpec): string {
    const lines = [
        `usage: npm run ${spec.name} -- --stack <name> [--outputs <file>] [--region <region>]` +
            Object.entries(spec.options ?? {})
                .map(([k, o]) => (o.type === "boolean" ? ` [--${k}]` : ` [--${k} <value>]`))
                .join(""),
        "",
        spec.summary,
        "",
        "  --stack <name>      the Pulumi stack whose outputs name the cluster, services and task",
        "  --outputs <file>    read the outputs from this file (`pulumi stack output --json --show-secrets`;",
        "                      `-` reads stdin) instead of through the pulumi CLI",
        "  --region <region>   AWS region (default: the region of the stack's ECR repository URL,",
        "                      then AWS_REGION / the AWS profile)",
    ];
    for (const [k, o] of Object.entries(spec.options ?? {})) {
        const flag = o.type === "boolean" ? `--${k}` : `--${k} <value>`;
        lines.push(`  ${flag.padEnd(19)} ${o.description}`);
    }
    return lines.join("\n");
}

/** Parses argv strictly; any problem becomes a one-line {@link UsageError}. */
export function parseCommandArgs(argv: string[], spec: CommandSpec): ParsedArgs {
    const options: Record<string, { type: "string" | "boolean" }> = {
        stack: { type: "string" },
        outputs: { type: "string" },
        region: { type: "string" },
        help: { type: "boolean" },
    };
    for (const [k, o] of Object.entries(spec.options ?? {})) {
        options[k] = { type: o.type };
    }
    const values = parseStrict(argv, options) as Record<string, string | boolean | undefined>;
    if (values.help === true) {
        return { stack: "", extra: {}, help: true };
    }
    const stack = values.stack;
    if (typeof stack !== "string" || stack.trim() === "") {
        throw new UsageError("--stack <name> is required (see --help)");
    }
    const extra: Record<string, string | boolean | undefined> = {};
    for (const k of Object.keys(spec.options ?? {})) {
        extra[k] = values[k];
    }
    return {
        stack,
        outputs: typeof values.outputs === "string" ? values.outputs : undefined,
        region: typeof values.region === "string" ? values.region : undefined,
        extra,
        help: false,
    };
}

/** A required option whose value must be one of `allowed`, e.g. `--role indexer`. */
export function requiredChoice<T extends string>(flag: string, value: string | boolean | undefined, allowed: readonly T[]): T {
    if (typeof value !== "string" || value === "") {
        throw new UsageError(`--${flag} <${allowed.join("|")}> is required (see --help)`);
    }
    if (!(allowed as readonly string[]).includes(value)) {
        throw new UsageError(`--${flag} is "${value}"; it must be one of ${allowed.join(", ")}`);
    }
    return value as T;
}

/** Parses a positive number option, e.g. `--timeout 90`. */
export function positiveNumber(flag: string, value: string | boolean | undefined, fallback: number): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (typeof value !== "string" || !Number.isFinite(n) || n <= 0) {
        throw new UsageError(`--${flag} must be a positive number, got "${String(value)}"`);
    }
    return n;
}

/**
 * The AWS SDK warns once per process that its future releases will need Node 22; the project
 * runs on Node 20 on purpose (see package.json), and the multi-line warning would bury the
 * one-line errors. An explicit setting of the variable wins.
 */
export function quietSdkNodeWarning(): void {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

/**
 * Runs a command's main function: sets the exit code it returns, or prints
 * `<name>: error: <one line>` and sets the mapped exit code.
 */
export async function runMain(name: string, main: () => Promise<number>): Promise<void> {
    try {
        process.exitCode = await main();
    } catch (err) {
        const { message, exitCode } = describeError(err);
        process.stderr.write(`${name}: error: ${message}\n`);
        process.exitCode = exitCode;
    }
}
