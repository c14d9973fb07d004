// The SDK parts a run of the program under mocks never uses, loaded only if something does use
// them (policy/deferredModule.js). Imported by program.ts before the SDK.
//
// The SDK's root loads, at its top, the automation API (with npm's arborist, pacote and sigstore)
// and closure serialization, whose parser requires the TypeScript compiler (runtime/closure/
// parseFunction.js) and whose package-path walk requires arborist (runtime/closure/codePaths.js).
// A run under mocks registers resources against mocks: it drives no workspace and serializes no
// function. Deferred, they take about half of the program's load off a check, which loads it
// while the policy pack starts beside it.
import * as path from "path";

// Plain JavaScript shared with the policy pack, whose entry must load it before any TypeScript.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { deferModule } = require("../../policy/deferredModule") as {
    deferModule(file: string, options?: { esModule?: boolean }): object | undefined;
};

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi"));

/**
 * The modules deferred, as the SDK requires them, each with the `__esModule` its importer's
 * interop helper is to see. npm's arborist is CommonJS, but its one importer (runtime/closure/
 * codePaths.js, which computes a function's package paths) takes it through `__importStar`, which
 * copies, and so would load, a module that does not say __esModule; it reads only `Arborist`.
 */
const DEFERRED_SDK_MODULES = {
    "@pulumi/pulumi/automation": true,
    "@pulumi/pulumi/typescript-shim": false,
    "@npmcli/arborist": true,
} as const;

for (const [name, esModule] of Object.entries(DEFERRED_SDK_MODULES)) {
    deferModule(require.resolve(name, { paths: [sdkDir] }), { esModule });
}
