// The pack starts without loading the whole SDK (policy/main.js, policy/deferredModule.js), and what
// it defers is the same SDK once asked for. Each case runs in a fresh node: the module cache is the
// subject.
import * as assert from "assert";

import { POLICY_PACK_DIR } from "../../ops/project";
import { jsonFromFreshNode } from "../scripts";

/** `script` run in a fresh node in the pack's folder: the JSON it printed last. */
const inFreshNode = (script: string) => jsonFromFreshNode(script, { cwd: POLICY_PACK_DIR });

/** The SDK's root deferred as the pack's entry defers it. */
const DEFER_ROOT = `
const path = require("path");
const root = require.resolve("@pulumi/pulumi");
const standIn = require("./deferredModule").deferModule(root, {
    esModule: true,
    early: { asset: () => require(path.join(path.dirname(root), "asset")), Output: () => require(path.join(path.dirname(root), "output")).Output },
});
`;

const LOADED = `
const loaded = (part) => Object.keys(require.cache).some((file) => file.includes("/@pulumi/pulumi/" + part));
`;

describe("the pack's start and the SDK's root (policy/main.js, policy/deferredModule.js)", () => {
    it("loads neither the SDK's automation API, provider server or closure serialization when the pack starts", () => {
        const seen = inFreshNode(`${LOADED}
            require("./main.js");
            process.stdout.write(JSON.stringify({
                automation: loaded("automation/"), provider: loaded("provider/"), closure: loaded("runtime/closure/createClosure"),
                policy: Object.keys(require.cache).some((file) => file.endsWith("/@pulumi/policy/server.js")),
            }));
            process.exit(0);`);
        assert.deepStrictEqual(seen, { automation: false, provider: false, closure: false, policy: true });
    });

    it("lets the started pack deserialize an asset and a secret as @pulumi/policy does with the real root, still without loading it", () => {
        const seen = inFreshNode(`${LOADED}
            require("./main.js");
            const { deserializeProperties } = require("@pulumi/policy/deserialize");
            const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
            const props = deserializeProperties(Struct.fromJavaScript({
                file: { "4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", path: "Dockerfile" },
                password: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" },
            }), false);
            const asset = require("@pulumi/pulumi/asset");
            process.stdout.write(JSON.stringify({
                fileAsset: props.file instanceof asset.FileAsset, password: props.password, automation: loaded("automation/"),
            }) + "\\n");
            process.exit(0);`);
        assert.deepStrictEqual(seen, { fileAsset: true, password: "hunter2", automation: false });
    });

    it("is, for anything else, the SDK's real root, loaded on first use and then the one every require gets", () => {
        const seen = inFreshNode(`${LOADED}${DEFER_ROOT}
            const before = loaded("automation/");
            const asset = standIn.asset;
            const stack = standIn.getStack;
            const real = require("@pulumi/pulumi");
            process.stdout.write(JSON.stringify({
                before, after: loaded("automation/"), realIsAnotherObject: real !== standIn,
                sameAsset: asset === real.asset && standIn.asset === real.asset, sameOutput: standIn.Output === real.Output,
                sameFunction: stack === real.getStack, sameKeys: JSON.stringify(Object.keys(standIn)) === JSON.stringify(Object.keys(real)),
                has: "automation" in standIn, esModule: standIn.__esModule,
            }));`);
        assert.deepStrictEqual(seen, {
            before: false,
            after: true,
            realIsAnotherObject: true,
            sameAsset: true,
            sameOutput: true,
            sameFunction: true,
            sameKeys: true,
            has: true,
            esModule: true,
        });
    });

    it("stands aside when the real root is loaded already", () => {
        const seen = inFreshNode(`
            const real = require("@pulumi/pulumi");${DEFER_ROOT}
            process.stdout.write(JSON.stringify({ standIn: standIn === undefined ? "none" : "installed", same: require("@pulumi/pulumi") === real }));`);
        assert.deepStrictEqual(seen, { standIn: "none", same: true });
    });
});
