// `npm run await-update`: the decision over the stack's history, the polling, and the real
// command against a stand-in pulumi CLI on PATH.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CliError, EXIT, UsageError } from "../../ops/cli";
import { main, UpdateRecord, verdictFor } from "../../ops/awaitUpdate";
import { tempDir } from "../tempDirs";
import { PROJECT_DIR } from "../../ops/project";
import { scriptCommand } from "../scripts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";

function update(version: number, result: string, head = COMMIT, kind = "update"): UpdateRecord {
    return { version, kind, result, environment: { "git.head": head, "git.headName": "refs/heads/main" } };
}

describe("await-update", () => {
    describe("the verdict over a stack's history", () => {
        it("waits while the commit has no update, or its update is running", () => {
            assert.deepStrictEqual(verdictFor([], COMMIT), { state: "waiting" });
            assert.deepStrictEqual(verdictFor([update(7, "succeeded", OTHER)], COMMIT), { state: "waiting" });
            assert.deepStrictEqual(verdictFor([update(8, "in-progress"), update(7, "succeeded", OTHER)], COMMIT), { state: "waiting", version: 8 });
        });

        it("follows the commit's newest update", () => {
            assert.deepStrictEqual(verdictFor([update(8, "succeeded"), update(7, "failed")], COMMIT), { state: "succeeded", version: 8 });
            assert.deepStrictEqual(verdictFor([update(7, "succeeded"), update(8, "failed")], COMMIT), { state: "failed", version: 8 });
        });

        it("counts only updates, not a refresh or destroy of the same commit", () => {
            assert.deepStrictEqual(verdictFor([update(9, "succeeded", COMMIT, "refresh")], COMMIT), { state: "waiting" });
        });
    });

    describe("polling", () => {
        function scripted(...pages: UpdateRecord[][]) {
            const lines: string[] = [];
            let clock = 0;
            let calls = 0;
            const deps = {
                history: async (stack: string) => {
                    assert.strictEqual(stack, "mastertest");
                    return pages[Math.min(calls++, pages.length - 1)];
                },
                sleep: async (ms: number) => void (clock += ms),
                now: () => clock,
                log: (line: string) => void lines.push(line),
            };
            return { deps, lines, calls: () => calls };
        }

        it("returns 0 once the update of the commit has succeeded, saying each change once", async () => {
            const s = scripted([], [], [update(8, "in-progress")], [update(8, "in-progress")], [update(8, "succeeded")]);
            assert.strictEqual(await main(["--stack", "mastertest", "--commit", COMMIT], s.deps), EXIT.ok);
            assert.strictEqual(s.calls(), 5);
            assert.deepStrictEqual(s.lines, [
                "await-update: no update of 0123456789ab on mastertest yet",
                "await-update: update 8 of 0123456789ab on mastertest is running",
                "await-update: update 8 of 0123456789ab on mastertest succeeded",
            ]);
        });

        it("returns 1 when the update of the commit failed", async () => {
            const s = scripted([update(8, "in-progress")], [update(8, "failed")]);
            assert.strictEqual(await main(["--stack", "mastertest", "--commit", COMMIT], s.deps), EXIT.findings);
        });

        it("gives up after --timeout with exit 4, polling every --poll-interval", async () => {
            const s = scripted([]);
            await assert.rejects(
                main(["--stack", "mastertest", "--commit", COMMIT, "--timeout", "60", "--poll-interval", "20"], s.deps),
                (err: unknown) =>
                    err instanceof CliError && err.exitCode === EXIT.notReady && /^gave up after 60 s: no update of 0123456789ab on mastertest yet/.test(err.message),
            );
            assert.strictEqual(s.calls(), 4, "at 0, 20, 40 and 60 s");
        });

        it("refuses a short or missing commit and the outputs options", async () => {
            const s = scripted([]);
            await assert.rejects(main(["--stack", "mastertest", "--commit", "0123456"], s.deps), (e: unknown) => e instanceof UsageError && /--commit must be a full 40-hex-digit commit SHA, got "0123456"/.test(e.message));
            await assert.rejects(main(["--stack", "mastertest"], s.deps), UsageError);
            await assert.rejects(main(["--stack", "mastertest", "--commit", COMMIT, "--outputs", "o.json"], s.deps), /--outputs and --region do not apply/);
            assert.strictEqual(s.calls(), 0);
        });
    });

    describe("the command with a stand-in pulumi CLI", () => {
        let bin: string;
        let log: string;
        before(() => {
            bin = tempDir("await-update");
            log = path.join(bin, "pulumi.log");
            // Prints HISTORY, or fails as the CLI does for an unknown stack when HISTORY is unset.
            fs.writeFileSync(
                path.join(bin, "pulumi"),
                `#!/bin/sh\necho "$*" >> "${log}"\nif [ -z "$HISTORY" ]; then echo "error: no stack named 'nope' found" >&2; exit 255; fi\nprintf '%s' "$HISTORY"\n`,
                { mode: 0o755 },
            );
        });

        function run(args: string[], history?: UpdateRecord[]) {
            fs.rmSync(log, { force: true });
            const result = spawnSync(...scriptCommand("ops/awaitUpdate.ts", args), {
                cwd: PROJECT_DIR,
                encoding: "utf8",
                timeout: 60000,
                env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, HISTORY: history ? JSON.stringify(history) : "" },
            });
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
        }

        it("reads the stack's history as JSON and exits 0 when the commit's update succeeded", () => {
            const r = run(["--stack", "mastertest", "--commit", COMMIT], [update(12, "succeeded"), update(11, "succeeded", OTHER)]);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(r.calls, ["stack history --json --page-size 20 --stack mastertest"]);
            assert.match(r.stdout, /update 12 of 0123456789ab on mastertest succeeded/);
        });

        it("exits 3 with the CLI's error line when pulumi fails", () => {
            const r = run(["--stack", "nope", "--commit", COMMIT]);
            assert.strictEqual(r.status, 3);
            assert.strictEqual(r.stderr.trim(), `await-update: error: pulumi stack history of "nope" failed: error: no stack named 'nope' found`);
        });
    });
});
