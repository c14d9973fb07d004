import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGES, killStarted, requireProgram, run, Sandbox, script, SECRET } from "./support";

// assume_identity as the roles use it: sourced by a script, so that its exports reach what the
// script runs next. The probe below stands in for a role: it sources the real file, then dumps
// its environment (NUL-separated, so any value survives) for the test to read.

const IDENTITY = "C4DatastoreCgapScratchApplicationConfiguration";

describe("images/assume_identity", function () {
    this.timeout(20000);
    let box: Sandbox;
    let probe: string;

    before(() => {
        requireProgram("python3", "python3");
    });

    beforeEach(() => {
        box = new Sandbox();
        probe = box.file("probe.sh");
        fs.writeFileSync(
            probe,
            `#!/bin/sh\nset -eu\nIMAGE_DIR='${IMAGES}'\n. "$IMAGE_DIR/assume_identity"\nenv -0 > "${box.file("env")}"\n`,
        );
    });

    afterEach(async () => {
        await killStarted();
        box.remove();
    });

    const assume = (env: Record<string, string | undefined> = {}) => run("/bin/sh", [probe], { env: box.env(env) });

    /** The environment the probe saw after sourcing assume_identity. */
    function exported(): Record<string, string> {
        const text = fs.readFileSync(box.file("env"), "utf8");
        return Object.fromEntries(
            text
                .split("\0")
                .filter(Boolean)
                .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
        );
    }

    const ini = () => fs.readFileSync(path.join(box.app, "production.ini"), "utf8");
    const iniValue = (key: string) => new RegExp(`^${key.replace(/\./g, "\\.")} = (.*)$`, "m").exec(ini())?.[1];

    /** Asserts a failure with exactly one line on stderr, matching `message`, and nothing rendered. */
    function assertFailedClearly(result: Awaited<ReturnType<typeof assume>>, message: RegExp): void {
        assert.equal(result.exit?.code, 1, result.output);
        const lines = result.stderr.split("\n").filter(Boolean);
        assert.equal(lines.length, 1, `expected one line on stderr:\n${result.stderr}`);
        assert.match(lines[0], /^assume_identity: /);
        assert.match(lines[0], message);
        assert.ok(!fs.existsSync(box.file("env")), "the script must stop at the failure");
        assert.ok(!fs.existsSync(path.join(box.app, "production.ini")), "nothing may be rendered");
    }

    describe("fails with one clear message", () => {
        it("when IDENTITY is unset, without reading any secret", async () => {
            const result = await assume({ IDENTITY: undefined });
            assertFailedClearly(result, /IDENTITY is not set; it must name the Secrets Manager secret/);
            assert.deepEqual(box.called(), []);
        });

        it("when IDENTITY is empty", async () => {
            assertFailedClearly(await assume({ IDENTITY: "" }), /IDENTITY is not set/);
        });

        it("when the secret is not JSON", async () => {
            box.setSecret("ENV_NAME=cgap-scratch");
            const result = await assume();
            assertFailedClearly(result, new RegExp(`secret '${IDENTITY}' is not valid JSON`));
            assert.ok(!result.stderr.includes("cgap-scratch"), "the secret's content must not be printed");
        });

        for (const [label, text] of [
            ["an array", '["ENV_NAME"]'],
            ["a string", '"cgap-scratch"'],
            ["null", "null"],
        ]) {
            it(`when the secret is JSON but ${label}, not an object`, async () => {
                box.setSecret(text);
                assertFailedClearly(await assume(), /is JSON but not a JSON object/);
            });
        }

        it("when the secret cannot be read", async () => {
            box.standIn("aws", "echo 'An error occurred (AccessDeniedException) when calling GetSecretValue' >&2; exit 254");
            const result = await assume();
            assert.equal(result.exit?.code, 1);
            assert.match(result.stderr, new RegExp(`assume_identity: could not read secret '${IDENTITY}' in us-east-1`));
            assert.ok(!fs.existsSync(box.file("env")));
        });

        it("when a key cannot be an environment variable", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, "BAD-KEY": "x" }));
            assertFailedClearly(await assume(), /key 'BAD-KEY', which is not a valid environment variable name/);
        });

        // The keys the app reads at run time, and where (images/assume_identity.py REQUIRED has
        // the sources): each missing one is named, and all of them in one message.
        const REQUIRED = ["ENV_NAME", "GLOBAL_ENV_BUCKET", "S3_AWS_ACCESS_KEY_ID", "S3_AWS_SECRET_ACCESS_KEY", "S3_ENCRYPT_KEY"];
        for (const key of REQUIRED) {
            for (const [how, value] of [["lacks", undefined], ["has an empty", ""]] as const) {
                it(`when the secret ${how} ${key}, naming it`, async () => {
                    const secret: Record<string, string> = { ...SECRET };
                    if (value === undefined) {
                        delete secret[key];
                    } else {
                        secret[key] = value;
                    }
                    box.setSecret(JSON.stringify(secret));
                    assertFailedClearly(await assume(), new RegExp(`secret '${IDENTITY}' is not complete: it lacks ${key} \\(`));
                });
            }
        }

        it("when the secret lacks several keys, naming every one in one line", async () => {
            const secret: Record<string, string> = { ...SECRET };
            for (const key of [...REQUIRED, "RDS_PASSWORD", "ENCODED_ES_SERVER"]) {
                delete secret[key];
            }
            box.setSecret(JSON.stringify(secret));
            const result = await assume();
            assertFailedClearly(result, /is not complete: it lacks ENV_NAME \(/);
            for (const key of [...REQUIRED, "RDS_PASSWORD", "ENCODED_ES_SERVER"]) {
                assert.match(result.stderr, new RegExp(`\\b${key} \\(`), key);
            }
            assert.equal(result.stderr.match(/\bENV_NAME \(/g)?.length, 1, "ENV_NAME is named once");
        });

        it("when ENCODED_S3_ENCRYPT_KEY_ID is set without ACCOUNT_NUMBER (upload credentials need both)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_S3_ENCRYPT_KEY_ID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" }));
            assertFailedClearly(await assume(), /it lacks ACCOUNT_NUMBER \(.*needed because ENCODED_S3_ENCRYPT_KEY_ID is set\)/);
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_S3_ENCRYPT_KEY_ID: "1a2b", ACCOUNT_NUMBER: "123456789012" }));
            assert.equal((await assume()).exit?.code, 0);
        });

        it("when the secret's ENV_NAME is not the stack's envName (queues and grants would disagree)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-production" }));
            assertFailedClearly(
                await assume({ CGAP_ENV_NAME: "cgap-mastertest" }),
                /has ENV_NAME 'cgap-production' but this stack's cgap:envName is 'cgap-mastertest': the app would use the queues and env file of 'cgap-production'/,
            );
        });

        it("when the task definition does not say which stack it belongs to", async () => {
            assertFailedClearly(await assume({ CGAP_ENV_NAME: undefined }), /CGAP_ENV_NAME is not set; the task definition passes the stack's cgap:envName/);
        });

        it("when the secret's GLOBAL_ENV_BUCKET is not the one the task role may read", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, GLOBAL_ENV_BUCKET: "other-foursight-envs" }));
            assertFailedClearly(await assume(), /has GLOBAL_ENV_BUCKET 'other-foursight-envs' but this stack's cgap:globalEnvBucket is 'cgap-scratch-foursight-envs'/);
        });

        it("when the secret sets CGAP_ENV_NAME itself, it is ignored and cannot make a mismatch pass", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-other", CGAP_ENV_NAME: "cgap-other" }));
            const result = await assume();
            assert.equal(result.exit?.code, 1, result.output);
            assert.match(result.stderr, /ignoring key CGAP_ENV_NAME in secret/);
            assert.match(result.stderr, /has ENV_NAME 'cgap-other' but this stack's cgap:envName is 'cgap-scratch'/);
            assert.ok(!fs.existsSync(path.join(box.app, "production.ini")), "nothing may be rendered");
        });

        it("when a setting the template uses holds a line break", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_ES_SERVER: "es:443\n[app:app]" }));
            assertFailedClearly(await assume(), /settings hold a line break, which an ini value cannot: ENCODED_ES_SERVER/);
        });

        it("when the template needs a setting that is not there, naming it", async () => {
            const { RDS_HOSTNAME: _omitted, ...rest } = SECRET;
            box.setSecret(JSON.stringify(rest));
            assertFailedClearly(await assume(), /needs settings that neither the secret nor the environment defines: RDS_HOSTNAME \(line \d+\)/);
        });
    });

    describe("with a JSON object secret", () => {
        it("reads the secret named by IDENTITY in the task's region", async () => {
            const result = await assume({ AWS_REGION: "us-west-2" });
            assert.equal(result.exit?.code, 0, result.output);
            assert.deepEqual(box.callLog(), [
                `aws secretsmanager get-secret-value --region us-west-2 --secret-id ${IDENTITY} --query SecretString --output text`,
            ]);
        });

        it("exports every key, values exactly as in the secret", async () => {
            const tricky = "it's \"quoted\" $HOME `id` \\ and\na second line";
            box.setSecret(JSON.stringify({ ...SECRET, S3_ENCRYPT_KEY: tricky, DEBUG: true, WORKERS: 4, EMPTY: null }));
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            const env = exported();
            for (const [key, value] of Object.entries(SECRET)) {
                if (key !== "S3_ENCRYPT_KEY") {
                    assert.equal(env[key], value, key);
                }
            }
            assert.equal(env.S3_ENCRYPT_KEY, tricky);
            assert.equal(env.DEBUG, "true");
            assert.equal(env.WORKERS, "4");
            assert.equal(env.EMPTY, "");
        });

        it("keeps IDENTITY and CGAP_ENVIRONMENT as the task definition set them", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, CGAP_ENVIRONMENT: "development", IDENTITY: "other" }));
            const result = await assume({ CGAP_ENVIRONMENT: "production" });
            assert.equal(result.exit?.code, 0, result.output);
            assert.equal(exported().CGAP_ENVIRONMENT, "production");
            assert.equal(exported().IDENTITY, IDENTITY);
            assert.match(result.stderr, /ignoring key CGAP_ENVIRONMENT in secret/);
        });

        it("renders production.ini from ini/any.ini for an environment without a template of its own", async () => {
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            assert.match(result.stderr, /rendered .*production\.ini from ini template any\.ini for ENV_NAME cgap-scratch/);
            assert.equal(iniValue("env.name"), "cgap-scratch");
            assert.equal(iniValue("identity"), IDENTITY);
            assert.equal(iniValue("elasticsearch.server"), SECRET.ENCODED_ES_SERVER);
            assert.equal(iniValue("file_upload_bucket"), SECRET.ENCODED_FILE_UPLOAD_BUCKET);
            assert.equal(iniValue("snovault.app_version"), "v15.6.0");
            assert.equal(iniValue("sqlalchemy.url"), "postgresql://postgresql:rds-password@db.internal:5432/ebdb");
            assert.equal(iniValue("load_test_data"), "snovault.loadxl:load_prod_data");
            assert.equal(iniValue("session.secret"), "%(here)s/session-secret.b64");
            // Optional settings the secret does not have are left to base.ini.
            assert.equal(iniValue("sentry_dsn"), undefined);
            assert.ok(!/\$\{/.test(ini().split("\n").filter((l) => !l.startsWith("#")).join("\n")), "unexpanded reference");
            assert.equal(fs.statSync(path.join(box.app, "production.ini")).mode & 0o777, 0o600);
        });

        it("picks the template named by ENV_NAME (ini/mastertest.ini for cgap-mastertest)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-mastertest", ENCODED_SENTRY_DSN: "https://k@sentry.example/1" }));
            const result = await assume({ CGAP_ENV_NAME: "cgap-mastertest" });
            assert.equal(result.exit?.code, 0, result.output);
            assert.match(result.stderr, /from ini template mastertest\.ini for ENV_NAME cgap-mastertest/);
            assert.equal(iniValue("env.name"), "cgap-mastertest");
            assert.equal(iniValue("load_test_data"), "snovault.loadxl:load_test_data");
            assert.equal(iniValue("sentry_dsn"), "https://k@sentry.example/1");
        });

        it("honours ENCODED_ES_NAMESPACE as the app does, the env name when unset (both templates)", async () => {
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), "cgap-scratch");
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_ES_NAMESPACE: "cgap-scratch-blue" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), "cgap-scratch-blue");
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-mastertest", ENCODED_ES_NAMESPACE: "cgap-mastertest-green" }));
            assert.equal((await assume({ CGAP_ENV_NAME: "cgap-mastertest" })).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), "cgap-mastertest-green");
            // The queues stay named after the env (snovault indexer_queue.py uses env.name).
            assert.equal(iniValue("env.name"), "cgap-mastertest");
        });

        it("keeps the app's optional profiler off: ENCODED_PROFILING_GROUP in the secret is not exported", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_PROFILING_GROUP: "cgap" }));
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            assert.equal(exported().ENCODED_PROFILING_GROUP, undefined);
            assert.match(result.stderr, /ignoring key ENCODED_PROFILING_GROUP in secret/);
        });

        it("escapes % for PasteDeploy, so a password may contain one", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, RDS_PASSWORD: "50%off" }));
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            assert.equal(iniValue("sqlalchemy.url"), "postgresql://postgresql:50%%off@db.internal:5432/ebdb");
        });

        it("writes the session secret from SESSION_SECRET, or a random one per container", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, SESSION_SECRET: "c2hhcmVk" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(fs.readFileSync(path.join(box.app, "session-secret.b64"), "utf8"), "c2hhcmVk\n");

            box.setSecret(JSON.stringify(SECRET));
            const result = await assume();
            assert.equal(result.exit?.code, 0);
            assert.match(result.stderr, /no SESSION_SECRET: this container uses a random session secret/);
            const random = fs.readFileSync(path.join(box.app, "session-secret.b64"), "utf8").trim();
            assert.equal(Buffer.from(random, "base64").length, 256);
        });

        it("can also run on its own, to render production.ini", async () => {
            const result = await run("/bin/sh", [script("assume_identity")], { env: box.env() });
            assert.equal(result.exit?.code, 0, result.output);
            assert.equal(iniValue("env.name"), "cgap-scratch");
        });
    });
});
