// The real commands as child processes, with no AWS credentials anywhere: they must fail fast,
// in one line, with the documented exit codes.

import * as assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as path from "node:path";
import { EXIT } from "../../ops/cli";
import { PROJECT_DIR } from "../../ops/stackOutputs";
import { envWithoutAwsCredentials, sampleOutputs, without, writeOutputsFile } from "./fixtures";
import { tempDir } from "../tempDirs";

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

/** The command's ts file run directly through ts-node, so stderr is the command's alone. */
function tsNode(file: string, args: string[], env = environment()): SpawnSyncReturns<string> {
    return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", file, ...args], {
        cwd: PROJECT_DIR,
        env,
        encoding: "utf8",
        timeout: TIMEOUT_MS,
    });
}

function errorLines(r: SpawnSyncReturns<string>): string[] {
    return r.stderr.split("\n").filter((l) => l.trim() !== "");
}

describe("operator commands as child processes, without AWS credentials", () => {
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

    it("npm run preflight fails fast with the same message and exit code", () => {
        const outputs = writeOutputsFile({
            ...sampleOutputs(),
            appAccess: {
                taskRoleArn: "arn:aws:iam::123456789012:role/cgap-roles-task",
                globalEnvBucket: "cgap-mastertest-foursight-envs",
                s3KmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            },
        });
        const r = npmRun("preflight", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.status, EXIT.aws, r.stderr);
        assert.match(errorLines(r)[0], /^preflight: error: no AWS credentials found \(Could not load credentials from any providers\)/);
        assert.equal(errorLines(r).length, 1, r.stderr);
    });

    it("npm run deployment-task --initial on production refuses without confirmation, before asking AWS", () => {
        const outputs = sampleOutputs();
        (outputs.deploymentTask as Record<string, unknown>).environment = "production";
        const r = npmRun("deployment-task", ["--stack", "production", "--outputs", writeOutputsFile(outputs), "--initial"]);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r).length, 1, r.stderr);
        assert.match(errorLines(r)[0], /^deployment-task: error: not starting an initial deployment: stack production is production, .* add --confirm-production production$/);
    });

    it("npm run deployment-task fails fast with the same message, before starting anything", () => {
        const outputs = writeOutputsFile(sampleOutputs());
        const r = npmRun("deployment-task", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.error, undefined, `did not finish: ${String(r.error)}`);
        assert.equal(r.status, EXIT.aws, r.stderr);
        const lines = errorLines(r);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], /^deployment-task: error: no AWS credentials found \(Could not load credentials from any providers\)/);
    });

    it("a missing stack output is one line naming it, exit 2", () => {
        const outputs = writeOutputsFile(without(sampleOutputs(), "deploymentTask.securityGroups"));
        const r = tsNode("ops/deploymentTask.ts", ["--stack", "mastertest", "--outputs", outputs]);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r), [
            'deployment-task: error: stack "mastertest": output "deploymentTask.securityGroups" is missing ' +
                "(has `pulumi up` run with this program?)",
        ]);
    });

    it("without --outputs and without the pulumi CLI, says what to pass, exit 2", () => {
        const env = environment();
        env.PATH = path.dirname(process.execPath);
        const r = tsNode("ops/info.ts", ["--stack", "mastertest"], env);
        assert.equal(r.status, EXIT.usage, r.stderr);
        assert.deepEqual(errorLines(r), [
            'info: error: no pulumi CLI on PATH to read the outputs of stack "mastertest"; pass --outputs <file> ' +
                "with the JSON of `pulumi stack output --json --show-secrets`",
        ]);
    });

    it("bad arguments are one line, exit 2; --help prints usage, exit 0", () => {
        const bad = tsNode("ops/info.ts", ["--stak", "mastertest"]);
        assert.equal(bad.status, EXIT.usage, bad.stderr);
        assert.equal(errorLines(bad).length, 1, bad.stderr);
        assert.match(bad.stderr, /^info: error: Unknown option '--stak'/);

        const help = tsNode("ops/deploymentTask.ts", ["--help"]);
        assert.equal(help.status, EXIT.ok, help.stderr);
        assert.match(help.stdout, /^usage: npm run deployment-task -- --stack <name> \[--outputs <file>\]/);
    });
});
