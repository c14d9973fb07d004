// Run by test/tempDirs.spec.ts in a child mocha, never by `npm test`: a spec file that makes a
// temporary folder and then fails, on purpose.
import * as assert from "assert";

import { tempDir } from "../tempDirs";

describe("a spec file that makes a temporary folder and fails", () => {
    it("fails after making its folder", () => {
        tempDir("fixture-fails");
        assert.fail("this failure is the fixture's purpose");
    });
});
