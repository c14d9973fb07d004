// The pack runs from its compiled JavaScript (policy/bin/) so that run-policy-pack, which
// type-checks every .ts file a pack loads, starts it at once; an edited pack never runs stale code.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { pack } from "./packs";
import { tempDir } from "../tempDirs";
import { POLICY_PACK_DIR, PROJECT_DIR } from "../../ops/project";

// Plain JavaScript beside the pack (policy/entry.js); typed here for the test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compiledEntry, stampBuild } = require(path.join(POLICY_PACK_DIR, "entry.js")) as {
    compiledEntry(dir: string): { path: string; stale: string[] };
    stampBuild(dir: string): void;
};

describe("the policy pack ships compiled", () => {
    let dir: string;
    beforeEach(() => {
        dir = tempDir("pack-entry");
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "index.ts"), "");
        fs.writeFileSync(path.join(dir, "rules.ts"), "");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const age = (file: string, secondsAgo: number) => {
        const at = new Date(Date.now() - secondsAgo * 1000);
        fs.utimesSync(path.join(dir, file), at, at);
    };

    it("loads bin/index.js when the build is newer than every source", () => {
        age("index.ts", 60);
        age("rules.ts", 60);
        stampBuild(dir);
        assert.deepStrictEqual(compiledEntry(dir), { path: path.join(dir, "bin", "index.js"), stale: [] });
    });

    it("loads the TypeScript sources, naming the edited file, when a source changed after the build", () => {
        age("index.ts", 60);
        stampBuild(dir);
        age("bin/.built", 30);
        age("rules.ts", 0);
        assert.deepStrictEqual(compiledEntry(dir), { path: path.join(dir, "index.ts"), stale: ["rules.ts"] });
    });

    it("loads the sources when the pack was never built", () => {
        assert.deepStrictEqual(compiledEntry(dir).path, path.join(dir, "index.ts"));
        assert.deepStrictEqual(compiledEntry(dir).stale.sort(), ["index.ts", "rules.ts"]);
    });

    it("`node entry.js fresh` tells npm test whether to rebuild: 1 until built, 0 after, 1 again once a source is edited", () => {
        fs.copyFileSync(path.join(POLICY_PACK_DIR, "entry.js"), path.join(dir, "entry.js"));
        const fresh = () => spawnSync(process.execPath, [path.join(dir, "entry.js"), "fresh"]).status;
        assert.strictEqual(fresh(), 1, "never built");
        age("index.ts", 60);
        age("rules.ts", 60);
        stampBuild(dir);
        assert.strictEqual(fresh(), 1, "stamped, but bin/index.js is missing");
        fs.writeFileSync(path.join(dir, "bin", "index.js"), "");
        assert.strictEqual(fresh(), 0);
        age("bin/.built", 30);
        age("rules.ts", 0);
        assert.strictEqual(fresh(), 1, "rules.ts edited after the build");
        const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8"));
        assert.match(manifest.scripts["build:policy"], /^node policy\/entry\.js fresh \|\| npm run --silent --prefix policy build$/);
    });

    it("package.json points the CLI at the entry that picks the compiled pack, and npm builds it on install and pack", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "package.json"), "utf8"));
        assert.strictEqual(manifest.main, "main.js");
        // npm runs `prepare` on `npm ci`/`npm install` in policy/ and on `npm pack` (pulumi policy publish).
        assert.match(manifest.scripts.prepare, /npm run build/);
        assert.match(manifest.scripts.build, /^tsc -p tsconfig\.json && node entry\.js stamp$/);
        // The published tarball carries the build and what rebuilds it.
        for (const entry of ["bin/", "*.ts", "*.js", "*.json"]) {
            assert.ok(manifest.files.includes(entry), `files lacks ${entry}`);
        }
    });

    it("the running pack started from its compiled build (npm test builds it first)", async () => {
        const running = await pack("mastertestPreview");
        assert.doesNotMatch(running.stderr, /changed since the pack was built/);
        assert.deepStrictEqual(compiledEntry(POLICY_PACK_DIR).stale, []);
    });
});
