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
const path = require("path");
const { compiledEntry } = require("./entry");
const { deferModule } = require("./deferredModule");

// The SDK's root, loaded on first use. The CLI starts a pack through @pulumi/pulumi's
// run-policy-pack, which enables V8's Debugger before it loads the pack (cmd/run-policy-pack/index.js
// `initializeHooks`), and every module compiled after that compiles about 1.5 times slower.
// @pulumi/policy 1.21 requires the SDK's root (deserialize.js), and the root loads the whole SDK:
// the automation API with npm's arborist and sigstore, the provider server, closure serialization
// with the TypeScript compiler; about 550 modules and 4 MB of JavaScript a pack never runs, and
// most of its start. deserialize.js reads two names from the root, and only when it judges:
// `asset` and `Output`, which come from their own small modules.
const sdkRoot = require.resolve("@pulumi/pulumi");
deferModule(sdkRoot, {
    esModule: true,
    early: {
        asset: () => require(path.join(path.dirname(sdkRoot), "asset")),
        Output: () => require(path.join(path.dirname(sdkRoot), "output")).Output,
    },
});

const entry = compiledEntry(__dirname);
if (entry.stale.length > 0) {
    process.stderr.write(
        `cgap-rollout: ${entry.stale.join(", ")} changed since the pack was built; loading the TypeScript ` +
            "sources instead (slower start). Run `npm run build` in policy/ to start from the compiled pack.\n",
    );
}
module.exports = require(entry.path);
