"use strict";
// The pack's entry point (package.json "main"), kept as plain JavaScript on purpose.
//
// run-policy-pack registers ts-node with type-checking on, so every .ts file a pack loads is
// type-checked on every `pulumi preview --policy-pack`: seconds of start-up for each preview. The
// pack therefore runs from bin/, the JavaScript that `npm run build` compiles from the TypeScript
// sources beside this file. npm runs that build as the `prepare` script: on `npm ci`/`npm install`
// here (the project's postinstall does that) and on `npm pack`, which `pulumi policy publish` runs.
//
// A source newer than its compiled file means the pack was edited since the last build. Running
// bin/ then would judge with stale rules, so the sources are loaded instead (slower, never wrong),
// and stderr says how to get the fast start back.
const { compiledEntry } = require("./entry");
const { deferSdkRoot } = require("./sdkRoot");

deferSdkRoot();

const entry = compiledEntry(__dirname);
if (entry.stale.length > 0) {
    process.stderr.write(
        `cgap-rollout: ${entry.stale.join(", ")} changed since the pack was built; loading the TypeScript ` +
            "sources instead (slower start). Run `npm run build` in policy/ to start from the compiled pack.\n",
    );
}
module.exports = require(entry.path);
