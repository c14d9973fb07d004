// `npm run logs`: the window, follow mode through Live Tail and by polling, the way following ends,
// and the errors, against aws-sdk-client-mock.

import * as assert from "node:assert/strict";
import {
    CloudWatchLogsClient,
    FilterLogEventsCommand,
    StartLiveTailCommand,
    type FilterLogEventsCommandInput,
    type StartLiveTailCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { describeError, EXIT } from "../../ops/cli";
import { formatEvent, main, parseSince, readLogsInputs, runLogs, type LogEvent, type RunLogsOptions } from "../../ops/aws/logs";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { sampleOutputs, without, writeOutputsFile } from "./fixtures";

const NOW = Date.parse("2026-11-28T06:00:00.000Z");
const TASK = "4c8e1a2b9d7f4e0a8b6c5d4e3f2a1b0c";

function event(id: string, secondsAfter: number, message: string, task = TASK): LogEvent {
    return { eventId: id, logStreamName: `cgap-indexer/Indexer/${task}`, timestamp: NOW + secondsAfter * 1000, message: `${message}\n` };
}

interface Harness {
    logs: CloudWatchLogsClient;
    mock: AwsClientStub<CloudWatchLogsClient>;
    lines: string[];
    status: string[];
    filters: FilterLogEventsCommandInput[];
    controller: AbortController;
    opts(extra?: Partial<RunLogsOptions>): RunLogsOptions;
}

function harness(): Harness {
    const logs = new CloudWatchLogsClient({ region: "us-east-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" } });
    const mock = mockClient(logs);
    const h: Harness = {
        logs,
        mock,
        lines: [],
        status: [],
        filters: [],
        controller: new AbortController(),
        opts: (extra = {}) => ({
            logs,
            line: (t) => h.lines.push(t),
            status: (t) => h.status.push(t),
            sinceMs: 10 * 60_000,
            follow: false,
            now: () => NOW,
            signal: h.controller.signal,
            ...extra,
        }),
    };
    return h;
}

const inputs = () => readLogsInputs(new StackOutputs("mastertest", sampleOutputs()), "indexer");

/** An endless Live Tail stream: yields `updates`, then waits until the test aborts. */
async function* liveStream(updates: LogEvent[][], signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
    yield { sessionStart: { sessionId: "s-1" } };
    for (const results of updates) {
        yield { sessionUpdate: { sessionMetadata: { sampled: false }, sessionResults: results } };
    }
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
}

describe("npm run logs", () => {
    it("reads the role's streams of the stack's log group over the window, page by page, in order", async () => {
        const h = harness();
        h.mock
            .on(FilterLogEventsCommand)
            .callsFake((input: FilterLogEventsCommandInput) => {
                h.filters.push(input);
                return input.nextToken === undefined
                    ? { events: [event("1", -300, "indexing 12 items"), event("2", -200, "done")], nextToken: "page-2" }
                    : { events: [event("3", -100, "indexing 3 items", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")] };
            });
        const code = await runLogs(inputs(), h.opts());
        assert.equal(code, EXIT.ok);
        assert.deepEqual(h.filters.map((f) => [f.logGroupName, f.logStreamNamePrefix, f.startTime, f.nextToken]), [
            ["/ecs/cgap-mastertest-10530356517158578424743423", "cgap-indexer/", NOW - 600_000, undefined],
            ["/ecs/cgap-mastertest-10530356517158578424743423", "cgap-indexer/", NOW - 600_000, "page-2"],
        ]);
        assert.deepEqual(h.lines, [
            `2026-11-28T05:55:00.000Z ${TASK} indexing 12 items`,
            `2026-11-28T05:56:40.000Z ${TASK} done`,
            "2026-11-28T05:58:20.000Z 9f8e7d6c5b4a39281706f5e4d3c2b1a0 indexing 3 items",
        ]);
        assert.equal(h.mock.commandCalls(StartLiveTailCommand).length, 0, "no follow, no live tail");
        assert.deepEqual(h.status, ["indexer: /ecs/cgap-mastertest-10530356517158578424743423 cgap-indexer/* since 2026-11-28T05:50:00.000Z"]);
    });

    it("says so when the window holds nothing, exit 0", async () => {
        const h = harness();
        h.mock.on(FilterLogEventsCommand).resolves({ events: [] });
        assert.equal(await runLogs(inputs(), h.opts()), EXIT.ok);
        assert.deepEqual(h.lines, []);
        assert.equal(h.status.at(-1), "no log events for indexer in that window");
    });

    it("follows with Live Tail on the log group's ARN and the role's prefix until the signal, then exits 0", async () => {
        const h = harness();
        h.mock.on(FilterLogEventsCommand).resolves({ events: [event("1", -5, "before")] });
        let tail: StartLiveTailCommandInput | undefined;
        h.mock.on(StartLiveTailCommand).callsFake((input: StartLiveTailCommandInput) => {
            tail = input;
            return { responseStream: liveStream([[event("2", 1, "live one")], [event("3", 2, "live two")]], h.controller.signal) };
        });
        const running = runLogs(inputs(), h.opts({ follow: true, line: (t) => {
            h.lines.push(t);
            if (h.lines.length === 3) {
                h.controller.abort("SIGINT");
            }
        } }));
        assert.equal(await running, EXIT.ok);
        assert.deepEqual(tail, {
            logGroupIdentifiers: ["arn:aws:logs:us-east-1:123456789012:log-group:/ecs/cgap-mastertest-10530356517158578424743423"],
            logStreamNamePrefixes: ["cgap-indexer/"],
        });
        assert.deepEqual(h.lines.map((l) => l.split(" ").slice(2).join(" ")), ["before", "live one", "live two"]);
        assert.deepEqual(h.status.slice(1), ["following with CloudWatch Logs Live Tail (Ctrl-C stops)", "stopped following (SIGINT)"]);
    });

    it("falls back to polling FilterLogEvents when Live Tail is refused, printing each event once", async () => {
        const h = harness();
        const denied = Object.assign(new Error("not authorized to perform: logs:StartLiveTail"), {
            name: "AccessDeniedException",
            $metadata: { httpStatusCode: 400 },
        });
        h.mock.on(StartLiveTailCommand).rejects(denied);
        let reads = 0;
        h.mock.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
            h.filters.push(input);
            reads++;
            // Each poll starts at the newest timestamp printed, so it sees that event again.
            return reads === 1 ? { events: [event("1", 1, "first")] } : { events: [event("1", 1, "first"), event("2", 1, "same second"), event("3", 9, "later")] };
        });
        const sleeps: number[] = [];
        const code = await runLogs(inputs(), h.opts({
            follow: true,
            pollIntervalMs: 2_000,
            sleep: async (ms) => {
                sleeps.push(ms);
                if (sleeps.length === 2) {
                    h.controller.abort("SIGTERM");
                }
            },
        }));
        assert.equal(code, EXIT.ok);
        assert.deepEqual(h.lines.map((l) => l.split(" ").slice(2).join(" ")), ["first", "same second", "later"]);
        assert.deepEqual(h.filters.map((f) => f.startTime), [NOW - 600_000, NOW + 1000], "polls from the newest event printed");
        assert.deepEqual(sleeps, [2_000, 2_000]);
        assert.match(h.status.join("\n"), /Live Tail unavailable \(AccessDeniedException: not authorized to perform: logs:StartLiveTail\); polling FilterLogEvents every 2 s/);
        assert.equal(h.status.at(-1), "stopped following (SIGTERM)");
    });

    it("--poll never opens a Live Tail session", async () => {
        const h = harness();
        h.mock.on(FilterLogEventsCommand).resolves({ events: [] });
        await runLogs(inputs(), h.opts({ follow: true, poll: true, sleep: async () => h.controller.abort("SIGINT") }));
        assert.equal(h.mock.commandCalls(StartLiveTailCommand).length, 0);
        assert.match(h.status[1], /^following by polling FilterLogEvents every 5 s/);
    });

    it("a log group that does not exist is one line, exit 3", async () => {
        const h = harness();
        h.mock.on(FilterLogEventsCommand).rejects(
            Object.assign(new Error("The specified log group does not exist."), { name: "ResourceNotFoundException", $metadata: {} }),
        );
        const err = await runLogs(inputs(), h.opts()).catch((e: unknown) => e);
        assert.deepEqual(describeError(err), {
            message: 'log group /ecs/cgap-mastertest-10530356517158578424743423 not found; has `pulumi up` run for stack "mastertest" in this region?',
            exitCode: EXIT.aws,
        });
    });

    it("no credentials: the SDK's error maps to the credentials line, exit 3", async () => {
        const h = harness();
        h.mock.on(FilterLogEventsCommand).rejects(
            Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
        );
        const err = await runLogs(inputs(), h.opts()).catch((e: unknown) => e);
        const { message, exitCode } = describeError(err);
        assert.equal(exitCode, EXIT.aws);
        assert.match(message, /^no AWS credentials found/);
    });

    describe("arguments", () => {
        const outputs = () => writeOutputsFile(sampleOutputs());

        it("--role must be a role, --since a duration", async () => {
            await assert.rejects(main(["--stack", "mastertest", "--outputs", outputs()]), {
                message: "--role <wsgi|indexer|ingester|deployment> is required (see --help)",
            });
            await assert.rejects(main(["--stack", "mastertest", "--outputs", outputs(), "--role", "web"]), {
                message: '--role is "web"; it must be one of wsgi, indexer, ingester, deployment',
            });
            for (const bad of ["10", "10 minutes", "0m", "-5m"]) {
                assert.throws(() => parseSince(bad), { message: `--since must be a duration like 30s, 10m, 2h or 1d, got "${bad}"` });
            }
            assert.deepEqual(["30s", "10m", "2h", "1d"].map(parseSince), [30_000, 600_000, 7_200_000, 86_400_000]);
        });

        it("a stack without the logs output is one line naming it", async () => {
            await assert.rejects(
                main(["--stack", "mastertest", "--outputs", writeOutputsFile(without(sampleOutputs(), "logs.groupArn")), "--role", "wsgi"]),
                { message: 'stack "mastertest": output "logs.groupArn" is missing (has `pulumi up` run with this program?)' },
            );
        });

        it("formats an event without a trailing newline, and one without a stream", () => {
            assert.equal(formatEvent(event("1", 0, "x")), `2026-11-28T06:00:00.000Z ${TASK} x`);
            assert.equal(formatEvent({ message: "y" }), "- - y");
        });
    });
});
