// Mocha loads the suite through ts-node with SWC as its transpiler, as the npm scripts run the
// commands (`ts-node --swc`): the same CommonJS emit as TypeScript's transpile-only mode, at a
// fraction of its cost. Type-checking is `npm run typecheck`'s job, not the loader's.
//
// ts-node loads its compiler through v8-compile-cache-lib, which writes its cache to
// `<os.tmpdir()>/v8-compile-cache-<uid>` unless V8_COMPILE_CACHE_CACHE_DIR names a folder
// (v8-compile-cache-lib's getCacheDir()). A test run must leave the temp directory as it found it,
// so the cache lives with the project's other caches instead; mocha's workers and every command a
// test starts inherit the variable. An explicit setting wins.
const path = require("path");
process.env.V8_COMPILE_CACHE_CACHE_DIR ??= path.join(__dirname, "..", "node_modules", ".cache", "cgap", "v8-compile-cache");
require("ts-node").register({ swc: true });
