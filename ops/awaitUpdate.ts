// `npm run await-update`: waits until the Pulumi update of one commit has finished on a stack, by
// reading the stack's update history through the pulumi CLI. After a merge that Pulumi
// Deployments rolls out (push-to-deploy), GitHub Actions runs this first and starts the deployment
// task only once the update of the merged commit has succeeded: the same order deploy.yml keeps
// when it runs `pulumi up` itself.
//
// Every update the CLI records carries the commit it ran from as `git.head` in its environment
// (pulumi/pulumi pkg/backend/updates.go, GitHead = "git.head"); `pulumi stack history --json`
// prints `version`, `kind`, `result` ("in-progress", "succeeded", "failed") and `environment`
// (pkg/cmd/pulumi/stack/stack_history.go, updateInfoJSON).

import { execFile } from "node:child_process";
import { CliError, EXIT, oneLine, parseCommandArgs, positiveNumber, runMain, UsageError, type CommandSpec } from "./cli";
import { pulumiErrorLine, pulumiOnPath } from "./aws/stackOutputs";
import { PROJECT_DIR } from "./project";

/** One entry of `pulumi stack history --json`, as far as this command reads it. */
export interface UpdateRecord {
    version: number;
    kind: string;
    result?: string;
    environment?: Record<string, string>;
}

export type Verdict =
    | { state: "succeeded"; version: number }
    | { state: "failed"; version: number }
    | { state: "waiting"; version?: number };

/** The newest update of `commit` decides; none yet (or one still running) means wait. */
export function verdictFor(history: readonly UpdateRecord[], commit: string): Verdict {
    const newest = history
        .filter((u) => u.kind === "update" && u.environment?.["git.head"] === commit)
        .sort((a, b) => b.version - a.version)[0];
    if (newest === undefined) {
        return { state: "waiting" };
    }
    if (newest.result === "succeeded" || newest.result === "failed") {
        return { state: newest.result, version: newest.version };
    }
    return { state: "waiting", version: newest.version };
}

/** Parses the CLI's JSON; anything else is the CLI failing, in words. */
export function parseHistory(text: string): UpdateRecord[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new CliError(`pulumi stack history printed no JSON: ${oneLine(text).slice(0, 200)}`, EXIT.aws);
    }
    if (!Array.isArray(parsed)) {
        throw new CliError("pulumi stack history --json printed something other than a list of updates", EXIT.aws);
    }
    return parsed.filter(
        (u): u is UpdateRecord => typeof u === "object" && u !== null && typeof u.version === "number" && typeof u.kind === "string",
    );
}

/** The newest updates of a stack, through the pulumi CLI. */
export function readHistory(stack: string): Promise<UpdateRecord[]> {
    return new Promise((resolve, reject) => {
        execFile(
            "pulumi",
            ["stack", "history", "--json", "--page-size", "20", "--stack", stack],
            { cwd: PROJECT_DIR, maxBuffer: 16 * 1024 * 1024 },
            (err, stdout, stderr) => {
                if (err) {
                    reject(new CliError(`pulumi stack history of "${stack}" failed: ${pulumiErrorLine(stderr || err)}`, EXIT.aws));
                    return;
                }
                try {
                    resolve(parseHistory(stdout));
                } catch (parseErr) {
                    reject(parseErr);
                }
            },
        );
    });
}

export const SPEC: CommandSpec = {
    name: "await-update",
    summary:
        "Waits until the Pulumi update of --commit has finished on --stack (read from the stack's history\n" +
        "through the pulumi CLI). Exit 0 when it succeeded, 1 when it failed, 2 on bad input, 3 when the\n" +
        "pulumi CLI fails, 4 when no finished update of the commit appears within --timeout.",
    options: {
        commit: { type: "string", description: "the full git commit SHA whose update to wait for" },
        timeout: { type: "string", description: "seconds to wait at most (default 5400)" },
        "poll-interval": { type: "string", description: "seconds between reads of the history (default 30)" },
    },
};

const usageLine =
    "usage: npm run await-update -- --stack <org>/<project>/<stack> --commit <sha> [--timeout <s>] [--poll-interval <s>]";

export interface AwaitDeps {
    history?: (stack: string) => Promise<UpdateRecord[]>;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
    log?: (line: string) => void;
}

export async function main(argv: string[], deps: AwaitDeps = {}): Promise<number> {
    const args = parseCommandArgs(argv, SPEC);
    const log = deps.log ?? ((line: string) => process.stdout.write(`${line}\n`));
    if (args.help) {
        log(`${usageLine}\n\n${SPEC.summary}`);
        return EXIT.ok;
    }
    if (args.outputs !== undefined || args.region !== undefined) {
        throw new UsageError("await-update reads the stack's history, not its outputs: --outputs and --region do not apply");
    }
    const commit = args.extra.commit;
    if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit)) {
        throw new UsageError(`--commit must be a full 40-hex-digit commit SHA, got ${JSON.stringify(commit ?? null)}`);
    }
    const timeoutMs = positiveNumber("timeout", args.extra.timeout, 5400) * 1000;
    const intervalMs = positiveNumber("poll-interval", args.extra["poll-interval"], 30) * 1000;
    if (deps.history === undefined && !pulumiOnPath()) {
        throw new UsageError("no pulumi CLI on PATH to read the stack's history");
    }
    const history = deps.history ?? readHistory;
    const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const now = deps.now ?? Date.now;

    const deadline = now() + timeoutMs;
    let last = "";
    for (;;) {
        const verdict = verdictFor(await history(args.stack), commit);
        const said =
            verdict.state === "waiting"
                ? verdict.version === undefined
                    ? `no update of ${commit.slice(0, 12)} on ${args.stack} yet`
                    : `update ${verdict.version} of ${commit.slice(0, 12)} on ${args.stack} is running`
                : `update ${verdict.version} of ${commit.slice(0, 12)} on ${args.stack} ${verdict.state}`;
        if (said !== last) {
            log(`await-update: ${said}`);
            last = said;
        }
        if (verdict.state === "succeeded") {
            return EXIT.ok;
        }
        if (verdict.state === "failed") {
            return EXIT.findings;
        }
        if (now() >= deadline) {
            throw new CliError(
                `gave up after ${timeoutMs / 1000} s: ${said}; see the stack's deployments in Pulumi Cloud`,
                EXIT.notReady,
            );
        }
        await sleep(intervalMs);
    }
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2)));
}
