// Mocha loads the suite through the project's TypeScript loader (ops/register.js), as the npm
// scripts run the commands: SWC's CommonJS emit, with source maps, and no type-checking (that is
// `npm run typecheck`'s job).
require("../ops/register");
