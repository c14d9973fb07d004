import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT, describeError, parseCommandArgs, wrap } from "../../ops/cli";
import {
    StackOutputs,
    loadStackOutputs,
    pulumiErrorLine,
    pulumiOnPath,
    regionFromRepositoryUrl,
    resolveRegion,
} from "../../ops/aws/stackOutputs";
import { PROJECT_DIR } from "../../ops/project";
import { sampleOutputs, writeOutputsFile } from "./fixtures";
import { tempDir } from "../tempDirs";

async function failure(p: Promise<unknown>): Promise<{ message: string; exitCode: number }> {
    try {
        await p;
    } catch (err) {
        return describeError(err);
    }
    assert.fail("expected a rejection");
}

/**
 * A stand-in `pulumi` executable that answers the calls the Automation API makes to read
 * outputs, and logs each call with its working directory.
 */
function fakePulumiCli(outputs: Record<string, unknown>): { dir: string; log: string } {
    const dir = tempDir("fake-pulumi");
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));
    const script = `#!/bin/sh
echo "$PWD|$*" >> "${log}"
if [ "$1" = "version" ]; then echo "v3.248.0"; exit 0; fi
stack=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--stack" ]; then stack="$a"; fi
  prev="$a"
done
if [ "$1 $2" = "stack output" ]; then
  if [ "$stack" = "mastertest" ]; then cat "${path.join(dir, "outputs.json")}"; exit 0; fi
  echo "error: no stack named '$stack' found" >&2
  exit 255
fi
echo "error: unexpected call: $*" >&2
exit 1
`;
    fs.writeFileSync(path.join(dir, "pulumi"), script, { mode: 0o755 });
    return { dir, log };
}

describe("stack outputs", () => {
    it("reads a `pulumi stack output --json --show-secrets` file and looks up dotted paths", async () => {
        const file = writeOutputsFile(sampleOutputs());
        const o = await loadStackOutputs({ stack: "mastertest", outputsFile: file }, { pulumiOnPath: () => true });
        assert.equal(o.string("clusterName"), "cgap-mastertest");
        assert.deepEqual(o.stringArray("deploymentTask.securityGroups"), ["sg-0app", "sg-0db"]);
        assert.equal(o.lookup("deploymentTask.nope.deeper"), undefined);
    });

    it("prefers --outputs over the pulumi CLI", async () => {
        const file = writeOutputsFile(sampleOutputs());
        await loadStackOutputs(
            { stack: "mastertest", outputsFile: file },
            {
                pulumiOnPath: () => true,
                automationOutputs: () => assert.fail("the Automation API must not be used when --outputs is given"),
            },
        );
    });

    it("reads outputs from stdin with --outputs -", async () => {
        const o = await loadStackOutputs(
            { stack: "mastertest", outputsFile: "-" },
            { readStdin: () => JSON.stringify(sampleOutputs()) },
        );
        assert.equal(o.string("repositoryName"), "cgap-mastertest");
    });

    it("refuses an unreadable or malformed outputs file with exit 2", async () => {
        const missing = await failure(loadStackOutputs({ stack: "s", outputsFile: "/nonexistent/outputs.json" }));
        assert.equal(missing.exitCode, EXIT.usage);
        assert.match(missing.message, /^cannot read outputs file \/nonexistent\/outputs.json: ENOENT/);

        const dir = tempDir("bad-outputs");
        fs.writeFileSync(path.join(dir, "bad.json"), "{ not json");
        const bad = await failure(loadStackOutputs({ stack: "s", outputsFile: path.join(dir, "bad.json") }));
        assert.equal(bad.exitCode, EXIT.usage);
        assert.match(bad.message, /bad\.json is not JSON/);

        fs.writeFileSync(path.join(dir, "list.json"), "[]");
        const list = await failure(loadStackOutputs({ stack: "s", outputsFile: path.join(dir, "list.json") }));
        assert.match(list.message, /should hold a JSON object of stack outputs/);
    });

    it("without the pulumi CLI and without --outputs, says what to pass (exit 2)", async () => {
        const { message, exitCode } = await failure(loadStackOutputs({ stack: "mastertest" }, { pulumiOnPath: () => false }));
        assert.equal(exitCode, EXIT.usage);
        assert.equal(
            message,
            'no pulumi CLI on PATH to read the outputs of stack "mastertest"; install it ' +
                "(https://www.pulumi.com/docs/iac/download-install/, e.g. `curl -fsSL https://get.pulumi.com | sh`), or pass --outputs <file> " +
                "with the JSON of `pulumi stack output --json --show-secrets` (to try a command without a deployed stack, " +
                "`npm run check -- --stack mastertest --write-outputs <file>` writes one offline)",
        );
    });

    describe("through the Automation API, with a stand-in pulumi CLI on PATH", () => {
        let savedPath: string | undefined;
        let fake: { dir: string; log: string };

        beforeEach(() => {
            fake = fakePulumiCli(sampleOutputs());
            savedPath = process.env.PATH;
            process.env.PATH = `${fake.dir}${path.delimiter}${savedPath ?? ""}`;
        });
        afterEach(() => {
            process.env.PATH = savedPath;
        });

        it("reads the stack's outputs, secrets shown, in the project directory, without changing the selected stack", async () => {
            assert.equal(pulumiOnPath(), true);
            const o = await loadStackOutputs({ stack: "mastertest" });
            assert.equal(o.string("deploymentTask.logStreamPrefix"), "cgap-deployment");
            const calls = fs.readFileSync(fake.log, "utf8").trim().split("\n");
            assert.ok(
                calls.some((c) => c.startsWith(`${PROJECT_DIR}|stack output --json --show-secrets --stack mastertest`)),
                calls.join("\n"),
            );
            assert.ok(!calls.some((c) => c.includes("stack select")), calls.join("\n"));
        });

        it("turns the CLI's error for an unknown stack into one line (exit 2)", async () => {
            const { message, exitCode } = await failure(loadStackOutputs({ stack: "nope" }));
            assert.equal(exitCode, EXIT.usage);
            assert.equal(message, `cannot read the outputs of stack "nope" through the pulumi CLI: error: no stack named 'nope' found`);
        });
    });

    it("finds only an executable pulumi on PATH", () => {
        const dir = tempDir("path");
        fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\n", { mode: 0o644 });
        assert.equal(pulumiOnPath({ PATH: dir }), false);
        fs.chmodSync(path.join(dir, "pulumi"), 0o755);
        assert.equal(pulumiOnPath({ PATH: dir }), true);
        assert.equal(pulumiOnPath({ PATH: "" }), false);
    });

    it("picks the error line out of a CLI failure", () => {
        const err = new Error("code: 255\n stdout: \n stderr: warning: A new version of Pulumi is available\nerror: no stack named 'x' found\n");
        assert.equal(pulumiErrorLine(err), "error: no stack named 'x' found");
    });

    it("takes the AWS region from the stack's ECR repository URL unless --region is given", () => {
        assert.equal(regionFromRepositoryUrl("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cgap-mastertest"), "eu-west-1");
        assert.equal(regionFromRepositoryUrl("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/cgap"), "cn-north-1");
        assert.equal(regionFromRepositoryUrl("ghcr.io/dbmi-bgm/cgap-portal"), undefined);
        assert.equal(regionFromRepositoryUrl(undefined), undefined);
        const o = new StackOutputs("mastertest", sampleOutputs());
        assert.equal(resolveRegion(undefined, o), "us-east-1");
        assert.equal(resolveRegion("us-west-2", o), "us-west-2");
        assert.equal(resolveRegion(undefined, new StackOutputs("s", {})), undefined);
    });

    it("names the output and the problem when an output has the wrong shape", () => {
        const o = new StackOutputs("mastertest", { clusterName: 3, deploymentTask: { subnets: "subnet-1" } });
        assert.throws(() => o.string("clusterName"), /output "clusterName" should be a string, got number/);
        assert.throws(() => o.stringArray("deploymentTask.subnets"), /output "deploymentTask.subnets" should be a list of strings, got string/);
    });
});

describe("command arguments", () => {
    const spec = { name: "info", summary: "x", options: { json: { type: "boolean" as const, description: "json" } } };

    it("parses --stack, --outputs, --region and command options", () => {
        const a = parseCommandArgs(["--stack", "mastertest", "--outputs=o.json", "--region", "us-east-2", "--json"], spec);
        assert.deepEqual(a, { stack: "mastertest", outputs: "o.json", region: "us-east-2", extra: { json: true }, help: false });
    });

    it("refuses a missing --stack and unknown flags in one line, exit 2", () => {
        for (const argv of [[], ["--stack"], ["--stack", "s", "--stak", "x"], ["--stack", "s", "extra"]]) {
            assert.throws(
                () => parseCommandArgs(argv, spec),
                (err: unknown) => {
                    const { message, exitCode } = describeError(err);
                    assert.equal(exitCode, EXIT.usage);
                    assert.ok(!message.includes("\n"), message);
                    return true;
                },
                argv.join(" "),
            );
        }
    });

    it("refuses an option that takes one value given twice, naming both values, instead of keeping the last", () => {
        assert.throws(
            () => parseCommandArgs(["--stack", "mastertest", "--stack=production"], spec),
            (err: unknown) => {
                assert.deepEqual(describeError(err), {
                    message: "--stack is given 2 times (mastertest, production); give it once (see --help)",
                    exitCode: EXIT.usage,
                });
                return true;
            },
        );
        assert.throws(() => parseCommandArgs(["--stack", "s", "--json", "--json"], spec), /--json is given 2 times/);
    });

    it("maps a missing region to exit 2 with what to set", () => {
        assert.deepEqual(describeError(new Error("Region is missing")), {
            message: "no AWS region: set AWS_REGION or pass --region <region>",
            exitCode: EXIT.usage,
        });
    });

    it("maps rejected credentials to the AWS exit code", () => {
        const err = Object.assign(new Error("The security token included in the request is expired"), {
            name: "ExpiredTokenException",
            $metadata: {},
        });
        assert.deepEqual(describeError(err), {
            message: "AWS rejected the credentials: ExpiredTokenException: The security token included in the request is expired",
            exitCode: EXIT.aws,
        });
    });
});

describe("wrapped output", () => {
    it("wraps each line at spaces, continuing under its own indentation", () => {
        const text = "Invalid stack config (2 problems):\n  - cgap:a is wrong; it must be one of these many words here\n  - cgap:b";
        assert.equal(
            wrap(text, 30),
            [
                "Invalid stack config (2",
                "    problems):",
                "  - cgap:a is wrong; it must",
                "      be one of these many",
                "      words here",
                "  - cgap:b",
            ].join("\n"),
        );
    });

    it("never breaks a word longer than the width, and leaves short lines alone", () => {
        const long = "x".repeat(40);
        assert.equal(wrap(`a ${long} b`, 20), `a\n    ${long}\n    b`);
        assert.equal(wrap("short\n\n  line", 20), "short\n\n  line");
    });
});
