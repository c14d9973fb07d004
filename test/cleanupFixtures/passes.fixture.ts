// Run by test/tempDirs.spec.ts in a child mocha, never by `npm test` (not a .spec.ts file):
// spec files that make temporary folders and pass.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { tempDir } from "../tempDirs";

describe("a spec file that makes temporary folders and passes", () => {
    it("makes a folder with nested contents", () => {
        const dir = tempDir("fixture-passes");
        fs.mkdirSync(path.join(dir, "nested"));
        fs.writeFileSync(path.join(dir, "nested", "file"), "x");
        assert.ok(fs.existsSync(path.join(dir, "nested", "file")));
    });

    it("makes another", () => {
        assert.ok(fs.existsSync(tempDir("fixture-passes-again")));
    });
});
