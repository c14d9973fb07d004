import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { isRunning, killStarted, requireProgram, run, Sandbox, script, start, waitFor } from "./support";

// The role scripts run as in the image (`/bin/sh /opt/cgap/entrypoint.sh`), with stand-ins for
// the app's commands: each logs its call; the long-running ones record their pid and then
// become a `sleep`, as the real servers would keep running.

const SH = "/bin/sh";
const ARGS = ["production.ini", "--app-name", "app"];

/** Stand-in body of a server that keeps running: records its pid, checks its cwd, then sleeps. */
const SERVER = (pidFile: string) =>
    `[ -f production.ini ] || { echo "no production.ini in $(pwd)" >&2; exit 97; }\n` +
    `echo $$ > "${pidFile}"\nexec sleep 60`;

/** Reads a pid file once it has been written. */
function pidIn(file: string): number | undefined {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    return text ? Number(text) : undefined;
}

describe("images/ role scripts", function () {
    this.timeout(20000);
    let box: Sandbox;

    before(() => {
        requireProgram("python3", "python3");
    });

    beforeEach(() => {
        box = new Sandbox();
    });

    afterEach(async () => {
        await killStarted();
        box.remove();
    });

    describe("WSGI (entrypoint.sh)", () => {
        it("renders production.ini, starts nginx, then becomes the app server", async () => {
            const pidFile = box.file("pserve.pid");
            box.standIn("nginx");
            box.standIn("pserve", SERVER(pidFile));
            const prefix = box.file("nginx-prefix/");
            const wsgi = start(SH, [script("entrypoint.sh")], { env: box.env({ NGINX_PREFIX: prefix }) });

            const pid = await waitFor("the app server to start", 8000, () => (wsgi.exit ? -1 : pidIn(pidFile)));
            assert.equal(pid, wsgi.pid, `the app server must replace the script (exec)\n${wsgi.output}`);
            assert.deepEqual(box.called(), ["aws", "nginx", "pserve"]);
            const [, nginx, pserve] = box.callLog();
            assert.equal(nginx, `nginx -e stderr -p ${prefix} -c /etc/nginx/nginx.conf`);
            assert.ok(fs.statSync(prefix).isDirectory(), "the nginx prefix must be created");
            assert.equal(pserve, "pserve production.ini");
            assert.ok(fs.existsSync(path.join(box.app, "production.ini")));
        });

        it("does not start the app server when nginx fails", async () => {
            box.standIn("nginx", "echo 'nginx: [emerg] bind() to 0.0.0.0:8000 failed' >&2; exit 1");
            box.standIn("pserve");
            const wsgi = await run(SH, [script("entrypoint.sh")], { env: box.env() });
            assert.equal(wsgi.exit?.code, 1, wsgi.output);
            assert.deepEqual(box.called(), ["aws", "nginx"]);
        });

        it("ends within a few seconds of SIGTERM", async () => {
            const pidFile = box.file("pserve.pid");
            box.standIn("nginx");
            box.standIn("pserve", SERVER(pidFile));
            const wsgi = start(SH, [script("entrypoint.sh")], { env: box.env({ NGINX_PREFIX: box.file("p/") }) });
            await waitFor("the app server to start", 8000, () => pidIn(pidFile));
            process.kill(wsgi.pid, "SIGTERM");
            const exit = await wsgi.waitExit(3000);
            assert.equal(exit.signal, "SIGTERM");
        });
    });

    describe("indexer (entrypoint_indexer.sh)", () => {
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
                assert.equal(call, `es-index-data ${ARGS.join(" ")}`);
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

        it("ends within a few seconds of SIGTERM during a run, and stops the run", async () => {
            const pidFile = box.file("run.pid");
            box.standIn("es-index-data", `echo $$ > "${pidFile}"\nexec sleep 60`);
            const loop = start(SH, [script("entrypoint_indexer.sh")], { env: box.env() });
            const runPid = await waitFor("a run to start", 8000, () => pidIn(pidFile));
            process.kill(loop.pid, "SIGTERM");
            const exit = await loop.waitExit(3000);
            assert.equal(exit.code, 0, loop.output);
            await waitFor("the run to end", 3000, () => (isRunning(runPid) ? undefined : true));
        });
    });

    describe("ingester (entrypoint_ingester.sh)", () => {
        it("renders production.ini, then becomes the ingestion listener", async () => {
            const pidFile = box.file("listener.pid");
            box.standIn("ingestion-listener", SERVER(pidFile));
            const ingester = start(SH, [script("entrypoint_ingester.sh")], { env: box.env() });
            const pid = await waitFor("the listener to start", 8000, () => (ingester.exit ? -1 : pidIn(pidFile)));
            assert.equal(pid, ingester.pid, `the listener must replace the script (exec)\n${ingester.output}`);
            assert.deepEqual(box.callLog().slice(1), [`ingestion-listener ${ARGS.join(" ")}`]);
        });

        it("ends within a few seconds of SIGTERM", async () => {
            const pidFile = box.file("listener.pid");
            box.standIn("ingestion-listener", SERVER(pidFile));
            const ingester = start(SH, [script("entrypoint_ingester.sh")], { env: box.env() });
            await waitFor("the listener to start", 8000, () => pidIn(pidFile));
            process.kill(ingester.pid, "SIGTERM");
            const exit = await ingester.waitExit(3000);
            assert.equal(exit.signal, "SIGTERM");
        });

        it("does not start when assume_identity fails", async () => {
            box.standIn("ingestion-listener");
            const ingester = await run(SH, [script("entrypoint_ingester.sh")], { env: box.env({ IDENTITY: undefined }) });
            assert.equal(ingester.exit?.code, 1);
            assert.deepEqual(box.called(), []);
        });
    });

    describe("deployment (entrypoint_deployment.sh)", () => {
        const STEPS = ["clear-db-es-contents", "create-mapping-on-deploy", "load-data", "load-access-keys"];
        const IDENTITY = "C4DatastoreCgapScratchApplicationConfiguration";
        const EXPECTED = [
            `clear-db-es-contents ${ARGS.join(" ")} --only-if-env cgap-scratch`,
            `create-mapping-on-deploy ${ARGS.join(" ")}`,
            `load-data ${ARGS.join(" ")} --prod`,
            `load-access-keys ${ARGS.join(" ")} --secret-name ${IDENTITY}`,
        ];

        beforeEach(() => {
            for (const step of STEPS) {
                box.standIn(step, '[ -f production.ini ] || exit 97');
            }
        });

        const deploy = (env: Record<string, string | undefined> = {}) =>
            run(SH, [script("entrypoint_deployment.sh")], { env: box.env(env) });

        it("runs every step in order on development, and exits 0", async () => {
            const deployment = await deploy({ CGAP_ENVIRONMENT: "development" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.deepEqual(box.callLog().slice(1), EXPECTED);
            assert.equal(box.called()[0], "aws");
        });

        for (const environment of ["production", "staging"]) {
            it(`skips the destructive clear-db-es-contents on ${environment}, saying why`, async () => {
                const deployment = await deploy({ CGAP_ENVIRONMENT: environment });
                assert.equal(deployment.exit?.code, 0, deployment.output);
                assert.deepEqual(box.callLog().slice(1), EXPECTED.slice(1));
                assert.match(
                    deployment.stdout,
                    new RegExp(`skipping clear-db-es-contents: CGAP_ENVIRONMENT is ${environment}`),
                );
            });
        }

        for (const [label, value] of [
            ["unset", undefined],
            ["empty", ""],
            ["unknown", "Development"],
        ] as const) {
            it(`skips the destructive clear-db-es-contents when CGAP_ENVIRONMENT is ${label}`, async () => {
                const deployment = await deploy({ CGAP_ENVIRONMENT: value });
                assert.equal(deployment.exit?.code, 0, deployment.output);
                assert.deepEqual(box.callLog().slice(1), EXPECTED.slice(1));
                assert.match(deployment.stdout, /skipping clear-db-es-contents: CGAP_ENVIRONMENT is '.*' \(unset or unknown\)/);
            });
        }

        it("does not let the secret make an environment development", async () => {
            box.setSecret(JSON.stringify({ ...JSON.parse(fs.readFileSync(box.secretFile, "utf8")), CGAP_ENVIRONMENT: "development" }));
            const deployment = await deploy({ CGAP_ENVIRONMENT: "production" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.ok(!box.called().includes("clear-db-es-contents"));
        });

        for (const [index, step] of STEPS.entries()) {
            it(`stops at a failing ${step} and exits with its status`, async () => {
                box.standIn(step, "exit 7");
                const deployment = await deploy({ CGAP_ENVIRONMENT: "development" });
                assert.equal(deployment.exit?.code, 7, deployment.output);
                assert.deepEqual(box.callLog().slice(1), EXPECTED.slice(0, index + 1));
                assert.match(deployment.stderr, new RegExp(`deployment: ${step} failed with status 7`));
            });
        }

        it("runs no step when assume_identity fails", async () => {
            box.setSecret("not json");
            const deployment = await deploy();
            assert.equal(deployment.exit?.code, 1);
            assert.deepEqual(box.called(), ["aws"]);
        });
    });
});
