import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { APP_CONTRACT_VERSION, DEPLOYMENT_STEPS, SERVICE_COMMANDS, WSGI_PORTS } from "../../components/appContract";
import { ENV_ENTRY, ENV_NAME, FILLED_SECRET_2024, IDENTITY, MAIN_ECOSYSTEM } from "./estate";
import { IMAGES, isRunning, line, pidIn, requireProgram, run, Sandbox, sandboxPerTest, script, SH, start, waitFor } from "./support";

// The role scripts run as in the image (`/bin/sh /opt/cgap/entrypoint.sh`), with stand-ins for
// the app's commands: each logs its call; the long-running ones record their pid and then
// become a `sleep`, as the real servers would keep running.

/** Stand-in body of a server that keeps running: records its pid, checks its cwd, then sleeps. */
const SERVER = (pidFile: string) =>
    `[ -f production.ini ] || { echo "no production.ini in $(pwd)" >&2; exit 97; }\n` +
    `echo $$ > "${pidFile}"\nexec sleep 60`;

// The indexer's loop has its own file (indexer.spec.ts): its tests wait on the clock, and mocha's
// workers run files side by side.
describe("images/ role scripts", function () {
    this.timeout(20000);
    let box: Sandbox;
    const sandbox = sandboxPerTest();
    beforeEach(() => (box = sandbox()));

    describe("WSGI (entrypoint.sh)", () => {
        const PORTS = WSGI_PORTS.map(String);
        /**
         * pserve stand-in: records its pid per port (`pserve-<port>.pid`), then keeps running. On
         * the ports in DIE_ONCE it kills itself with SIGKILL the first time, as the app's memory
         * filter does (encoded/memlimit.py process.kill()); on the ports in BROKEN it always exits 1.
         */
        const WORKER =
            `[ -f production.ini ] || { echo "no production.ini in $(pwd)" >&2; exit 97; }\n` +
            `port=\${2#http_port=}\n` +
            `case " \${BROKEN:-} " in *" $port "*) exit 1 ;; esac\n` +
            `case " \${DIE_ONCE:-} " in *" $port "*) if [ ! -f "$BOX/died-$port" ]; then : > "$BOX/died-$port"; sleep 0.2; kill -KILL $$; fi ;; esac\n` +
            `echo $$ > "$BOX/pserve-$port.pid"\nexec sleep 60`;

        /** The role script, or `launcher` in front of it (tini, as the image runs it). */
        const serve = (extra: Record<string, string> = {}, launcher: string[] = []) => {
            box.standIn("nginx");
            box.standIn("pserve", WORKER);
            const [command, ...args] = [...launcher, SH, script("entrypoint.sh")];
            return start(command, args, {
                env: box.env({ NGINX_PREFIX: box.file("nginx-prefix/"), BOX: box.dir, WSGI_DRAIN_SECONDS: "1", ...extra }),
            });
        };
        const workerPids = () => PORTS.map((port) => pidIn(box.file(`pserve-${port}.pid`)));
        // Each pserve runs in a session of its own (setsid), out of reach of the process group cleanup.
        afterEach(() => {
            for (const pid of workerPids()) {
                if (pid !== undefined && isRunning(pid)) {
                    process.kill(pid, "SIGKILL");
                }
            }
        });
        const allStarted = (wsgi: ReturnType<typeof start>) =>
            waitFor("the five workers to start", 8000, () => (wsgi.exit ? [] : workerPids().every((p) => p) ? workerPids() : undefined));

        it("renders production.ini, starts nginx, then five pserve workers on the app's ports", async () => {
            const wsgi = serve();
            const pids = await allStarted(wsgi);
            assert.equal(pids.length, 5, wsgi.output);
            assert.deepEqual(box.called().slice(0, 2), ["aws", "nginx"]);
            assert.equal(box.callLog()[1], `nginx -e stderr -p ${box.file("nginx-prefix/")} -c /etc/nginx/nginx.conf`);
            assert.ok(fs.statSync(box.file("nginx-prefix/")).isDirectory(), "the nginx prefix must be created");
            assert.deepEqual(box.callLog().slice(2).sort(), PORTS.map((p) => line(SERVICE_COMMANDS.wsgi, `http_port=${p}`)));
            assert.ok(fs.existsSync(path.join(box.app, "production.ini")));
            assert.ok(pids.every((pid) => pid !== undefined && isRunning(pid)));
        });

        it("starts a worker the memory filter killed again, and leaves the others serving", async () => {
            const wsgi = serve({ DIE_ONCE: "6544" });
            const pids = await allStarted(wsgi);
            assert.equal(wsgi.exit, undefined, wsgi.output);
            const calls = box.callLog().filter((c) => c.startsWith("pserve "));
            assert.equal(calls.filter((c) => c.endsWith("http_port=6544")).length, 2, calls.join("\n"));
            for (const port of PORTS.filter((p) => p !== "6544")) {
                assert.equal(calls.filter((c) => c.endsWith(`http_port=${port}`)).length, 1, port);
            }
            assert.ok(pids.every((pid) => pid !== undefined && isRunning(pid)), "every worker runs again");
            assert.match(wsgi.stderr, /wsgi: worker on port 6544 ended with status 137; starting it again/);
        });

        it("stops the role, status 1, when a worker cannot start (not a memory kill)", async () => {
            const wsgi = serve({ BROKEN: "6545", WSGI_STARTSECS: "6" });
            const exit = await wsgi.waitExit(12000);
            assert.equal(exit.code, 1, wsgi.output);
            assert.match(wsgi.stderr, /worker on port 6545 ended 3 times in a row within 6s of its start \(last status 1\); giving up/);
            await waitFor("the other workers to end", 3000, () => (workerPids().every((p) => p === undefined || !isRunning(p)) ? true : undefined));
        });

        it("does not start the app server when nginx fails", async () => {
            box.standIn("nginx", "echo 'nginx: [emerg] bind() to 0.0.0.0:8000 failed' >&2; exit 1");
            box.standIn("pserve");
            const wsgi = await run(SH, [script("entrypoint.sh")], { env: box.env() });
            assert.equal(wsgi.exit?.code, 1, wsgi.output);
            assert.deepEqual(box.called(), ["aws", "nginx"]);
        });

        it("ends within a few seconds of SIGTERM and its drain, with every worker", async () => {
            const wsgi = serve();
            const pids = await allStarted(wsgi);
            process.kill(wsgi.pid, "SIGTERM");
            const exit = await wsgi.waitExit(4000);
            assert.equal(exit.code, 0, wsgi.output);
            assert.match(wsgi.stdout, /SIGTERM received, serving 1s more while the load balancer drains this task\n[^]*drained, stopping the workers/);
            await waitFor("the workers to end", 3000, () => (pids.every((p) => p === undefined || !isRunning(p)) ? true : undefined));
        });

        it("under tini -g, as the image runs it, keeps every worker serving through the drain, then stops them", async () => {
            const tini = requireProgram("tini", "tini", ["/usr/bin/tini"]);
            const wsgi = serve({ WSGI_DRAIN_SECONDS: "1" }, [tini, "-g", "--"]);
            const pids = await allStarted(wsgi);
            process.kill(wsgi.pid, "SIGTERM"); // tini hands it to the script's whole process group
            await waitFor("the drain to start", 2000, () => (/serving 1s more/.test(wsgi.stdout) ? true : undefined));
            await new Promise((resolve) => setTimeout(resolve, 500));
            assert.equal(wsgi.exit, undefined, `stopped before the drain ended:\n${wsgi.output}`);
            assert.ok(pids.every((pid) => pid !== undefined && isRunning(pid)), `a worker stopped at the SIGTERM:\n${wsgi.output}`);
            assert.doesNotMatch(wsgi.stderr, /starting it again/, "no worker was restarted");
            const exit = await wsgi.waitExit(5000);
            assert.equal(exit.code, 0, wsgi.output);
            await waitFor("the workers to end", 3000, () => (pids.every((p) => p === undefined || !isRunning(p)) ? true : undefined));
        });

        it("serves on the ports the app's nginx.conf and supervisord.conf use, in entrypoint.sh and nginx.conf alike", () => {
            const nginx = fs.readFileSync(script("nginx.conf"), "utf8");
            const upstream = [...nginx.matchAll(/^\s*server 127\.0\.0\.1:(\d+)( [^;]*)?;/gm)].map((m) => [Number(m[1]), /\bbackup\b/.test(m[2] ?? "")]);
            assert.deepEqual(upstream, WSGI_PORTS.map((p, i) => [p, i === WSGI_PORTS.length - 1]));
            const entrypoint = fs.readFileSync(script("entrypoint.sh"), "utf8");
            assert.match(entrypoint, new RegExp(`^WSGI_PORTS=\\$\\{WSGI_PORTS:-${WSGI_PORTS.join(" ")}\\}$`, "m"));
        });
    });

    describe("ingester (entrypoint_ingester.sh)", () => {
        it("renders production.ini, then becomes the ingestion listener", async () => {
            const pidFile = box.file("listener.pid");
            box.standIn("ingestion-listener", SERVER(pidFile));
            const ingester = start(SH, [script("entrypoint_ingester.sh")], { env: box.env() });
            const pid = await waitFor("the listener to start", 8000, () => (ingester.exit ? -1 : pidIn(pidFile)));
            assert.equal(pid, ingester.pid, `the listener must replace the script (exec)\n${ingester.output}`);
            assert.deepEqual(box.callLog().slice(1), [line(SERVICE_COMMANDS.ingester)]);
        });

        it("gives the listener the estate secret's ini, and none of its secrets in the environment", async () => {
            const pidFile = box.file("listener.pid");
            box.standIn("ingestion-listener", `env -0 > "${box.file("listener.env")}"\n${SERVER(pidFile)}`);
            box.setSecret(JSON.stringify({ ...FILLED_SECRET_2024, AWS_ACCESS_KEY_ID: "AKIAREALLOOKINGKEY00", SESSION_SECRET: "c2hhcmVk" }));
            const ingester = start(SH, [script("entrypoint_ingester.sh")], { env: box.env() });
            await waitFor("the listener to start", 8000, () => (ingester.exit ? -1 : pidIn(pidFile)));
            const env = new Map(
                fs.readFileSync(box.file("listener.env"), "utf8").split("\0").filter(Boolean).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
            );
            assert.equal(env.get("ENV_NAME"), ENV_NAME);
            assert.equal(env.get("IDENTITY"), IDENTITY, "the app reads the rest of the secret itself, by this name");
            assert.equal(env.get("LANG"), "C.UTF-8");
            for (const key of ["RDS_PASSWORD", "S3_AWS_SECRET_ACCESS_KEY", "ENCODED_AUTH0_SECRET", "S3_ENCRYPT_KEY", "AWS_ACCESS_KEY_ID", "SESSION_SECRET", "LC_ALL"]) {
                assert.equal(env.get(key), undefined, key);
            }
            const values = [...env.values()];
            for (const secret of [FILLED_SECRET_2024.RDS_PASSWORD, FILLED_SECRET_2024.S3_AWS_SECRET_ACCESS_KEY, FILLED_SECRET_2024.ENCODED_AUTH0_SECRET]) {
                assert.ok(!values.some((v) => v.includes(secret)), "a secret value reached the listener's environment");
            }
            assert.match(fs.readFileSync(box.file("app/production.ini"), "utf8"), /^auth0\.secret = stand-in-auth0-client-secret$/m);
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
        const PORTAL_URL = "https://cgap-mastertest.example.org";
        /** The app's steps as components/appContract.ts pins them, with this container's values. */
        const valued = (args: readonly string[]) => args.map((a) => (a === "ENV_NAME" ? ENV_NAME : a === "IDENTITY" ? IDENTITY : a));
        const expected = (kind: "initial" | "routine") => DEPLOYMENT_STEPS[kind].map(({ command, args }) => [command, ...valued(args)].join(" "));
        const STEPS = [...new Set([...DEPLOYMENT_STEPS.initial, ...DEPLOYMENT_STEPS.routine].map((s) => s.command))];

        /**
         * clear-db-es-contents as cgap-portal v15.6.0 commands/clear_db_es_contents.py decides, on
         * the env entry the estate has: its arguments, env.name from the ini, then dcicutils 8.16.1
         * EnvUtils.init (the env's entry in the global env bucket, then the ecosystem it names) and
         * env_utils.is_stg_or_prd_env (_is_raw_stg_or_prd_env, or an alias in public_url_table).
         * A refusal is logged with SKIPPING_CLEAR_ATTEMPT and exits 0, as run_clear_db_es returns.
         * The bucket is the directory s3/<bucket>/ of the sandbox.
         */
        const CLEAR_DB_ES_CONTENTS = [
            "import argparse, configparser, json, os, sys",
            "SKIP = 'Skipping the attempt to clear DB.'",
            "p = argparse.ArgumentParser()",
            "p.add_argument('config_uri'); p.add_argument('--app-name')",
            "p.add_argument('--only-if-env', '--only-if-envs', dest='only_envs', default=None)",
            "p.add_argument('--confirm', action='store_true', dest='confirm', default=None)",
            "p.add_argument('--no-confirm', action='store_false', dest='confirm', default=None)",
            "p.add_argument('--skip-es', action='store_true', default=False)",
            "p.add_argument('--allow-prod', action='store_true', default=False)",
            "args = p.parse_args()",
            "ini = configparser.RawConfigParser(); ini.read(args.config_uri)",
            "current = ini.get('app:app', 'env.name', fallback='local')",
            "root = os.path.join(os.environ['BOX'], 's3', os.environ['GLOBAL_ENV_BUCKET'])",
            "entry = json.load(open(os.path.join(root, os.environ['ENV_NAME'])))",
            "eco = json.load(open(os.path.join(root, entry['ecosystem'] + '.ecosystem'))) if 'ecosystem' in entry else entry",
            "def raw(e):",
            "    return e == eco.get('prd_env_name') or bool(eco.get('stage_mirroring_enabled') and eco.get('stg_env_name') and e == eco.get('stg_env_name'))",
            "def stg_or_prd(e):",
            "    alias = [a for a in eco.get('public_url_table', []) if a.get('name') == e]",
            "    return bool(e) and (raw(e) or bool(alias and raw(alias[0]['environment'])))",
            "confirm = args.confirm if args.confirm is not None else not args.only_envs",
            "if confirm:",
            "    print('NOT confirmed. ' + SKIP); sys.exit(0)",
            "if stg_or_prd(current) and not args.allow_prod:",
            "    print('clear_db_es_contents: This action cannot be performed on env %s because it is a production-class (stg or prd) environment. %s' % (current, SKIP), file=sys.stderr); sys.exit(0)",
            "only = [x for x in (args.only_envs or '').split(',') if x]",
            "if only and current not in only:",
            "    print('clear_db_es_contents: The current environment, %s, is not %s. %s' % (current, ' or '.join(only), SKIP), file=sys.stderr); sys.exit(0)",
            "open(os.path.join(os.environ['BOX'], 'wiped'), 'w').write(current)",
            "print('clear_db_es_contents: All done.', file=sys.stderr)",
            "",
        ].join("\n");

        beforeEach(() => {
            for (const step of STEPS.filter((s) => s !== "load-access-keys")) {
                box.standIn(step, "[ -f production.ini ] || exit 97");
            }
            fs.writeFileSync(box.file("clear_db_es_contents.py"), CLEAR_DB_ES_CONTENTS);
            box.standIn("clear-db-es-contents", '[ -f production.ini ] || exit 97\nexec python3 "$BOX/clear_db_es_contents.py" "$@"');
            // The global env bucket as 4dn-cloud-infra's assure_global_env_bucket.py fills it.
            const bucket = box.file(`s3/${FILLED_SECRET_2024.GLOBAL_ENV_BUCKET}`);
            fs.mkdirSync(bucket, { recursive: true });
            fs.writeFileSync(path.join(bucket, ENV_NAME), JSON.stringify(ENV_ENTRY));
            fs.writeFileSync(path.join(bucket, "main.ecosystem"), JSON.stringify(MAIN_ECOSYSTEM));
            // The app's encoded.commands.load_access_keys, as images/load_access_keys.py imports it:
            // logs its call like a stand-in, and the URL it would store with the keys.
            const commands = box.file("py/encoded/commands");
            fs.mkdirSync(commands, { recursive: true });
            fs.writeFileSync(box.file("py/encoded/__init__.py"), "");
            fs.writeFileSync(path.join(commands, "__init__.py"), "");
            fs.writeFileSync(
                path.join(commands, "load_access_keys.py"),
                [
                    "import os, sys",
                    "def get_ecs_real_url(env):",
                    "    raise RuntimeError('the CloudFormation lookup must not be used')",
                    "def main():",
                    "    with open(os.environ['CALLS'], 'a') as calls:",
                    "        calls.write(' '.join(['load-access-keys'] + sys.argv[1:]) + '\\n')",
                    "    with open(os.path.join(os.environ['BOX'], 'url'), 'w') as url:",
                    "        url.write(get_ecs_real_url(os.environ['ENV_NAME']))",
                    "    sys.exit(int(os.environ.get('LOAD_ACCESS_KEYS_STATUS', '0')))",
                    "",
                ].join("\n"),
            );
        });

        const deploy = (env: Record<string, string | undefined> = {}) =>
            run(SH, [script("entrypoint_deployment.sh")], {
                env: box.env({ PYTHONPATH: box.file("py"), BOX: box.dir, CGAP_PORTAL_URL: PORTAL_URL, ...env }),
            });
        const steps = () => box.callLog().slice(1);

        it(`pins the steps of cgap-portal ${APP_CONTRACT_VERSION}'s entrypoint_deployment.sh, the version both stack files deploy`, () => {
            for (const stack of ["mastertest", "production"]) {
                const file = fs.readFileSync(path.join(IMAGES, "..", `Pulumi.${stack}.yaml`), "utf8");
                assert.match(file, new RegExp(`^\\s*cgap:appVersion: ${APP_CONTRACT_VERSION.replace(/\./g, "\\.")}$`, "m"), stack);
            }
            assert.deepEqual(expected("routine"), [
                "create-mapping-on-deploy production.ini --app-name app --staggered",
                "load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype higlass_view_config",
                "load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype user",
                `load-access-keys production.ini --app-name app --secret-name ${IDENTITY}`,
            ]);
        });

        it("runs the routine sequence by default: no wipe, mappings staggered, view configs and users overwritten", async () => {
            const deployment = await deploy({ CGAP_ENVIRONMENT: "development" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.equal(box.called()[0], "aws");
            assert.deepEqual(steps(), expected("routine"));
            assert.match(deployment.stdout, /routine deployment of cgap-portal v15\.6\.0: starting/);
            assert.doesNotMatch(deployment.output, /WIPE/);
        });

        it("runs the initial sequence with INITIAL_DEPLOYMENT on development: wipe, staggered mappings, every insert", async () => {
            const deployment = await deploy({ CGAP_ENVIRONMENT: "development", INITIAL_DEPLOYMENT: "true" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.deepEqual(steps(), expected("initial"));
            assert.match(deployment.stdout, /all steps of the initial deployment succeeded/);
        });

        it("finishes the initial deployment of a development stack whose env entry names it prd_env_name, as 4dn-cloud-infra writes it", async () => {
            const deployment = await deploy({ CGAP_ENVIRONMENT: "development", INITIAL_DEPLOYMENT: "true" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.equal(fs.readFileSync(box.file("wiped"), "utf8"), ENV_NAME, "the database was cleared");
            assert.match(deployment.stdout, /clear_db_es_contents: All done\./);
            assert.doesNotMatch(deployment.output, /WIPE SKIPPED/);
        });

        it("has a clear-db-es-contents stand-in that refuses as the real command does on that env entry", async () => {
            // Without --allow-prod, the estate's ecosystem file makes every environment production-class.
            fs.writeFileSync(box.file("app/production.ini"), `[app:app]\nenv.name = ${ENV_NAME}\n`);
            const env = box.env({ BOX: box.dir, ENV_NAME, GLOBAL_ENV_BUCKET: FILLED_SECRET_2024.GLOBAL_ENV_BUCKET });
            const refused = await run(SH, ["-c", "cd \"$1\" && clear-db-es-contents production.ini --app-name app --only-if-env \"$2\"", "sh", box.app, ENV_NAME], { env });
            assert.equal(refused.exit?.code, 0, refused.output);
            assert.match(refused.stderr, new RegExp(`cannot be performed on env ${ENV_NAME} because it is a production-class \\(stg or prd\\) environment\\. Skipping the attempt to clear DB\\.`));
            assert.ok(!fs.existsSync(box.file("wiped")));
            // --allow-prod does not lift --only-if-env.
            const other = await run(SH, ["-c", "cd \"$1\" && clear-db-es-contents production.ini --app-name app --only-if-env cgap-other --allow-prod", "sh", box.app], { env });
            assert.match(other.stderr, /is not cgap-other\. Skipping the attempt to clear DB\./);
            assert.ok(!fs.existsSync(box.file("wiped")));
        });

        it("gives load-access-keys the portal URL the stack passes, never the CloudFormation lookup", async () => {
            const deployment = await deploy();
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.equal(fs.readFileSync(box.file("url"), "utf8"), PORTAL_URL);
        });

        it("stops before load-access-keys makes keys when the task definition passes no portal URL", async () => {
            const deployment = await deploy({ CGAP_PORTAL_URL: undefined });
            assert.equal(deployment.exit?.code, 1, deployment.output);
            assert.match(deployment.stderr, /load-access-keys: CGAP_PORTAL_URL is ''; the task definition must pass the portal's URL/);
            assert.ok(!fs.existsSync(box.file("url")));
        });

        for (const [label, value] of [
            ["production", "production"],
            ["staging", "staging"],
            ["unset", undefined],
            ["empty", ""],
            ["unknown", "Development"],
        ] as const) {
            it(`skips the wipe of an initial deployment when CGAP_ENVIRONMENT is ${label}, and says so`, async () => {
                const deployment = await deploy({ CGAP_ENVIRONMENT: value, INITIAL_DEPLOYMENT: "1" });
                assert.equal(deployment.exit?.code, 0, deployment.output);
                assert.deepEqual(steps(), expected("initial").slice(1));
                assert.match(deployment.stdout, new RegExp(`WIPE SKIPPED: CGAP_ENVIRONMENT is '${value ?? ""}', and only a development environment is ever wiped`));
            });
        }

        it("stops, status 1 and nothing loaded, when clear-db-es-contents refuses and exits 0", async () => {
            box.standIn(
                "clear-db-es-contents",
                "echo 'clear_db_es_contents: This action cannot be performed on env cgap-mastertest because it is a production-class (stg or prd) environment. Skipping the attempt to clear DB.' >&2",
            );
            const deployment = await deploy({ CGAP_ENVIRONMENT: "development", INITIAL_DEPLOYMENT: "1" });
            assert.equal(deployment.exit?.code, 1, deployment.output);
            assert.deepEqual(steps(), expected("initial").slice(0, 1));
            assert.match(deployment.stdout, /production-class \(stg or prd\) environment\. Skipping the attempt to clear DB\./);
            assert.match(deployment.stderr, /WIPE SKIPPED: clear-db-es-contents refused to clear the database .* stopping before anything is loaded/);
        });

        it("does not let the secret make an environment development or a deployment initial", async () => {
            const secret = JSON.parse(fs.readFileSync(box.secretFile, "utf8"));
            box.setSecret(JSON.stringify({ ...secret, CGAP_ENVIRONMENT: "development", INITIAL_DEPLOYMENT: "true" }));
            const deployment = await deploy({ CGAP_ENVIRONMENT: "production" });
            assert.equal(deployment.exit?.code, 0, deployment.output);
            assert.deepEqual(steps(), expected("routine"));
        });

        for (const kind of ["initial", "routine"] as const) {
            for (const [index, step] of DEPLOYMENT_STEPS[kind].entries()) {
                it(`stops the ${kind} deployment at a failing ${step.command} (step ${index + 1}) and exits with its status`, async () => {
                    let extra: Record<string, string> = {};
                    if (step.command === "load-access-keys") {
                        extra = { LOAD_ACCESS_KEYS_STATUS: "7" };
                    } else {
                        // Only this call of the command fails (load-data-by-type runs twice).
                        box.standIn(step.command, `case "$*" in "${valued(step.args).join(" ")}") exit 7 ;; esac`);
                    }
                    const deployment = await deploy({ CGAP_ENVIRONMENT: "development", INITIAL_DEPLOYMENT: kind === "initial" ? "1" : undefined, ...extra });
                    assert.equal(deployment.exit?.code, 7, deployment.output);
                    assert.deepEqual(steps(), expected(kind).slice(0, index + 1));
                    assert.match(deployment.stderr, new RegExp(`deployment: ${step.command} failed with status 7`));
                });
            }
        }

        it("runs no step when assume_identity fails", async () => {
            box.setSecret("not json");
            const deployment = await deploy();
            assert.equal(deployment.exit?.code, 1);
            assert.deepEqual(box.called(), ["aws"]);
        });
    });
});
