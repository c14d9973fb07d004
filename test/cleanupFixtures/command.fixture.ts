// Run by test/tempDirs.spec.ts in a child mocha, never by `npm test`: a spec file that runs a
// command the way its npm script does (`node ops/ts.js`), with HOME in a temporary folder, as the
// operator command tests do. The loader must leave nothing in the temp directory.
import * as assert from "assert";
import { spawnSync } from "child_process";

import { scriptCommand } from "../scripts";
import { tempDir } from "../tempDirs";

describe("a spec file that runs a command", () => {
    it("runs `npm run info -- --help` with an odd HOME", () => {
        const [command, args] = scriptCommand("ops/aws/info.ts", ["--help"]);
        const result = spawnSync(command, args, { env: { ...process.env, HOME: tempDir("fixture-home") }, encoding: "utf8" });
        assert.strictEqual(result.status, 0, result.stderr);
        assert.match(result.stdout, /^usage: npm run info/);
    });
});
