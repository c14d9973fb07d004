// A test run leaves the temp directory as it found it.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { PROJECT_DIR } from "../ops/project";
import { tempDir } from "./tempDirs";

const TEST_DIR = __dirname;
const FIXTURES = path.join(TEST_DIR, "cleanupFixtures");
const MOCHA_BIN = require.resolve("mocha/bin/mocha.js");

/**
 * The policy packs a fixture run started with this stack name that are still running: ended here,
 * so that a failing run leaves none behind either, and returned for the test to fail on.
 */
function endLeftoverPacks(stack: string): number[] {
    const leftover = processesWithEnvironment(`PULUMI_NODEJS_STACK=${stack}`);
    for (const pid of leftover) {
        process.kill(pid, "SIGKILL");
    }
    return leftover;
}

/**
 * This process's environment for a child mocha run serially, with `more`. Without MOCHA_WORKER_ID,
 * which this test inherits when it runs in a parallel worker: the child's root hook reads it to
 * tell a worker from a serial run (test/hooks.ts).
 */
function serialEnvironment(more: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const { MOCHA_WORKER_ID: _worker, ...env } = process.env;
    return { ...env, ...more };
}

/** The pids of this user's processes whose environment holds `entry` (NAME=value). */
function processesWithEnvironment(entry: string): number[] {
    return fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
        try {
            return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(entry) ? [Number(pid)] : [];
        } catch {
            return []; // gone, or not ours
        }
    });
}

function testSources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        return entry.isDirectory() ? testSources(file) : entry.name.endsWith(".ts") ? [file] : [];
    });
}

describe("temporary folders", () => {
    it("a parallel mocha run, passed and failed spec files, a command and a policy pack they start, leaves its temp directory empty and no process", function () {
        this.timeout(120_000);
        // The child's temp directory: fresh, so anything in it afterwards is the run's. This
        // folder itself is removed by the root hook after this file.
        const tmp = tempDir("run");
        // The stack name the pack fixture starts its pack with: its process is found by it after the run.
        const stack = `fixture-${process.pid}-${Date.now()}`;
        const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, CGAP_FIXTURE_STACK: stack };
        const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".fixture.ts"));
        const result = spawnSync(
            process.execPath,
            [MOCHA_BIN, "--config", path.join(PROJECT_DIR, ".mocharc.json"), "--parallel", "--jobs", "2", ...fixtures.map((f) => path.join(FIXTURES, f))],
            { cwd: PROJECT_DIR, env, encoding: "utf8" },
        );
        const output = result.stdout + result.stderr;
        const leftover = endLeftoverPacks(stack);
        // The run really ran every fixture, and one of them failed on purpose.
        assert.strictEqual(result.status, 1, output);
        assert.match(output, /4 passing/, output);
        assert.match(output, /1 failing/, output);
        assert.match(output, /this failure is the fixture's purpose/, output);
        assert.deepStrictEqual(fs.readdirSync(tmp), [], `the run left these in its temp directory`);
        assert.deepStrictEqual(leftover, [], "the run left its policy pack running");
    });

    it("a serial mocha run (--no-parallel) that takes a shared policy pack ends, and leaves the pack no longer running", function () {
        this.timeout(120_000);
        const stack = `fixture-serial-${process.pid}-${Date.now()}`;
        const result = spawnSync(
            process.execPath,
            [MOCHA_BIN, "--config", path.join(PROJECT_DIR, ".mocharc.json"), "--no-parallel", path.join(FIXTURES, "pack.fixture.ts")],
            // A pack the root hook kept would hold mocha open: the timeout turns that hang into a failure.
            { cwd: PROJECT_DIR, env: serialEnvironment({ CGAP_FIXTURE_STACK: stack }), encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" },
        );
        const output = result.stdout + result.stderr;
        const leftover = endLeftoverPacks(stack);
        assert.strictEqual(result.error, undefined, `mocha did not end: ${String(result.error)}\n${output}`);
        assert.strictEqual(result.status, 0, output);
        assert.match(output, /1 passing/, output);
        assert.deepStrictEqual(leftover, [], "the run left its policy pack running");
    });

    it("every test makes its temporary folders through tempDir(), so none is left behind", () => {
        const own = path.join(TEST_DIR, "tempDirs.ts");
        const offenders = testSources(TEST_DIR).filter((f) => f !== own && /\bmkdtemp(Sync)?\(/.test(fs.readFileSync(f, "utf8")));
        assert.deepStrictEqual(offenders.map((f) => path.relative(TEST_DIR, f)), []);
    });
});
