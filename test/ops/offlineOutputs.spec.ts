// `npm run check -- --write-outputs <file>`: the outputs an update of the stack would have, for
// trying the operator commands without a deployed stack, marked offline wherever they are read.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { loadStackOutputs } from "../../ops/aws/stackOutputs";
import { checkInProcess } from "../check/runCheck";
import { tempDir } from "../tempDirs";
import { mastertestOutputs, pickShape } from "./fixtures";

describe("check --write-outputs: outputs to try the operator commands with, marked offline", function () {
    this.timeout(60000);
    let file: string;
    let stdout: string;

    before(async () => {
        file = path.join(tempDir("offline-outputs"), "mastertest.json");
        const outcome = await checkInProcess("--stack", "mastertest", "--write-outputs", file);
        assert.strictEqual(outcome.status, 0, outcome.stderr);
        stdout = outcome.stdout;
    });

    it("writes every output the operator commands read, as an update of the stack would have them", () => {
        const written = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
        // mastertestOutputs() is what the commands' tests and the README's examples run against.
        assert.deepStrictEqual(pickShape(written, mastertestOutputs()), mastertestOutputs());
        assert.match(stdout, /Wrote the outputs an update of mastertest would have to\s+\S+\s+\(offline:\s+placeholders\)\.\n$/);
    });

    it("marks the file offline, and a command reading it says so on stderr", async () => {
        const written = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
        assert.match(String(written.offline), /^written by `npm run check -- --stack mastertest --write-outputs` from a run under mocks, not read from a deployed stack: account 123456789012/);
        const notes: string[] = [];
        const outputs = await loadStackOutputs({ stack: "mastertest", outputsFile: file }, { note: (line) => notes.push(line), pulumiOnPath: () => false });
        assert.strictEqual(outputs.string("clusterName"), "cgap-mastertest");
        assert.deepStrictEqual(notes, [`note: outputs file ${file} was ${String(written.offline)}`]);
    });

    it("a deployed stack's outputs (no marker) get no note", async () => {
        const plain = path.join(tempDir("deployed-outputs"), "outputs.json");
        fs.writeFileSync(plain, JSON.stringify(mastertestOutputs()));
        const notes: string[] = [];
        await loadStackOutputs({ stack: "mastertest", outputsFile: plain }, { note: (line) => notes.push(line) });
        assert.deepStrictEqual(notes, []);
    });

    it("refuses --write-outputs without a file, or to stdout, which carries the report", async () => {
        for (const value of ["", "-"]) {
            const outcome = await checkInProcess("--stack", "mastertest", "--write-outputs", value);
            assert.strictEqual(outcome.status, 2);
            assert.strictEqual(outcome.stderr, "check: error: --write-outputs needs a file name (stdout carries the report)\n");
        }
    });
});
