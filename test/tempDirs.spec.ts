// A test run leaves no folder behind in the system's temp directory.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { removeTempDirs, tempDir } from "./tempDirs";

const TEST_DIR = __dirname;

function testSources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        return entry.isDirectory() ? testSources(file) : entry.name.endsWith(".ts") ? [file] : [];
    });
}

describe("temporary folders", () => {
    it("tempDir() folders are removed, contents and all, by the root hook after each spec file", () => {
        const dir = tempDir("self-check");
        fs.mkdirSync(path.join(dir, "nested"));
        fs.writeFileSync(path.join(dir, "nested", "file"), "x");
        removeTempDirs();
        assert.ok(!fs.existsSync(dir), `${dir} is still there`);
    });

    it("every test makes its temporary folders through tempDir(), so none is left behind", () => {
        const own = path.join(TEST_DIR, "tempDirs.ts");
        const offenders = testSources(TEST_DIR).filter((f) => f !== own && /\bmkdtemp(Sync)?\(/.test(fs.readFileSync(f, "utf8")));
        assert.deepStrictEqual(offenders.map((f) => path.relative(TEST_DIR, f)), []);
    });
});
