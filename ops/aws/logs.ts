// `npm run logs -- --stack <name> --role <role> [--since 10m] [--follow] [--poll]`
//
// A role's CloudWatch log lines, every task of it interleaved (the deployment task's too): the
// window `--since` gives, then, with `--follow`, new lines as they arrive, through CloudWatch Logs
// Live Tail, or by polling FilterLogEvents where Live Tail is refused (or with `--poll`). Ctrl-C
// (or SIGTERM) ends following; that is the normal end and exits 0.

import {
    CloudWatchLogsClient,
    FilterLogEventsCommand,
    StartLiveTailCommand,
    type FilterLogEventsCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import { ROLES, type Role } from "../../components/roles";
import {
    AwsFailure,
    EXIT,
    UsageError,
    isMissingCredentials,
    oneLine,
    positiveNumber,
    requiredChoice,
    runMain,
    type CommandSpec,
} from "../cli";
import { commandContext } from "./command";
import { type StackOutputs } from "./stackOutputs";

export const DEFAULT_SINCE = "10m";
export const DEFAULT_POLL_INTERVAL_MS = 5_000;
/** Upper bound of FilterLogEvents pages per read, so a huge window cannot spin forever. */
const MAX_PAGES_PER_READ = 100;

export interface LogsInputs {
    stack: string;
    role: Role;
    groupName: string;
    groupArn: string;
    /** `<awslogs-stream-prefix>/`: every stream of the role's tasks starts with it. */
    streamPrefix: string;
}

export function readLogsInputs(o: StackOutputs, role: Role): LogsInputs {
    return {
        stack: o.stack,
        role,
        groupName: o.string("logs.groupName"),
        groupArn: o.string("logs.groupArn"),
        streamPrefix: `${o.string(`logs.streamPrefixes.${role}`)}/`,
    };
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `10m`, `2h`, `1d` to milliseconds. */
export function parseSince(value: string | boolean | undefined): number {
    const text = value === undefined ? DEFAULT_SINCE : value;
    const m = typeof text === "string" ? /^(\d+)([smhd])$/.exec(text.trim()) : null;
    if (!m || Number(m[1]) === 0) {
        throw new UsageError(`--since must be a duration like 30s, 10m, 2h or 1d, got "${String(value)}"`);
    }
    return Number(m[1]) * UNITS[m[2]];
}

export interface LogEvent {
    eventId?: string;
    logStreamName?: string;
    timestamp?: number;
    message?: string;
}

/** `<ISO time> <task id> <message>`: the task id is the stream name's last part. */
export function formatEvent(event: LogEvent): string {
    const stream = event.logStreamName ?? "";
    const task = stream.slice(stream.lastIndexOf("/") + 1) || "-";
    const time = event.timestamp === undefined ? "-" : new Date(event.timestamp).toISOString();
    return `${time} ${task} ${(event.message ?? "").replace(/\r?\n$/, "")}`;
}

export interface RunLogsOptions {
    logs: CloudWatchLogsClient;
    /** Receives each formatted log line. */
    line: (text: string) => void;
    /** Receives progress lines (window, mode, why following ended). */
    status: (text: string) => void;
    sinceMs: number;
    follow: boolean;
    /** Poll FilterLogEvents even where Live Tail is offered. */
    poll?: boolean;
    /** Ends following; the reason (e.g. "SIGINT") is printed. */
    signal?: AbortSignal;
    pollIntervalMs?: number;
    now?: () => number;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted) {
            return resolve();
        }
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
    });
}

/** Everything the role logged from `startTime` on, in time order; remembers what it printed. */
class Reader {
    /** Latest timestamp printed, and the ids printed at it (the next read starts there, inclusive). */
    private latest = 0;
    private idsAtLatest = new Set<string>();
    printed = 0;

    constructor(
        private readonly inputs: LogsInputs,
        private readonly opts: RunLogsOptions,
    ) {}

    async read(startTime: number): Promise<void> {
        let token: string | undefined;
        // One query per read: a next token is only valid with the startTime it was issued for.
        const from = Math.max(startTime, this.latest);
        for (let page = 0; page < MAX_PAGES_PER_READ; page++) {
            const input: FilterLogEventsCommandInput = {
                logGroupName: this.inputs.groupName,
                logStreamNamePrefix: this.inputs.streamPrefix,
                startTime: from,
            };
            if (token !== undefined) {
                input.nextToken = token;
            }
            let res;
            try {
                res = await this.opts.logs.send(new FilterLogEventsCommand(input));
            } catch (err) {
                if ((err as { name?: string }).name === "ResourceNotFoundException") {
                    throw new AwsFailure(
                        `log group ${this.inputs.groupName} not found; has \`pulumi up\` run for stack "${this.inputs.stack}" in this region?`,
                    );
                }
                throw err;
            }
            for (const event of res.events ?? []) {
                this.print(event);
            }
            token = res.nextToken;
            if (token === undefined) {
                return;
            }
        }
    }

    print(event: LogEvent): void {
        const ts = event.timestamp ?? 0;
        if (ts < this.latest || (ts === this.latest && event.eventId !== undefined && this.idsAtLatest.has(event.eventId))) {
            return;
        }
        if (ts > this.latest) {
            this.latest = ts;
            this.idsAtLatest = new Set();
        }
        if (event.eventId !== undefined) {
            this.idsAtLatest.add(event.eventId);
        }
        this.printed++;
        this.opts.line(formatEvent(event));
    }
}

/** Why following stopped: the signal's reason, or undefined when it has not fired. */
function stopReason(signal?: AbortSignal): string | undefined {
    return signal?.aborted ? String(signal.reason ?? "signal") : undefined;
}

/** The next item of an async iterator, or undefined once the signal fires. */
async function nextOrAbort<T>(it: AsyncIterator<T>, signal?: AbortSignal): Promise<IteratorResult<T> | undefined> {
    if (signal === undefined) {
        return it.next();
    }
    if (signal.aborted) {
        return undefined;
    }
    let onAbort = () => undefined as void;
    const aborted = new Promise<undefined>((resolve) => {
        onAbort = () => resolve(undefined);
        signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
        return await Promise.race([it.next(), aborted]);
    } finally {
        signal.removeEventListener("abort", onAbort);
    }
}

type LiveTailEnd = "stopped" | "timeout" | { unavailable: string };

/** One Live Tail session; returns why it ended. Errors from starting it mean "not available here". */
async function liveTail(inputs: LogsInputs, opts: RunLogsOptions, reader: Reader): Promise<LiveTailEnd> {
    let stream: AsyncIterable<Record<string, unknown>> | undefined;
    try {
        const res = await opts.logs.send(
            new StartLiveTailCommand({ logGroupIdentifiers: [inputs.groupArn], logStreamNamePrefixes: [inputs.streamPrefix] }),
            { abortSignal: opts.signal },
        );
        stream = res.responseStream as AsyncIterable<Record<string, unknown>> | undefined;
    } catch (err) {
        if (stopReason(opts.signal) !== undefined) {
            return "stopped";
        }
        if (isMissingCredentials(err)) {
            throw err;
        }
        const e = err as { name?: string; message?: string };
        return { unavailable: `${e.name ?? "Error"}: ${oneLine(e.message ?? "")}` };
    }
    if (stream === undefined) {
        return { unavailable: "StartLiveTail returned no stream" };
    }
    const it = stream[Symbol.asyncIterator]();
    try {
        for (;;) {
            const next = await nextOrAbort(it, opts.signal);
            if (next === undefined) {
                return "stopped";
            }
            if (next.done) {
                return "timeout";
            }
            const event = next.value as {
                sessionUpdate?: { sessionResults?: LogEvent[] };
                SessionTimeoutException?: unknown;
                SessionStreamingException?: { message?: string };
            };
            for (const result of event.sessionUpdate?.sessionResults ?? []) {
                reader.print(result);
            }
            if (event.SessionTimeoutException !== undefined) {
                return "timeout";
            }
            if (event.SessionStreamingException !== undefined) {
                throw new AwsFailure(`Live Tail stream failed: ${oneLine(event.SessionStreamingException.message ?? "")}`);
            }
        }
    } finally {
        void it.return?.();
    }
}

/** Prints the window, then follows when asked. Returns the exit code. */
export async function runLogs(inputs: LogsInputs, opts: RunLogsOptions): Promise<number> {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? abortableSleep;
    const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const reader = new Reader(inputs, opts);
    const since = now() - opts.sinceMs;
    opts.status(`${inputs.role}: ${inputs.groupName} ${inputs.streamPrefix}* since ${new Date(since).toISOString()}`);
    await reader.read(since);
    if (!opts.follow) {
        if (reader.printed === 0) {
            opts.status(`no log events for ${inputs.role} in that window`);
        }
        return EXIT.ok;
    }

    let polling = opts.poll === true;
    if (polling) {
        opts.status(`following by polling FilterLogEvents every ${pollIntervalMs / 1000} s (Ctrl-C stops)`);
    } else {
        opts.status("following with CloudWatch Logs Live Tail (Ctrl-C stops)");
    }
    while (stopReason(opts.signal) === undefined) {
        if (!polling) {
            const end = await liveTail(inputs, opts, reader);
            if (typeof end === "object") {
                polling = true;
                opts.status(`Live Tail unavailable (${end.unavailable}); polling FilterLogEvents every ${pollIntervalMs / 1000} s`);
            }
            // "timeout": Live Tail sessions end after 3 hours; the loop starts a new one.
            continue;
        }
        await sleep(pollIntervalMs, opts.signal);
        if (stopReason(opts.signal) === undefined) {
            await reader.read(since);
        }
    }
    opts.status(`stopped following (${stopReason(opts.signal)})`);
    return EXIT.ok;
}

export const SPEC: CommandSpec = {
    name: "logs",
    summary:
        "Prints a role's CloudWatch log lines (`<time> <task id> <message>`, every task of the role) from\n" +
        "the window --since gives; --follow keeps printing new ones (Live Tail, or polling) until Ctrl-C.\n" +
        "Exit 0 (also when following is ended by Ctrl-C/SIGTERM); 2: bad input or a missing stack output;\n" +
        "3: AWS refused or the log group does not exist.",
    options: {
        role: { type: "string", description: `whose logs: ${ROLES.join(", ")}` },
        since: { type: "string", description: `how far back to start: 30s, 10m, 2h, 1d (default ${DEFAULT_SINCE})` },
        follow: { type: "boolean", description: "keep printing new lines until Ctrl-C" },
        poll: { type: "boolean", description: "follow by polling FilterLogEvents instead of Live Tail (billed per minute)" },
        "poll-interval": {
            type: "string",
            description: `seconds between polls (default ${DEFAULT_POLL_INTERVAL_MS / 1000})`,
        },
    },
};

export async function main(argv: string[], signal?: AbortSignal): Promise<number> {
    const context = await commandContext(argv, SPEC, (extra) => ({
        role: requiredChoice("role", extra.role, ROLES),
        sinceMs: parseSince(extra.since),
        follow: extra.follow === true,
        poll: extra.poll === true,
        pollIntervalMs: positiveNumber("poll-interval", extra["poll-interval"], DEFAULT_POLL_INTERVAL_MS / 1000) * 1000,
    }));
    if (context === undefined) {
        return EXIT.ok;
    }
    const { role, ...follow } = context.flags;
    const inputs = readLogsInputs(context.outputs, role);
    const logs = new CloudWatchLogsClient({ region: context.region });
    try {
        return await runLogs(inputs, {
            logs,
            line: (text) => process.stdout.write(`${text}\n`),
            status: (text) => process.stderr.write(`logs: ${text}\n`),
            ...follow,
            signal,
        });
    } finally {
        logs.destroy();
    }
}

/** Aborts on the first SIGINT or SIGTERM, with the signal's name as the reason. */
export function signalController(): AbortController {
    const controller = new AbortController();
    for (const name of ["SIGINT", "SIGTERM"] as const) {
        process.once(name, () => controller.abort(name));
    }
    return controller;
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2), signalController().signal));
}
