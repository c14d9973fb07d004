"use strict";
// Which entry point policy/main.js loads: the compiled pack in bin/, or the TypeScript sources when
// any of them changed after the last build. `node entry.js stamp` marks a finished build (the
// build script runs it after tsc): an incremental tsc leaves unchanged outputs untouched, so the
// outputs' own times cannot tell a fresh build from a stale one. Kept apart from main.js so that
// tests can call it without starting a pack.
const fs = require("fs");
const path = require("path");

const OUT_DIR = "bin";
const STAMP = path.join(OUT_DIR, ".built");

/** @returns {{ path: string, stale: string[] }} */
function compiledEntry(dir) {
    const stamp = path.join(dir, STAMP);
    const builtAt = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : -Infinity;
    const stale = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .filter((source) => fs.statSync(path.join(dir, source)).mtimeMs > builtAt);
    return { path: path.join(dir, stale.length > 0 ? "index.ts" : path.join(OUT_DIR, "index.js")), stale };
}

// Only the stamp's time counts. Its content stays the same, so that rebuilding unchanged sources
// leaves the pack's files byte for byte as they were: the platform project publishes a new pack
// version whenever those bytes change (platform/components/packVersion.ts).
function stampBuild(dir) {
    fs.writeFileSync(path.join(dir, STAMP), "built\n");
}

// `stamp` after a build; `fresh` exits 0 when the build is current (and 1 when a source is newer),
// so that `npm test` runs tsc here only when it would change something.
if (require.main === module && process.argv[2] === "stamp") {
    stampBuild(__dirname);
} else if (require.main === module && process.argv[2] === "fresh") {
    process.exitCode = compiledEntry(__dirname).stale.length === 0 && fs.existsSync(path.join(__dirname, OUT_DIR, "index.js")) ? 0 : 1;
}

module.exports = { compiledEntry, stampBuild, OUT_DIR };
