// A run of the program under mocks leaves the SDK's automation API, npm's arborist and the
// TypeScript compiler unloaded (ops/offline/deferredSdk.ts), and a use of them still gets them.
// Each case runs in a fresh node: the module cache is the subject.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

import { PROJECT_DIR } from "../../ops/project";

function inFreshNode(script: string): Record<string, unknown> {
    const result = spawnSync(process.execPath, ["-r", path.join(PROJECT_DIR, "ops", "register.js"), "-e", script], { cwd: PROJECT_DIR, encoding: "utf8" });
    assert.strictEqual(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

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
