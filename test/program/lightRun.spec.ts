// What a run of the program under mocks leaves out, for speed, and what it keeps: the SDK's
// automation API, npm's arborist and the TypeScript compiler stay unloaded (ops/offline/
// deferredSdk.ts) while a use of them still gets them; the SDK's promises carry no stack trace
// unless PULUMI_DEBUG_PROMISE_LEAKS asks for them (program.ts withoutPromiseStacks). Each case runs
// in a fresh node: the module cache and the SDK's module state are the subject.
import * as assert from "assert";

import { jsonFromFreshNode } from "../scripts";

/** `script` run in a fresh node that can require the project's TypeScript: the JSON it printed last. */
const inFreshNode = (script: string, env: NodeJS.ProcessEnv = process.env) => jsonFromFreshNode(script, { typescript: true, env });

const LOADED = `
const loaded = () => ({
    automation: Object.keys(require.cache).some((f) => f.includes("/@pulumi/pulumi/automation/stack.js")),
    arborist: Object.keys(require.cache).some((f) => f.includes("/@npmcli/arborist/lib/arborist/")),
    typescript: Object.keys(require.cache).some((f) => f.endsWith("/typescript/lib/typescript.js")),
});
`;

describe("the SDK parts a run under mocks leaves unloaded", function () {
    this.timeout(60_000);

    it("a whole run of production's program loads none of them", () => {
        const seen = inFreshNode(`${LOADED}
            require("./ops/offline/program.ts").runProgram({ stack: "production", preview: true }).then((result) => {
                process.stdout.write(JSON.stringify({ ...loaded(), resources: result.resources.length > 50 }) + "\\n");
            });`);
        assert.deepStrictEqual(seen, { automation: false, arborist: false, typescript: false, resources: true });
    });

    it("are the real modules when something uses them", () => {
        const seen = inFreshNode(`${LOADED}
            require("./ops/offline/deferredSdk.ts");
            const pulumi = require("@pulumi/pulumi");
            const before = loaded();
            const workspace = typeof pulumi.automation.LocalWorkspace.create;
            const ts = require(require.resolve("@pulumi/pulumi/typescript-shim")).SyntaxKind.Identifier;
            const { Arborist } = require(require.resolve("@npmcli/arborist", { paths: [require.resolve("@pulumi/pulumi")] }));
            process.stdout.write(JSON.stringify({ before, workspace, ts: ts === require("typescript").SyntaxKind.Identifier, arborist: typeof Arborist, after: loaded() }) + "\\n");`);
        assert.deepStrictEqual(seen, {
            before: { automation: false, arborist: false, typescript: false },
            workspace: "function",
            ts: true,
            arborist: "function",
            after: { automation: true, arborist: true, typescript: true },
        });
    });
});

describe("the stack traces of the SDK's promises in a run under mocks", function () {
    this.timeout(60_000);

    // Every stack the SDK records for a promise during a run of production, and whether the
    // SDK's own function is back in place afterwards.
    const RECORD = `
        const debuggable = require("@pulumi/pulumi/runtime/debuggable");
        const original = debuggable.debuggablePromise;
        const stacks = [];
        debuggable.debuggablePromise = (p, ctx) => {
            const result = original(p, ctx);
            stacks.push(p._debugStackTrace);
            return result;
        };
        const recording = debuggable.debuggablePromise;
        require("./ops/offline/program.ts").runProgram({ stack: "production", preview: true }).then((run) => {
            process.stdout.write(JSON.stringify({
                promises: stacks.length > 100,
                withFrames: stacks.filter((s) => s.includes("\\n    at ")).length,
                restored: debuggable.debuggablePromise === recording,
                located: run.resources.filter((r) => r.location?.file.endsWith(".ts")).length > 50,
            }) + "\\n");
        });`;

    it("are left empty, while each resource still gets its source position", () => {
        assert.deepStrictEqual(inFreshNode(RECORD), { promises: true, withFrames: 0, restored: true, located: true });
    });

    it("are kept when PULUMI_DEBUG_PROMISE_LEAKS asks for them", () => {
        const seen = inFreshNode(RECORD, { ...process.env, PULUMI_DEBUG_PROMISE_LEAKS: "true" });
        assert.strictEqual(seen.promises, true);
        assert.ok((seen.withFrames as number) > 100, `only ${String(seen.withFrames)} stacks with frames`);
    });
});
