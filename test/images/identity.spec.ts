import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    DATASTORE_SECRET_2021,
    DATASTORE_SECRET_2024,
    ENV_NAME,
    FILLED_SECRET_2021,
    FILLED_SECRET_2021_AUGUST,
    FILLED_SECRET_2024,
    IDENTITY,
    PLACEHOLDER,
} from "./estate";
import { IMAGES, killStarted, requireProgram, run, Sandbox, script, SECRET } from "./support";

// assume_identity as the roles use it: sourced by a script, so that its exports reach what the
// script runs next. The probe below stands in for a role: it sources the real file, then dumps
// its environment (NUL-separated, so any value survives) for the test to read.

/** Another environment, without an ini template of its own: the estate's secret, renamed. */
const DEVTEST = "cgap-devtest";
const devtest = (secret: Record<string, string> = SECRET) => JSON.stringify({ ...secret, ENV_NAME: DEVTEST, GLOBAL_ENV_BUCKET: "cgap-devtest-foursight-envs" });
const DEVTEST_ENV = { CGAP_ENV_NAME: DEVTEST, CGAP_GLOBAL_ENV_BUCKET: "cgap-devtest-foursight-envs" };
/** What images/assume_identity.py RUNTIME lets into the app's environment (its comment has the sources). */
const RUNTIME = ["ENV_NAME", "GLOBAL_ENV_BUCKET", "reCaptchaKey", "reCaptchaSecret", "ES_REFRESH_DURING_INDEXING", "DEBUGLOG", "REF_TZ", "ECOSYSTEM", "MIRROR_ENV_NAME"];

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
            box.setSecret(`ENV_NAME=${ENV_NAME}`);
            const result = await assume();
            assertFailedClearly(result, new RegExp(`secret '${IDENTITY}' is not valid JSON`));
            assert.ok(!result.stderr.includes(ENV_NAME), "the secret's content must not be printed");
        });

        for (const [label, text] of [
            ["an array", '["ENV_NAME"]'],
            ["a string", `"${ENV_NAME}"`],
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
                    // Without GLOBAL_ENV_BUCKET the stack's stands in (a test below): here there is none.
                    const env = key === "GLOBAL_ENV_BUCKET" ? { CGAP_GLOBAL_ENV_BUCKET: undefined } : {};
                    assertFailedClearly(await assume(env), new RegExp(`secret '${IDENTITY}' is not complete: it lacks ${key} \\(`));
                });
            }
        }

        it("when the secret lacks several keys, naming every one in one line", async () => {
            const secret: Record<string, string> = { ...SECRET };
            for (const key of [...REQUIRED, "RDS_PASSWORD", "ENCODED_ES_SERVER"]) {
                delete secret[key];
            }
            box.setSecret(JSON.stringify(secret));
            const result = await assume({ CGAP_GLOBAL_ENV_BUCKET: undefined });
            assertFailedClearly(result, /is not complete: it lacks ENV_NAME \(/);
            for (const key of [...REQUIRED, "RDS_PASSWORD", "ENCODED_ES_SERVER"]) {
                assert.match(result.stderr, new RegExp(`\\b${key} \\(`), key);
            }
            assert.equal(result.stderr.match(/\bENV_NAME \(/g)?.length, 1, "ENV_NAME is named once");
        });

        it("when ENCODED_S3_ENCRYPT_KEY_ID is set without ACCOUNT_NUMBER (upload credentials need both)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_S3_ENCRYPT_KEY_ID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" }));
            // The estate's secret has ACCOUNT_NUMBER as the placeholder (application_configuration_secrets.py).
            assertFailedClearly(await assume(), /it lacks ACCOUNT_NUMBER \(.*needed because ENCODED_S3_ENCRYPT_KEY_ID is set; still 'XXX: ENTER VALUE'\)/);
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_S3_ENCRYPT_KEY_ID: "1a2b", ACCOUNT_NUMBER: "123456789012" }));
            assert.equal((await assume()).exit?.code, 0);
        });

        it("when the secret's ENV_NAME is not the stack's envName (queues and grants would disagree)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-production" }));
            assertFailedClearly(
                await assume({ CGAP_ENV_NAME: ENV_NAME }),
                /has ENV_NAME 'cgap-production' but this stack's cgap:envName is 'cgap-mastertest': the app would use the queues and env file of 'cgap-production'/,
            );
        });

        it("when the task definition does not say which stack it belongs to", async () => {
            assertFailedClearly(await assume({ CGAP_ENV_NAME: undefined }), /CGAP_ENV_NAME is not set; the task definition passes the stack's cgap:envName/);
        });

        it("when the secret's GLOBAL_ENV_BUCKET is not the one the task role may read", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, GLOBAL_ENV_BUCKET: "other-foursight-envs" }));
            assertFailedClearly(await assume(), /has GLOBAL_ENV_BUCKET 'other-foursight-envs' but this stack's cgap:globalEnvBucket is 'cgap-mastertest-foursight-envs'/);
        });

        it("when the secret sets CGAP_ENV_NAME itself, it is ignored and cannot make a mismatch pass", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENV_NAME: "cgap-other", CGAP_ENV_NAME: "cgap-other" }));
            const result = await assume();
            assert.equal(result.exit?.code, 1, result.output);
            assert.match(result.stderr, /ignoring key CGAP_ENV_NAME in secret/);
            assert.match(result.stderr, /has ENV_NAME 'cgap-other' but this stack's cgap:envName is 'cgap-mastertest'/);
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

        // The secret as 4dn-cloud-infra's datastore stack writes it, before the operator has filled in
        // what its deploy_new_account.rst asks for: every key still holding the placeholder is named
        // as such, and the placeholder is never taken for a value.
        for (const [label, secret] of [
            ["2024 (application_configuration_secrets.py)", DATASTORE_SECRET_2024],
            ["2021 (datastore.py)", DATASTORE_SECRET_2021],
        ] as const) {
            it(`when the secret is as the datastore stack wrote it, ${label}: each placeholder the app needs, named`, async () => {
                box.setSecret(JSON.stringify(secret));
                const result = await assume();
                assertFailedClearly(result, /is not complete: it lacks S3_AWS_ACCESS_KEY_ID \(.*; still 'XXX: ENTER VALUE'\)/);
                for (const key of ["S3_AWS_SECRET_ACCESS_KEY", "RDS_PASSWORD", "RDS_HOSTNAME"]) {
                    assert.match(result.stderr, new RegExp(`\\b${key} \\([^)]*still 'XXX: ENTER VALUE'\\)`), key);
                }
                // Placeholders the app can do without are not problems.
                for (const key of ["reCaptchaKey", "ENCODED_IDENTITY", "ENCODED_S3_BUCKET_ORG"]) {
                    assert.ok(!result.stderr.includes(key), key);
                }
            });
        }

        it("when a required key holds the placeholder with spaces around it", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, S3_ENCRYPT_KEY: ` ${PLACEHOLDER} ` }));
            assertFailedClearly(await assume(), /it lacks S3_ENCRYPT_KEY \(.*still 'XXX: ENTER VALUE'\)/);
        });

        it("when SESSION_SECRET is not base64 (snovault decodes it when the app loads)", async () => {
            for (const bad of ["not base64!", "abc", "===="]) {
                box.setSecret(JSON.stringify({ ...SECRET, SESSION_SECRET: bad }));
                const result = await assume();
                assertFailedClearly(result, /SESSION_SECRET is not base64 \(the app base64-decodes it when it loads; make one with `head -c 256 \/dev\/urandom \| base64 -w0`\)/);
                assert.ok(!result.stderr.includes(bad), "the value is not printed");
                assert.ok(!fs.existsSync(path.join(box.app, "session-secret.b64")), "no session secret written");
            }
        });

        it("when Auth0 is in neither spelling, naming both", async () => {
            const { ENCODED_AUTH0_CLIENT: _c, ENCODED_AUTH0_SECRET: _s, ...rest } = SECRET;
            box.setSecret(JSON.stringify({ ...rest, Auth0Client: PLACEHOLDER }));
            assertFailedClearly(await assume(), /ENCODED_AUTH0_CLIENT \(line \d+, or Auth0Client\), ENCODED_AUTH0_SECRET \(line \d+, or Auth0Secret\)/);
        });

        it("when a bucket key is empty and there is no ENCODED_APPLICATION_BUCKET_PREFIX to derive it from", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_APPLICATION_BUCKET_PREFIX: PLACEHOLDER }));
            assertFailedClearly(
                await assume(),
                /ENCODED_FILE_UPLOAD_BUCKET \(line \d+, or ENCODED_APPLICATION_BUCKET_PREFIX, from which the app derives it\)/,
            );
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

        // Each estate secret, filled in by the operator as 4dn-cloud-infra's docs say, starts the role.
        for (const [label, secret, buckets, auth0] of [
            [
                "2024: empty buckets derived from ENCODED_APPLICATION_BUCKET_PREFIX, ENCODED_AUTH0_*",
                FILLED_SECRET_2024,
                "cgap-mastertest-application-cgap-mastertest-",
                "ENCODED_AUTH0_CLIENT",
            ],
            ["2021: empty buckets, Auth0Client / Auth0Secret, no GLOBAL_ENV_BUCKET", FILLED_SECRET_2021, "cgap-main-application-cgap-mastertest-", "Auth0Client"],
            ["August 2021: buckets filled in, AWS_ACCESS_KEY_ID placeholders", FILLED_SECRET_2021_AUGUST, "application-cgap-mastertest-", "Auth0Client"],
        ] as const) {
            it(`renders the estate's secret as the operator fills it, ${label}`, async () => {
                box.setSecret(JSON.stringify(secret));
                const result = await assume();
                assert.equal(result.exit?.code, 0, result.output);
                assert.equal(iniValue("file_upload_bucket"), `${buckets}files`);
                assert.equal(iniValue("file_wfout_bucket"), `${buckets}${buckets.startsWith("application-") ? "wfout" : "wfoutput"}`);
                assert.equal(iniValue("blob_bucket"), `${buckets}blobs`);
                assert.equal(iniValue("system_bucket"), `${buckets}system`);
                assert.equal(iniValue("metadata_bundles_bucket"), `${buckets}metadata-bundles`);
                assert.equal(iniValue("auth0.client"), (secret as Record<string, string>)[auth0]);
                assert.equal(iniValue("auth0.secret"), "stand-in-auth0-client-secret");
                assert.equal(iniValue("sqlalchemy.url"), `postgresql://postgresql:stand-in-rds-password@${FILLED_SECRET_2024.RDS_HOSTNAME}:5432/ebdb`);
                assert.ok(!ini().includes(PLACEHOLDER), "no placeholder in production.ini");
                const env = exported();
                assert.equal(env.ENV_NAME, ENV_NAME);
                assert.equal(env.GLOBAL_ENV_BUCKET, "cgap-mastertest-foursight-envs");
                for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "reCaptchaKey", "reCaptchaSecret"]) {
                    assert.equal(env[key], undefined, `${key} (a placeholder) must not reach the app's environment`);
                }
                assert.equal(env.LANG, "C.UTF-8", "the secret's en_US.UTF-8 must not replace the image's locale");
                assert.equal(env.LC_ALL, undefined);
            });
        }

        it("says which bucket names it derived, as the app would", async () => {
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            assert.match(result.stderr, /derived from ENCODED_APPLICATION_BUCKET_PREFIX as the app does: .*ENCODED_FILE_UPLOAD_BUCKET=cgap-mastertest-application-cgap-mastertest-files/);
            assert.equal(iniValue("tibanna_output_bucket"), "cgap-mastertest-application-tibanna-output");
            assert.match(result.stderr, /still holds 'XXX: ENTER VALUE' in ACCOUNT_NUMBER, .*reCaptchaKey, reCaptchaSecret: treated as unset/);
        });

        it("derives the buckets from ENCODED_S3_BUCKET_ENV when the secret sets it, as dcicutils does", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_S3_BUCKET_ENV: "production-data" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("file_upload_bucket"), "cgap-mastertest-application-production-data-files");
        });

        it("takes a bucket the secret names over the derived one", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_BLOB_BUCKET: "my-blobs" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("blob_bucket"), "my-blobs");
            assert.equal(iniValue("system_bucket"), "cgap-mastertest-application-cgap-mastertest-system");
        });

        it("prefers ENCODED_AUTH0_* when the secret has both spellings, as dcicutils renders the ini", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, Auth0Client: "old-client", Auth0Domain: "old.auth0.com" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("auth0.client"), SECRET.ENCODED_AUTH0_CLIENT);
            assert.equal(iniValue("auth0.domain"), SECRET.ENCODED_AUTH0_DOMAIN);
        });

        it("passes the app only the keys it reads from its environment, values exactly as in the secret", async () => {
            const tricky = "it's \"quoted\" $HOME `id` \\ and\na second line";
            box.setSecret(JSON.stringify({ ...SECRET, reCaptchaKey: tricky, reCaptchaSecret: "captcha", DEBUGLOG: true, REF_TZ: 4, MIRROR_ENV_NAME: null }));
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            const env = exported();
            assert.equal(env.reCaptchaKey, tricky);
            assert.equal(env.reCaptchaSecret, "captcha");
            assert.equal(env.DEBUGLOG, "true");
            assert.equal(env.REF_TZ, "4");
            assert.equal(env.MIRROR_ENV_NAME, "");
            const fromSecret = Object.keys(SECRET).filter((key) => key in env && env[key] === SECRET[key]);
            assert.deepEqual(fromSecret.sort(), ["ENV_NAME", "GLOBAL_ENV_BUCKET"]);
            for (const key of Object.keys(env)) {
                assert.ok(!(key in SECRET) || RUNTIME.includes(key) || key === "LANG", `${key} from the secret reached the environment`);
            }
        });

        it("keeps the database password, the S3 user's keys and the Auth0 secret out of the app's environment", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, AWS_ACCESS_KEY_ID: "AKIAREALLOOKINGKEY00", AWS_SECRET_ACCESS_KEY: "real-looking" }));
            assert.equal((await assume()).exit?.code, 0);
            const values = Object.values(exported());
            for (const key of ["RDS_PASSWORD", "S3_AWS_ACCESS_KEY_ID", "S3_AWS_SECRET_ACCESS_KEY", "ENCODED_AUTH0_SECRET", "S3_ENCRYPT_KEY"]) {
                assert.ok(!values.includes(SECRET[key]), `${key}'s value reached the environment`);
            }
            // Even a real value: exported, it would replace the task role's credentials in every boto3 client.
            assert.equal(exported().AWS_ACCESS_KEY_ID, undefined);
            assert.ok(ini().includes(SECRET.RDS_PASSWORD), "the ini still has what the app needs");
        });

        it("uses the stack's globalEnvBucket when the secret has no GLOBAL_ENV_BUCKET (4dn-cloud-infra before 2022)", async () => {
            const { GLOBAL_ENV_BUCKET: _omitted, ...rest } = SECRET;
            box.setSecret(JSON.stringify(rest));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(exported().GLOBAL_ENV_BUCKET, "cgap-mastertest-foursight-envs");
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
            box.setSecret(devtest());
            const result = await assume(DEVTEST_ENV);
            assert.equal(result.exit?.code, 0, result.output);
            assert.match(result.stderr, /rendered .*production\.ini from ini template any\.ini for ENV_NAME cgap-devtest/);
            assert.equal(iniValue("env.name"), DEVTEST);
            assert.equal(iniValue("identity"), IDENTITY);
            assert.equal(iniValue("elasticsearch.server"), SECRET.ENCODED_ES_SERVER);
            assert.equal(iniValue("file_upload_bucket"), "cgap-mastertest-application-cgap-devtest-files");
            assert.equal(iniValue("snovault.app_version"), "v15.6.0");
            // What the app's health page shows, as its own image renders it (dcicutils deployment_utils.py).
            assert.equal(iniValue("encoded_version"), "15.6.0");
            assert.equal(iniValue("snovault_version"), "11.19.0");
            assert.equal(iniValue("utils_version"), "8.16.1");
            assert.equal(iniValue("eb_app_version"), "v15.6.0");
            // cgap-portal v15.6.0 has no encoded.ingestion_listener, which base.ini's [composite:ingester] names.
            assert.ok(!ini().includes("[composite:ingester]"));
            assert.equal(iniValue("load_test_data"), "snovault.loadxl:load_deploy_data");
            assert.equal(iniValue("session.secret"), "%(here)s/session-secret.b64");
            // Optional settings the secret leaves empty are left to base.ini.
            assert.equal(iniValue("sentry_dsn"), undefined);
            assert.ok(!/\$\{/.test(ini().split("\n").filter((l) => !l.startsWith("#")).join("\n")), "unexpanded reference");
            assert.equal(fs.statSync(path.join(box.app, "production.ini")).mode & 0o777, 0o600);
        });

        it("picks the template named by ENV_NAME (ini/mastertest.ini for cgap-mastertest)", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_SENTRY_DSN: "https://k@sentry.example/1", ENCODED_DATA_SET: "" }));
            const result = await assume();
            assert.equal(result.exit?.code, 0, result.output);
            assert.match(result.stderr, /from ini template mastertest\.ini for ENV_NAME cgap-mastertest/);
            assert.equal(iniValue("env.name"), ENV_NAME);
            assert.equal(iniValue("load_test_data"), "snovault.loadxl:load_test_data");
            assert.equal(iniValue("sentry_dsn"), "https://k@sentry.example/1");
            assert.equal(iniValue("encoded_version"), "15.6.0");
            assert.equal(iniValue("snovault_version"), "11.19.0");
            assert.equal(iniValue("utils_version"), "8.16.1");
            assert.ok(!ini().includes("[composite:ingester]"));
        });

        it("honours ENCODED_ES_NAMESPACE as the app does, the env name when unset (both templates)", async () => {
            box.setSecret(devtest());
            assert.equal((await assume(DEVTEST_ENV)).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), DEVTEST);
            box.setSecret(devtest({ ...SECRET, ENCODED_ES_NAMESPACE: "cgap-devtest-blue" }));
            assert.equal((await assume(DEVTEST_ENV)).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), "cgap-devtest-blue");
            box.setSecret(JSON.stringify({ ...SECRET, ENCODED_ES_NAMESPACE: "cgap-mastertest-green" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(iniValue("indexer.namespace"), "cgap-mastertest-green");
            // The queues stay named after the env (snovault indexer_queue.py uses env.name).
            assert.equal(iniValue("env.name"), ENV_NAME);
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
            assert.equal(iniValue("sqlalchemy.url"), `postgresql://postgresql:50%%off@${SECRET.RDS_HOSTNAME}:5432/ebdb`);
        });

        it("writes the session secret from SESSION_SECRET, or a random one per container", async () => {
            box.setSecret(JSON.stringify({ ...SECRET, SESSION_SECRET: "c2hhcmVk" }));
            assert.equal((await assume()).exit?.code, 0);
            assert.equal(fs.readFileSync(path.join(box.app, "session-secret.b64"), "utf8"), "c2hhcmVk\n");
            assert.equal(exported().SESSION_SECRET, undefined, "the session secret stays in its file");

            box.setSecret(JSON.stringify(SECRET));
            const result = await assume();
            assert.equal(result.exit?.code, 0);
            assert.match(result.stderr, /no SESSION_SECRET: this container uses a random session secret/);
            const random = fs.readFileSync(path.join(box.app, "session-secret.b64"), "utf8").trim();
            assert.equal(Buffer.from(random, "base64").length, 256);
        });

        it("stops, naming what is missing, when it cannot read the app's versions", async () => {
            fs.rmSync(path.join(box.app, "pyproject.toml"));
            assertFailedClearly(await assume(), /cannot read the app's version: .*pyproject\.toml is missing/);
            fs.writeFileSync(path.join(box.app, "pyproject.toml"), '[tool.poetry]\nversion = "15.6.0"\n[x]\n');
            assertFailedClearly(await assume({ PYTHONPATH: undefined }), /cannot read the app's version: dcicsnovault is not installed for /);
        });

        it("can also run on its own, to render production.ini", async () => {
            const result = await run("/bin/sh", [script("assume_identity")], { env: box.env() });
            assert.equal(result.exit?.code, 0, result.output);
            assert.equal(iniValue("env.name"), ENV_NAME);
        });
    });
});
