"use strict";
// The SDK's root module, as the pack's start needs it: `asset` and `Output` at once, the rest when
// something first asks for it.
//
// The CLI starts a pack through @pulumi/pulumi's run-policy-pack, which enables V8's Debugger
// before it loads the pack (cmd/run-policy-pack/index.js `initializeHooks`), and every module
// compiled after that compiles about 1.5 times slower. @pulumi/policy 1.21 requires the SDK's root
// (deserialize.js), and the root loads the whole SDK: the automation API with npm's arborist and
// sigstore, the provider server, closure serialization. 550 modules and 4 MB of JavaScript that a
// policy pack never runs, and most of the pack's start. deserialize.js reads two things from the
// root, and only when it judges: `asset` and `Output`.
//
// So, before the pack loads @pulumi/policy, this puts a stand-in for the root in the module cache.
// It answers `asset` and `Output` from the two modules that define them (the very objects the
// root re-exports), and anything else from the real root, loaded on first use. A later
// @pulumi/policy that reads more from the root gets the real SDK, later: slower, never different.
const Module = require("module");
const path = require("path");

/** The SDK root's names served from their own modules, without loading the root. */
const LIGHT = {
    asset: (dir) => require(path.join(dir, "asset")),
    Output: (dir) => require(path.join(dir, "output")).Output,
};

/**
 * Puts the stand-in in the module cache under the root's file name, unless the root is loaded
 * already. Returns the stand-in, or undefined when the real root was there first.
 */
function deferSdkRoot(fromDir = __dirname) {
    const rootFile = require.resolve("@pulumi/pulumi", { paths: [fromDir] });
    if (require.cache[rootFile]) {
        return undefined;
    }
    const dir = path.dirname(rootFile);
    let real;
    const root = () => {
        if (real === undefined) {
            // The stand-in leaves the cache so that the root's own file loads in its place; every
            // later require gets the real root.
            delete require.cache[rootFile];
            real = require(rootFile);
        }
        return real;
    };
    // __esModule is the one property the root defines as non-configurable; a proxy must show it
    // on its target as the root has it.
    const target = Object.defineProperty({}, "__esModule", { value: true });
    const standIn = new Proxy(target, {
        get: (_, name) => (real === undefined && Object.hasOwn(LIGHT, name) ? LIGHT[name](dir) : Reflect.get(root(), name)),
        has: (_, name) => Reflect.has(root(), name),
        ownKeys: () => Reflect.ownKeys(root()),
        getOwnPropertyDescriptor: (t, name) => {
            if (name === "__esModule") {
                return Reflect.getOwnPropertyDescriptor(t, name);
            }
            const descriptor = Reflect.getOwnPropertyDescriptor(root(), name);
            return descriptor && { ...descriptor, configurable: true };
        },
        set: (_, name, value) => Reflect.set(root(), name, value),
        defineProperty: (_, name, descriptor) => Reflect.defineProperty(root(), name, descriptor),
        deleteProperty: (_, name) => Reflect.deleteProperty(root(), name),
    });
    const cached = new Module(rootFile, module);
    cached.filename = rootFile;
    cached.paths = Module._nodeModulePaths(dir);
    cached.exports = standIn;
    cached.loaded = true;
    require.cache[rootFile] = cached;
    return standIn;
}

module.exports = { deferSdkRoot };
