// Mocha loads the suite through ts-node with SWC as its transpiler, as the npm scripts run the
// commands (`ts-node --swc`): the same CommonJS emit as TypeScript's transpile-only mode, at a
// fraction of its cost. Type-checking is `npm run typecheck`'s job, not the loader's.
require("ts-node").register({ swc: true });
