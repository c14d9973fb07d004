// The indexer's role script run as in the image (`/bin/sh /opt/cgap/entrypoint_indexer.sh`), with
// a stand-in for es-index-data that logs each run's time: its loop, interval and drain, on the
// clock. Apart from the other roles (roles.spec.ts) so that mocha's workers wait on both at once.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { SERVICE_COMMANDS } from "../../components/appContract";
import { isRunning, line, pidIn, requireProgram, run, Sandbox, sandboxPerTest, script, SH, start, waitFor } from "./support";

describe("images/ role scripts: indexer (entrypoint_indexer.sh)", function () {
    this.timeout(20000);
    let box: Sandbox;
    const sandbox = sandboxPerTest();
    beforeEach(() => (box = sandbox()));

    /** es-index-data stand-in: logs a timestamp per run, fails on the runs listed. */
    function indexer(failingRuns: number[]): void {
        const counter = box.file("runs");
        box.standIn(
            "es-index-data",
            [
                `n=$(( $(cat "${counter}" 2>/dev/null || echo 0) + 1 )); echo "$n" > "${counter}"`,
                `date +%s%N >> "${box.file("times")}"`,
                `case " ${failingRuns.join(" ")} " in *" $n "*) echo "indexing blew up" >&2; exit 3;; esac`,
            ].join("\n"),
        );
    }

    const runTimes = () =>
        fs.existsSync(box.file("times"))
            ? fs.readFileSync(box.file("times"), "utf8").split("\n").filter(Boolean).map((ns) => Number(BigInt(ns) / 1000000n))
            : [];

    it("keeps looping after a failed run, at the configured interval", async () => {
        indexer([1]);
        const loop = start(SH, [script("entrypoint_indexer.sh")], { env: box.env({ INDEXER_INTERVAL_SECONDS: "1" }) });
        await waitFor("three indexing runs", 8000, () => (runTimes().length >= 3 || loop.exit ? true : undefined));
        assert.equal(loop.exit, undefined, `the indexer stopped:\n${loop.output}`);

        const times = runTimes();
        const gaps = times.slice(1).map((t, i) => t - times[i]);
        for (const gap of gaps.slice(0, 2)) {
            assert.ok(gap >= 950 && gap < 2500, `runs ${gaps.join(", ")} ms apart; expected about 1000 ms`);
        }
        assert.match(loop.stderr, /indexer: es-index-data failed with status 3; next run in 1s/);
        const calls = box.callLog();
        assert.equal(calls[0].split(" ")[0], "aws");
        for (const call of calls.slice(1)) {
            assert.equal(call, line(SERVICE_COMMANDS.indexer));
        }
    });

    it("waits 3 seconds between runs when INDEXER_INTERVAL_SECONDS is unset", async () => {
        indexer([]);
        const loop = start(SH, [script("entrypoint_indexer.sh")], { env: box.env() });
        await waitFor("the first run", 8000, () => (runTimes().length >= 1 ? true : undefined));
        await waitFor("the loop's announcement", 2000, () =>
            /indexer: running es-index-data every 3s/.test(loop.stdout) ? true : undefined,
        );
        // A second run within 2.5 s would mean the default interval is not 3 s.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.equal(runTimes().length, 1, `ran ${runTimes().length} times in 2.5 s`);
    });

    it("refuses an interval that is not a whole number of seconds", async () => {
        indexer([]);
        const loop = await run(SH, [script("entrypoint_indexer.sh")], { env: box.env({ INDEXER_INTERVAL_SECONDS: "1m" }) });
        assert.equal(loop.exit?.code, 1);
        assert.match(loop.stderr, /INDEXER_INTERVAL_SECONDS must be a whole number of seconds, not '1m'/);
        assert.deepEqual(box.called(), []);
    });

    it("ends within a few seconds of SIGTERM while sleeping between runs", async () => {
        indexer([]);
        const loop = start(SH, [script("entrypoint_indexer.sh")], { env: box.env({ INDEXER_INTERVAL_SECONDS: "30" }) });
        await waitFor("the first run", 8000, () => (runTimes().length >= 1 ? true : undefined));
        await new Promise((resolve) => setTimeout(resolve, 200));
        process.kill(loop.pid, "SIGTERM");
        const exit = await loop.waitExit(3000);
        assert.equal(exit.code, 0, loop.output);
        assert.match(loop.stdout, /indexer: SIGTERM received, stopping/);
    });

    it("stops a run that outlasts INDEXER_DRAIN_SECONDS after SIGTERM, and ends", async () => {
        const pidFile = box.file("run.pid");
        box.standIn("es-index-data", `echo $$ > "${pidFile}"\nexec sleep 60`);
        const loop = start(SH, [script("entrypoint_indexer.sh")], { env: box.env({ INDEXER_DRAIN_SECONDS: "1" }) });
        const runPid = await waitFor("a run to start", 8000, () => pidIn(pidFile));
        process.kill(loop.pid, "SIGTERM");
        const exit = await loop.waitExit(4000);
        assert.equal(exit.code, 0, loop.output);
        assert.match(loop.stdout, /letting the run in progress finish \(at most 1s\)\nindexer: stopping/);
        await waitFor("the run to end", 3000, () => (isRunning(runPid) ? undefined : true));
    });

    it("under tini -g, as the image runs it, lets the run in progress finish after SIGTERM, then ends", async () => {
        const tini = requireProgram("tini", "tini", ["/usr/bin/tini"]);
        const finished = box.file("finished");
        box.standIn("es-index-data", `echo started > "${box.file("started")}"\nsleep 1\necho done > "${finished}"`);
        const loop = start(tini, ["-g", "--", SH, script("entrypoint_indexer.sh")], { env: box.env({ INDEXER_INTERVAL_SECONDS: "30" }) });
        await waitFor("a run to start", 8000, () => (fs.existsSync(box.file("started")) ? true : undefined));
        process.kill(loop.pid, "SIGTERM"); // tini hands it to the script's whole process group
        const exit = await loop.waitExit(5000);
        assert.equal(exit.code, 0, loop.output);
        assert.ok(fs.existsSync(finished), `the run was cut:\n${loop.output}`);
        assert.match(loop.stdout, /SIGTERM received, letting the run in progress finish/);
    });
});
