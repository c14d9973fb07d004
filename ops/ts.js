"use strict";
// Runs a TypeScript command as `ts-node --swc <file>` does, with ts-node's compile cache kept under
// node_modules/.cache rather than the system's temp directory: v8-compile-cache-lib, through which
// ts-node loads its compiler, writes `<tmpdir>/v8-compile-cache-<uid>` unless
// V8_COMPILE_CACHE_CACHE_DIR names a folder. So a command leaves the temp directory as it found it,
// as a test run does (test/register.js).
const path = require("path");

process.env.V8_COMPILE_CACHE_CACHE_DIR ??= path.join(__dirname, "..", "node_modules", ".cache", "cgap", "v8-compile-cache");
require("ts-node/dist/bin").main(["--swc", ...process.argv.slice(2)]);
