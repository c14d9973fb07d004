// The project's TypeScript loader (ops/register.js, ops/ts.js): the JavaScript ts-node's SWC
// transpiler would emit, a command file run as node runs a script, stack traces in TypeScript lines.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { PROJECT_DIR } from "../../ops/project";
import { scriptCommand } from "../scripts";
import { tempDir } from "../tempDirs";

// Plain JavaScript beside the commands; typed here for the test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transpile } = require(path.join(PROJECT_DIR, "ops", "register.js")) as { transpile(source: string, filename: string): string };

/** Every TypeScript file of the project outside node_modules. */
function projectFiles(dir = PROJECT_DIR): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            return entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "bin" ? [] : projectFiles(file);
        }
        return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
    });
}

const withoutSourceMap = (js: string) => js.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "");

const CACHE_DIR = path.join(PROJECT_DIR, "node_modules", ".cache", "cgap", "swc");
const cacheEntries = () => new Set(fs.existsSync(CACHE_DIR) ? fs.readdirSync(CACHE_DIR) : []);

/** The TypeScript file a cache entry was made from, as its inline source map names it. */
function sourceOf(entry: string): string {
    const js = fs.readFileSync(path.join(CACHE_DIR, entry), "utf8");
    const map = /sourceMappingURL=data:application\/json;charset=utf-8;base64,(\S+)\s*$/.exec(js)?.[1];
    return map === undefined ? "" : String((JSON.parse(Buffer.from(map, "base64").toString("utf8")) as { sources: string[] }).sources[0]);
}

describe("the project's TypeScript loader", () => {
    // The files these tests run live in temporary folders, so their cache entries would never be
    // read again: they go with the folders.
    let atStart: Set<string>;
    before(() => (atStart = cacheEntries()));
    after(() => {
        for (const entry of [...cacheEntries()].filter((e) => !atStart.has(e))) {
            if (sourceOf(entry).includes("cgap-test-loader-")) {
                fs.rmSync(path.join(CACHE_DIR, entry), { force: true });
            }
        }
    });

    it("emits, for every TypeScript file of the project, what `ts-node --swc` emits with this tsconfig", function () {
        this.timeout(60_000);
        // ts-node's own service, created as `ts-node --swc` creates it: the reference the loader must
        // match. ts-node loads TypeScript's compiler through v8-compile-cache-lib, which would leave
        // its cache in the temp directory; it is off for this one load.
        const cacheSetting = process.env.DISABLE_V8_COMPILE_CACHE;
        process.env.DISABLE_V8_COMPILE_CACHE = "1";
        let tsNode: import("ts-node").Service;
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            tsNode = (require("ts-node") as typeof import("ts-node")).create({ swc: true, cwd: PROJECT_DIR });
        } finally {
            if (cacheSetting === undefined) {
                delete process.env.DISABLE_V8_COMPILE_CACHE;
            } else {
                process.env.DISABLE_V8_COMPILE_CACHE = cacheSetting;
            }
        }
        const files = projectFiles();
        assert.ok(files.length > 100, `found only ${files.length} files`);
        const differing = files.filter((file) => {
            const source = fs.readFileSync(file, "utf8");
            return withoutSourceMap(transpile(source, file)) !== withoutSourceMap(tsNode.compile(source, file));
        });
        assert.deepStrictEqual(differing.map((f) => path.relative(PROJECT_DIR, f)), []);
    });

    it("runs a command file as node runs a script: it is require.main, and process.argv is node, the file and its arguments", () => {
        const dir = tempDir("loader");
        const file = path.join(dir, "command.ts");
        fs.writeFileSync(file, 'const n: number = 1;\nprocess.stdout.write(JSON.stringify({ main: require.main === module, argv: process.argv.slice(1), n }));\n');
        const [node, args] = scriptCommand(path.relative(PROJECT_DIR, file), ["--stack", "mastertest"]);
        const r = spawnSync(node, args, { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepStrictEqual(JSON.parse(r.stdout), { main: true, argv: [file, "--stack", "mastertest"], n: 1 });
    });

    it("reports an error thrown in a TypeScript file at its TypeScript line, through the source map", () => {
        const dir = tempDir("loader");
        const file = path.join(dir, "throws.ts");
        // Types and an interface that the JavaScript drops, so the JavaScript's lines differ from these.
        fs.writeFileSync(file, ["interface Shape {", "    side: number;", "}", "", "const shape: Shape = { side: 2 };", "throw new Error(`side ${shape.side}`);", ""].join("\n"));
        const [node, args] = scriptCommand(path.relative(PROJECT_DIR, file));
        const r = spawnSync(node, args, { encoding: "utf8" });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:6:7`));
    });

    it("keeps each file's JavaScript in the project's cache, and transpiles a file again once it is edited", () => {
        const dir = tempDir("loader");
        const file = path.join(dir, "cached.ts");
        const run = () => {
            const [node, args] = scriptCommand(path.relative(PROJECT_DIR, file));
            const r = spawnSync(node, args, { encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            return r.stdout;
        };
        fs.writeFileSync(file, 'const text: string = "first";\nprocess.stdout.write(text);\n');
        const earlier = cacheEntries();
        assert.equal(run(), "first");
        // The file's path is new (a fresh temporary folder), so its entry is the one added.
        const added = [...cacheEntries()].filter((e) => !earlier.has(e) && sourceOf(e).includes(dir));
        assert.equal(added.length, 1, "one cache entry for the file");
        assert.match(fs.readFileSync(path.join(CACHE_DIR, added[0]), "utf8"), /const text = "first"/);

        // Run again: the entry is read back, not written anew.
        const mtime = fs.statSync(path.join(CACHE_DIR, added[0])).mtimeMs;
        assert.equal(run(), "first");
        assert.equal(fs.statSync(path.join(CACHE_DIR, added[0])).mtimeMs, mtime);

        fs.writeFileSync(file, 'const text: string = "second";\nprocess.stdout.write(text);\n');
        assert.equal(run(), "second", "an edited file is transpiled again");
    });

    it("without a file, prints its usage and exits 2", () => {
        const r = spawnSync(process.execPath, [path.join(PROJECT_DIR, "ops", "ts.js")], { encoding: "utf8" });
        assert.deepStrictEqual([r.status, r.stderr], [2, "usage: node ops/ts.js <file.ts> [args...]\n"]);
    });
});
