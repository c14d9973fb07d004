"use strict";
// Lets node require the project's TypeScript: each .ts file is transpiled by SWC to the CommonJS
// that `ts-node --swc` emits for this tsconfig, with source maps for stack traces. The commands
// (ops/ts.js) and the tests (test/register.js) load through it; type-checking is `npm run
// typecheck`'s job, not the loader's.
//
// ts-node itself is not in this path: even with SWC as its transpiler, registering it loads
// TypeScript's compiler to read tsconfig.json, a fifth of a second on every command and every
// test process before any of the project's code runs. The options below are the ones ts-node's
// SWC transpiler derives from tsconfig.json (ts-node 10.9 dist/transpilers/swc.js
// `createSwcOptions`, for target ES2022, module CommonJS, esModuleInterop); a test holds the two
// emits to each other. `pulumi up` still runs the program under ts-node, as the Pulumi CLI does.
//
// Each file's JavaScript is kept in node_modules/.cache/cgap/swc/, named by a hash of the file's
// path and text, the options and SWC's version, so an edit or an upgrade simply misses: a check
// loads about 60 files, and reading them back saves it SWC's 70 ms and its native library's load.
// The cache is with the project's other caches, never in the temp directory.
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const CACHE_DIR = path.join(__dirname, "..", "node_modules", ".cache", "cgap", "swc");

const SWC_OPTIONS = {
    sourceMaps: true,
    swcrc: false,
    module: { type: "commonjs", noInterop: false, strictMode: true, ignoreDynamic: false },
    jsc: {
        parser: { syntax: "typescript", tsx: false, decorators: false, dynamicImport: true },
        target: "es2022",
        transform: { legacyDecorator: true, useDefineForClassFields: true },
        keepClassNames: true,
    },
};

/** Each loaded file's JavaScript with its inline source map, for source-map-support to read. */
const emitted = new Map();

let swc;

/** The JavaScript of one TypeScript file, its source map inline. */
function transpile(source, filename) {
    swc ??= require("@swc/core");
    const { code, map } = swc.transformSync(source, { ...SWC_OPTIONS, filename });
    return `${code}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map).toString("base64")}`;
}

/** SWC's version, read without loading its native library. */
const swcVersion = () => require("@swc/core/package.json").version;

/** transpile(), through the cache. */
function cachedTranspile(source, filename) {
    const key = crypto.createHash("sha256").update(JSON.stringify([filename, SWC_OPTIONS, swcVersion()])).update(source).digest("hex");
    const file = path.join(CACHE_DIR, `${key}.js`);
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        const js = transpile(source, filename);
        // Written under a name of its own, then renamed: parallel test workers may write one file at once.
        const partial = `${file}.${process.pid}`;
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            fs.writeFileSync(partial, js);
            fs.renameSync(partial, file);
        } catch {
            fs.rmSync(partial, { force: true });
        }
        return js;
    }
}

function register() {
    if (Module._extensions[".ts"]) {
        return;
    }
    // As ts-node does: one source-map-support for the process (a library asking for its own copy
    // gets this one), reading each file's map from what this loader emitted.
    require("@cspotcode/source-map-support").install({
        environment: "node",
        retrieveFile: (file) => emitted.get(file) ?? "",
        redirectConflictingLibrary: true,
    });
    Module._extensions[".ts"] = (module, filename) => {
        const js = cachedTranspile(fs.readFileSync(filename, "utf8"), filename);
        emitted.set(filename, js);
        module._compile(js, filename);
    };
}

register();

module.exports = { transpile };
