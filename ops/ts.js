"use strict";
// `node ops/ts.js <file.ts> [args...]`: runs a TypeScript command file as node runs a JavaScript
// one (the file is require.main; process.argv is [node, file, args...]), through the project's
// TypeScript loader (ops/register.js). The npm scripts run their commands this way.
const path = require("path");
const Module = require("module");

require("./register");

const [file, ...args] = process.argv.slice(2);
if (file === undefined) {
    process.stderr.write("usage: node ops/ts.js <file.ts> [args...]\n");
    process.exit(2);
}
process.argv = [process.argv[0], path.resolve(file), ...args];
Module.runMain();
