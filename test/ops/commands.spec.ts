// The real commands as child processes, with no AWS credentials anywhere: they must fail fast,
// in one line, with the documented exit codes.

import * as assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { EXIT } from "../../ops/cli";
import { envWithoutAwsCredentials, sampleOutputs, without, writeOutputsFile } from "./fixtures";
import { tempDir } from "../tempDirs";
import { PROJECT_DIR } from "../../ops/project";
import { scriptCommand } from "../scripts";

const TIMEOUT_MS = 30_000;

function environment(): NodeJS.ProcessEnv {
    const home = tempDir("home");
    return { ...envWithoutAwsCredentials(home), npm_config_update_notifier: "false" };
}

/** `npm run <script> -- <args>`, exactly as an operator types it. */
function npmRun(script: string, args: string[], env = environment()): SpawnSyncReturns<string> {
    return spawnSync("npm", ["run", "--silent", script, "--", ...args], {
        cwd: PROJECT_DIR,
        env,
        encoding: "utf8",
        timeout: TIMEOUT_MS,
    });
}

/** The command's ts file run as its npm script runs it, without npm, so stderr is the command's alone. */
function tsNode(file: string, args: string[], env = environment()): SpawnSyncReturns<string> {
    return spawnSync(...scriptCommand(file, args), {
        cwd: PROJECT_DIR,
        env,
        encoding: "utf8",
        timeout: TIMEOUT_MS,
    });
}

function errorLines(r: SpawnSyncReturns<string>): string[] {
    return r.stderr.split("\n").filter((l) => l.trim() !== "");
}

/** The command's ts file, run as its npm script runs it, without waiting for the others. */
function tsNodeAsync(file: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const [command, argv] = scriptCommand(file, args);
        const child = spawn(command, argv, { cwd: PROJECT_DIR, env: environment(), stdio: ["ignore", "pipe", "pipe"], timeout: TIMEOUT_MS });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("close", (status) => resolve({ status, stdout, stderr }));
    });
}

describe("every command of package.json answers --help and refuses an unknown flag", () => {
    // Every npm script that runs a command file through the project's loader (ops/ts.js): a command added later is held to
    // the same rule without a word here.
    const scripts = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts as Record<string, string>;
    const commands = Object.entries(scripts)
        .map(([name, script]) => [name, /^node ops\/ts\.js (\S+\.ts)$/.exec(script)?.[1]] as const)
        .filter((entry): entry is readonly [string, string] => entry[1] !== undefined);

    it("covers check, bench and every operator command", () => {
        assert.deepStrictEqual(
            commands.map(([name]) => name).sort(),
            ["await-update", "bench", "check", "deployment-task", "exec", "info", "logs", "preflight"],
        );
    });

    it("--help: the usage on stdout, exit 0, nothing run; an unknown flag: one line naming it, exit 2", async function () {
        this.timeout(120_000);
        const runs = await Promise.all(
            commands.map(async ([name, file]) => ({ name, help: await tsNodeAsync(file, ["--help"]), bad: await tsNodeAsync(file, ["--verbose"]) })),
        );
        for (const { name, help, bad } of runs) {
            assert.equal(help.status, EXIT.ok, `${name} --help: ${help.stderr}`);
            assert.match(help.stdout, new RegExp(`^usage: npm run ${name}`), `${name} --help`);
            assert.equal(help.stderr, "", `${name} --help`);
            assert.equal(bad.status, EXIT.usage, `${name} --verbose: ${bad.stderr}`);
            assert.equal(bad.stdout, "", `${name} --verbose`);
            assert.equal(bad.stderr, `${name}: error: Unknown option '--verbose' (see --help)\n`);
        }
    });
});

describe("a command leaves the temp directory as it found it", () => {
    it("npm run check writes nothing to TMPDIR", function () {
        this.timeout(60_000);
        const tmp = tempDir("command-tmpdir");
        const r = npmRun("check", ["--stack", "mastertest"], { ...environment(), TMPDIR: tmp });
        assert.equal(r.status, EXIT.ok, r.stderr);
        assert.deepStrictEqual(fs.readdirSync(tmp), []);
    });
});

describe("operator commands as child processes, without AWS credentials", () => {
    // One command runs through npm, as an operator types it; the others run as their npm scripts
    // run them (node ops/ts.js <file>: the project's TypeScript loader), which this holds to package.json.
    it("each npm script runs its command file through the project's TypeScript loader", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts as Record<string, string>;
        assert.deepStrictEqual(
            ["info", "preflight", "deployment-task", "logs", "exec", "await-update", "check"].map((name) => [name, scripts[name]]),
            [
                ["info", "node ops/ts.js ops/aws/info.ts"],
                ["preflight", "node ops/ts.js ops/aws/preflight.ts"],
                ["deployment-task", "node ops/ts.js ops/aws/deploymentTask.ts"],
                ["logs", "node ops/ts.js ops/aws/logs.ts"],
                ["exec", "node ops/ts.js ops/aws/exec.ts"],
                ["await-update", "node ops/ts.js ops/awaitUpdate.ts"],
                ["check", "node ops/ts.js ops/offline/check.ts"],
            ],
        );
    });

    it("npm run info fails fast with the credentials message and the AWS exit code", () => {
        const outputs = writeOutputsFile(sampleOutputs());
        const started = Date.now();
        const r = npmRun("info", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.error, undefined, `did not finish: ${String(r.error)}`);
        assert.ok(Date.now() - started < 20_000, "took too long: waiting on instance metadata?");
        assert.equal(r.status, EXIT.aws, r.stderr);
        assert.deepEqual(errorLines(r), [
            "info: error: no AWS credentials found (Could not load credentials from any providers); " +
                "set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        ]);
        assert.equal(r.stdout, "");
    });

    it("preflight fails fast with the same message and exit code", () => {
        const outputs = writeOutputsFile({
            ...sampleOutputs(),
            appAccess: {
                taskRoleArn: "arn:aws:iam::123456789012:role/cgap-roles-task",
                globalEnvBucket: "cgap-mastertest-foursight-envs",
                s3KmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            },
        });
        const r = tsNode("ops/aws/preflight.ts", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.status, EXIT.aws, r.stderr);
        assert.match(errorLines(r)[0], /^preflight: error: no AWS credentials found \(Could not load credentials from any providers\)/);
        assert.equal(errorLines(r).length, 1, r.stderr);
    });

    it("deployment-task --initial on production refuses without confirmation, before asking AWS", () => {
        const outputs = sampleOutputs();
        (outputs.deploymentTask as Record<string, unknown>).environment = "production";
        const r = tsNode("ops/aws/deploymentTask.ts", ["--stack", "production", "--outputs", writeOutputsFile(outputs), "--initial"]);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r).length, 1, r.stderr);
        assert.match(errorLines(r)[0], /^deployment-task: error: not starting an initial deployment: stack production is production, .* add --confirm-production production$/);
    });

    it("deployment-task fails fast with the same message, before starting anything", () => {
        const outputs = writeOutputsFile(sampleOutputs());
        const r = tsNode("ops/aws/deploymentTask.ts", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.error, undefined, `did not finish: ${String(r.error)}`);
        assert.equal(r.status, EXIT.aws, r.stderr);
        const lines = errorLines(r);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], /^deployment-task: error: no AWS credentials found \(Could not load credentials from any providers\)/);
    });

    it("a missing stack output is one line naming it, exit 2", () => {
        const outputs = writeOutputsFile(without(sampleOutputs(), "deploymentTask.securityGroups"));
        const r = tsNode("ops/aws/deploymentTask.ts", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r), [
            'deployment-task: error: stack "mastertest": output "deploymentTask.securityGroups" is missing ' +
                "(has `pulumi up` run with this program?)",
        ]);
    });

    it("without --outputs and without the pulumi CLI, says what to pass, exit 2", () => {
        const env = environment();
        env.PATH = path.dirname(process.execPath);
        const r = tsNode("ops/aws/info.ts", ["--stack", "mastertest"], env);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r), [
            'info: error: no pulumi CLI on PATH to read the outputs of stack "mastertest"; install it ' +
                "(https://www.pulumi.com/docs/iac/download-install/, e.g. `curl -fsSL https://get.pulumi.com | sh`), or pass --outputs <file> " +
                "with the JSON of `pulumi stack output --json --show-secrets` (to try a command without a deployed stack, " +
                "`npm run check -- --stack mastertest --write-outputs <file>` writes one offline)",
        ]);
    });

    it("bad arguments are one line, exit 2; --help prints usage, exit 0", () => {
        const bad = tsNode("ops/aws/info.ts", ["--stak", "mastertest"]);
        assert.equal(bad.status, EXIT.usage, bad.stderr);
        assert.equal(errorLines(bad).length, 1, bad.stderr);
        assert.match(bad.stderr, /^info: error: Unknown option '--stak'/);

        const help = tsNode("ops/aws/deploymentTask.ts", ["--help"]);
        assert.equal(help.status, EXIT.ok, help.stderr);
        assert.match(help.stdout, /^usage: npm run deployment-task -- --stack <name> \[--outputs <file>\]/);
    });

    for (const [script, file] of [["logs", "ops/aws/logs.ts"], ["exec", "ops/aws/exec.ts"]] as const) {
        it(`${script} fails fast with the credentials message, exit 3`, () => {
            const outputs = writeOutputsFile(sampleOutputs());
            const r = tsNode(file, ["--stack", "mastertest", "--outputs", outputs, "--role", "ingester"]);
            assert.equal(r.error, undefined, `did not finish: ${String(r.error)}`);
            assert.equal(r.status, EXIT.aws, r.stderr);
            const lines = errorLines(r).filter((l) => !l.startsWith(`${script}: ingester:`));
            assert.deepEqual(lines, [
                `${script}: error: no AWS credentials found (Could not load credentials from any providers); ` +
                    "set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            ]);
            assert.equal(r.stdout, "");
        });

        it(`${file} refuses a role it does not know in one line, exit 2`, () => {
            const r = tsNode(file, ["--stack", "mastertest", "--outputs", writeOutputsFile(sampleOutputs()), "--role", "web"]);
            assert.equal(r.status, EXIT.usage, r.stderr);
            assert.match(errorLines(r).join("\n"), new RegExp(`^${script}: error: --role is "web"; it must be one of wsgi, indexer, ingester`));
        });
    }
});

describe("npm run logs --follow as a child process, ended by a signal", () => {
    let server: http.Server;
    let endpoint: string;
    const requests: Record<string, unknown>[] = [];

    before(async () => {
        // CloudWatch Logs' JSON protocol: every FilterLogEvents answers one new event.
        let n = 0;
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                requests.push({ target: req.headers["x-amz-target"], ...JSON.parse(body || "{}") });
                n++;
                res.setHeader("content-type", "application/x-amz-json-1.1");
                res.end(JSON.stringify({
                    events: [{ eventId: `e${n}`, logStreamName: "cgap-wsgi/WSGI/5d4c3b2a", timestamp: 1_790_000_000_000 + n * 1000, message: `line ${n}` }],
                }));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        it(`prints lines until ${signal}, then says it stopped and exits 0`, async () => {
            const home = tempDir("home");
            const env = {
                ...envWithoutAwsCredentials(home),
                AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
                AWS_SECRET_ACCESS_KEY: "not-a-secret",
                AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint,
            };
            const args = ["--stack", "mastertest", "--outputs", writeOutputsFile(sampleOutputs()), "--role", "wsgi", "--follow", "--poll", "--poll-interval", "0.2"];
            const child = spawn(...scriptCommand("ops/aws/logs.ts", args), { cwd: PROJECT_DIR, env });
            let stdout = "";
            let stderr = "";
            child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            await new Promise<void>((resolve) =>
                child.stdout.on("data", (c: Buffer) => {
                    stdout += c.toString();
                    if (stdout.split("\n").length > 3) {
                        resolve();
                    }
                }),
            );
            child.kill(signal);
            const code = await exited;
            assert.equal(code, EXIT.ok, stderr);
            assert.match(stdout, /^(\d{4}-\d\d-\d\dT[\d:.]+Z 5d4c3b2a line \d+\n){3,}$/);
            assert.match(stderr, /logs: following by polling FilterLogEvents every 0\.2 s/);
            assert.match(stderr, new RegExp(`logs: stopped following \\(${signal}\\)\\n$`));
            assert.ok(requests.every((r) => r.target === "Logs_20140328.FilterLogEvents" && r.logStreamNamePrefix === "cgap-wsgi/"));
        });
    }
});
