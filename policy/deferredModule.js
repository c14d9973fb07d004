"use strict";
// A module loaded on first use rather than when it is required.
//
// deferModule(file) puts a stand-in for `file` in node's module cache. Requiring the module then
// returns the stand-in at once; the first use of any of its properties loads the real module, and
// from then on the stand-in forwards everything to it and every later require gets the real
// module itself. Names in `early` are answered without loading the real module, from the module
// that defines them (the very objects the real module would export).
//
// Used where a dependency requires a large module at its top that the process may never use: the
// policy pack's start (main.js) and the program's offline run (ops/offline/deferredSdk.ts). Should
// a later SDK use what is deferred, it is loaded then: slower, never different.
const Module = require("module");
const path = require("path");

/**
 * Defers the module `file` (an absolute path). `esModule` is the real module's `__esModule`, which
 * interop helpers read on require; `early` maps names to functions returning their values. Returns
 * the stand-in, or undefined when the module is loaded already (it is then left as it is).
 */
function deferModule(file, { esModule = false, early = {} } = {}) {
    if (require.cache[file]) {
        return undefined;
    }
    let real;
    const load = () => {
        if (real === undefined) {
            // The stand-in leaves the cache so that the module's own file loads in its place.
            delete require.cache[file];
            real = require(file);
        }
        return real;
    };
    // A proxy must show a non-configurable property on its target as the real module has it; the
    // one such property of a compiled TypeScript module is __esModule.
    const target = esModule ? Object.defineProperty({}, "__esModule", { value: true }) : {};
    const standIn = new Proxy(target, {
        get: (t, name) => {
            if (real === undefined && name === "__esModule") {
                return t.__esModule;
            }
            return real === undefined && Object.hasOwn(early, name) ? early[name]() : Reflect.get(load(), name);
        },
        has: (_, name) => Reflect.has(load(), name),
        ownKeys: () => Reflect.ownKeys(load()),
        getOwnPropertyDescriptor: (t, name) => {
            const own = Reflect.getOwnPropertyDescriptor(t, name);
            if (own) {
                return own;
            }
            const descriptor = Reflect.getOwnPropertyDescriptor(load(), name);
            return descriptor && { ...descriptor, configurable: true };
        },
        set: (_, name, value) => Reflect.set(load(), name, value),
        defineProperty: (_, name, descriptor) => Reflect.defineProperty(load(), name, descriptor),
        deleteProperty: (_, name) => Reflect.deleteProperty(load(), name),
    });
    const cached = new Module(file, module);
    cached.filename = file;
    cached.paths = Module._nodeModulePaths(path.dirname(file));
    cached.exports = standIn;
    cached.loaded = true;
    require.cache[file] = cached;
    return standIn;
}

module.exports = { deferModule };
