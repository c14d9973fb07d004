// What `npm run check` says beyond the verdict: the roles a partial rollout leaves alone, tags moved
// in ECR outside the stack, and what the update phase cannot see. Runs check() in-process.
import * as assert from "assert";
import { check, UPDATE_PHASE_NOTE } from "../../ops/offline/check";
import { mockDigest, placeholderRegistry } from "../../ops/offline/program";

function planRow(text: string, role: string): string[] {
    const line = text.split("\n").find((l) => l.startsWith(`${role} `));
    assert.ok(line, text);
    return line.split(/\s{2,}/);
}

describe("npm run check's report", function () {
    this.timeout(120000);

    it("a front-end-only rollout: the left-out roles keep the image they run, and a hand-pushed tag is a warning", async () => {
        const registry = { ...placeholderRegistry(), "latest-indexer": mockDigest("pushed by hand") };
        const running = { indexer: mockDigest("what the indexer runs") };
        const { text, exitCode } = await check({ stack: "mastertest", rollout: "wsgi", targets: [], update: false }, { registry, running });
        assert.strictEqual(exitCode, 0, text);
        assert.strictEqual(planRow(text, "wsgi")[2], "yes: built and pushed");
        for (const role of ["indexer", "ingester", "deployment"]) {
            assert.strictEqual(planRow(text, role)[2], "no: keeps the image it runs", text);
        }
        assert.match(text, /^Left out of cgap:rollout: indexer, ingester, deployment\. Each keeps the image its task definition names now/m);
        // Wrapped to the terminal: a continued line is indented by four spaces.
        const warnings = text.replace(/\n {4}/g, " ").split("\n").filter((l) => l.startsWith("warning: "));
        assert.deepStrictEqual(warnings, [
            `warning: latest-indexer in ECR is ${registry["latest-indexer"].slice(0, 19)} but indexer runs ${running.indexer.slice(0, 19)}: ` +
                `the tag moved outside this stack. Left out of cgap:rollout, indexer keeps running ${running.indexer.slice(0, 19)}; ` +
                "a rollout that includes indexer builds cgap:appVersion anew and pushes it over latest-indexer, so indexer would " +
                `run that new build, never ${registry["latest-indexer"].slice(0, 19)}.`,
        ]);
        assert.ok(!text.replace(/\n {4}/g, " ").includes(UPDATE_PHASE_NOTE));
    });

    it("--update says that its PASS approves no partial rollout", async () => {
        // The indexer pushed while the deployment image stays: refused in the preview, unseen in the update.
        const args = { stack: "mastertest", rollout: "indexer,deployment", targets: ["indexer" as const] };
        assert.strictEqual((await check({ ...args, update: false })).exitCode, 1);
        const { text, exitCode } = await check({ ...args, update: true });
        assert.strictEqual(exitCode, 0, text);
        assert.ok(text.replace(/\n {4}/g, " ").includes(`\n${UPDATE_PHASE_NOTE}\n\nPASS: `), text);
        assert.match(UPDATE_PHASE_NOTE, /cannot see which images changed/);
        assert.match(UPDATE_PHASE_NOTE, /approves no partial rollout/);
        // The verdict line itself says it, where a reader of the last line meets it.
        assert.match(text.replace(/\n {4}/g, " "), /^PASS: no mandatory policy is violated; the update phase cannot see which roles changed, so this approves no partial rollout\.$/m);
    });

    it("refuses bad config as the program would, before the program or the pack starts", async () => {
        // A ConfigError, not a ProgramError: the stack's cgap: config was judged before the program
        // ran under mocks (a run would wrap the same problem in a ProgramError). Told by class name:
        // each run under mocks loads components/ afresh, so the class object is not always this file's.
        await assert.rejects(check({ stack: "mastertest", rollout: "wsgi,web", targets: [], update: false }), (err: Error) => {
            assert.strictEqual(err.constructor.name, "ConfigError", err.message);
            assert.match(err.message, /cgap:rollout is "wsgi,web"; it names "web"/);
            return true;
        });
        await assert.rejects(check({ stack: "mastertest", rollout: "wsgi", targets: ["indexer"], update: false }), /--target indexer: not in cgap:rollout \(wsgi\)/);
    });
});
