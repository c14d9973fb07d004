// The analyzer client (ops/offline/analyzer.ts): what it sends must be what the generated protobuf classes
// would send, its config handling must be the CLI's, and its processes must not outlive it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

import {
    encodeAnalyzeRequest,
    encodeAnalyzeStackRequest,
    encodeStruct,
    makeUrn,
    packEnvironment,
    PackInfo,
    PackNotInstalledError,
    reconcilePolicyConfig,
    secret,
    StackResource,
    startPolicyPack,
    UNKNOWN,
} from "../../ops/offline/analyzer";
import { POLICY_PACK_DIR } from "../../ops/project";
import { policyConfigProblems } from "../../policy/configGuard";
import { policies } from "../../policy/policies";
import { LocatedResource, rolloutStack } from "./fixtures";
import { pack, REVIEWED_SETTINGS } from "./packs";
import { tempDir } from "../tempDirs";

function slowStackRequest(resources: LocatedResource[]): analyzerproto.AnalyzeStackRequest {
    const request = new analyzerproto.AnalyzeStackRequest();
    request.setResourcesList(
        resources.map((r) => {
            const resource = new analyzerproto.AnalyzerResource();
            resource.setType(r.type);
            resource.setName(r.name);
            resource.setUrn(r.urn);
            resource.setProperties(Struct.fromJavaScript(r.props as never));
            const options = new analyzerproto.AnalyzerResourceOptions();
            if (r.parent) {
                options.setParent(r.parent);
                resource.setParent(r.parent);
            }
            resource.setOptions(options);
            resource.setDependenciesList(r.dependencies ?? []);
            for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
                const dependencies = new analyzerproto.AnalyzerPropertyDependencies();
                dependencies.setUrnsList(urns);
                resource.getPropertydependenciesMap().set(key, dependencies);
            }
            return resource;
        }),
    );
    return request;
}

const INFO: PackInfo = {
    name: "cgap-rollout",
    version: "1.0.0",
    policies: [
        { name: "gate", description: "", enforcementLevel: "mandatory", type: "stack" },
        { name: "check", description: "", enforcementLevel: "advisory", type: "resource", configSchema: { limit: { type: "number", default: 3 } } },
    ],
};

describe("analyzer client", () => {
    describe("encoding", () => {
        it("encodes properties exactly as google-protobuf's Struct does", () => {
            const props = {
                s: "text ✓",
                n: 0,
                f: -1.5,
                t: true,
                b: false,
                z: null,
                empty: {},
                list: [1, "two", null, [], { deep: [UNKNOWN] }],
                secret: secret("hunter2"),
            };
            const fast = Struct.deserializeBinary(encodeStruct(props)).toJavaScript();
            const slow = Struct.deserializeBinary(Struct.fromJavaScript(props as never).serializeBinary()).toJavaScript();
            assert.deepStrictEqual(fast, slow);
            assert.deepStrictEqual(fast, props);
            assert.deepStrictEqual(Struct.deserializeBinary(encodeStruct({ gone: undefined, kept: 1 })).toJavaScript(), { kept: 1 });
        });

        it("encodes AnalyzeStack and Analyze requests as the generated classes do", () => {
            const resources = rolloutStack({ wsgi: "pushed" }, { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/x" });
            const fast = analyzerproto.AnalyzeStackRequest.deserializeBinary(encodeAnalyzeStackRequest(resources as LocatedResource[]).serializeBinary());
            const slow = analyzerproto.AnalyzeStackRequest.deserializeBinary(slowStackRequest(resources as LocatedResource[]).serializeBinary());
            assert.deepStrictEqual(fast.toObject(), slow.toObject());
            assert.ok(resources.some((r) => r.parent) && resources.some((r) => r.propertyDependencies), "the fixture exercises parents and property dependencies");

            const one = resources[0] as LocatedResource;
            const request = analyzerproto.AnalyzeRequest.deserializeBinary(encodeAnalyzeRequest({ ...one, inputs: { only: "inputs" } }).serializeBinary());
            assert.strictEqual(request.getUrn(), one.urn);
            assert.deepStrictEqual(request.getProperties()?.toJavaScript(), { only: "inputs" });
        });

        it("names resources as the engine does", () => {
            const parent = makeUrn("mastertest", "cgap", "cgap:images:ImageBundle", "bundle");
            assert.strictEqual(parent, "urn:pulumi:mastertest::cgap::cgap:images:ImageBundle::bundle");
            assert.strictEqual(
                makeUrn("mastertest", "cgap", "docker:index/image:Image", "bundle-wsgi", parent),
                "urn:pulumi:mastertest::cgap::cgap:images:ImageBundle$docker:index/image:Image::bundle-wsgi",
            );
        });
    });

    describe("configuration", () => {
        it("reconciles policy config as the CLI does: defaults, then all, then each policy, and passes \"all\" on", () => {
            assert.deepStrictEqual(reconcilePolicyConfig(INFO, {}), {
                gate: { enforcementLevel: "mandatory", properties: {} },
                check: { enforcementLevel: "advisory", properties: { limit: 3 } },
            });
            assert.deepStrictEqual(reconcilePolicyConfig(INFO, { all: "disabled", check: { limit: 5 } }), {
                gate: { enforcementLevel: "disabled", properties: {} },
                check: { enforcementLevel: "disabled", properties: { limit: 5 } },
                all: { enforcementLevel: "disabled", properties: {} },
            });
            assert.deepStrictEqual(reconcilePolicyConfig(INFO, { check: "mandatory" }).check.enforcementLevel, "mandatory");
            assert.throws(() => reconcilePolicyConfig(INFO, { check: "strict" as never }), /invalid enforcement level "strict"/);
        });

        it("gives the pack the environment the CLI gives it, and nothing inherited", () => {
            const base = { PATH: "/bin", PULUMI_NODEJS_STACK: "inherited", PULUMI_CONFIG: "{}", PULUMI_DRY_RUN: "true" };
            assert.deepStrictEqual(packEnvironment({ stack: "production", dryRun: false, config: { "cgap:environment": "production" } }, base), {
                PATH: "/bin",
                PULUMI_NODEJS_STACK: "production",
                PULUMI_STACK: "production",
                PULUMI_NODEJS_PROJECT: "cgap",
                PULUMI_PROJECT: "cgap",
                PULUMI_NODEJS_DRY_RUN: "false",
                PULUMI_DRY_RUN: "false",
                PULUMI_CONFIG: '{"cgap:environment":"production"}',
            });
            const unnamed = packEnvironment({ stack: undefined, dryRun: true }, base);
            assert.strictEqual(unnamed.PULUMI_NODEJS_STACK, undefined);
            assert.strictEqual(unnamed.PULUMI_CONFIG, undefined);
        });

        it("config.example.json configures every policy; besides defaults it holds only the reviewed deviations", () => {
            const example = JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "config.example.json"), "utf8")) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(example).sort(), policies.map((p) => p.name).sort());
            for (const policy of policies) {
                const entry = example[policy.name];
                const { enforcementLevel, ...properties } = typeof entry === "string" ? { enforcementLevel: entry } : (entry as Record<string, unknown>);
                assert.ok(["advisory", "mandatory", "disabled"].includes(String(enforcementLevel)), policy.name);
                for (const [key, value] of Object.entries(properties)) {
                    const schema = policy.configSchema?.properties[key];
                    assert.ok(schema && typeof schema === "object", `${policy.name} declares no ${key}`);
                    // The stack's deliberate deviations: accepted exceptions, and ECR.2's movable latest* tags.
                    if (key !== "exceptions" && key !== "acceptedMutableTagFilters") {
                        assert.deepStrictEqual(value, schema.default, `${policy.name}.${key} shows the default`);
                    }
                }
            }
            const received = new Map(Object.entries(example).map(([k, v]) => [k, typeof v === "string" ? {} : (v as Record<string, unknown>)]));
            assert.deepStrictEqual(policyConfigProblems(policies, received), []);
        });
    });

    describe("processes", function () {
        this.timeout(120_000);

        it("judges with config.example.json: the rollout stacks stay clean, the levels apply", async () => {
            const p = await pack("productionPreview");
            const example = JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "config.example.json"), "utf8"));
            try {
                await p.reconfigure(example);
                assert.deepStrictEqual(await p.judge(rolloutStack({}, { stack: "production" })), []);
                const info = await p.info();
                assert.strictEqual(info.policies.find((x) => x.name === "iam-no-full-admin")?.enforcementLevel, "advisory", "info shows the defaults");
                const diagnostics = await p.judge([
                    { type: "aws:iam/policy:Policy", name: "admin", props: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) } },
                ]);
                assert.deepStrictEqual(
                    diagnostics.filter((d) => d.policyName === "iam-no-full-admin").map((d) => d.enforcementLevel),
                    ["mandatory"],
                );
            } finally {
                await p.reconfigure(REVIEWED_SETTINGS);
            }
        });

        it("reset() brings a shared pack back to its start: the policy config and the stack tags it was started with", async () => {
            const p = await pack("mastertestPreview");
            const admin: StackResource[] = [
                { type: "aws:iam/policy:Policy", name: "admin", props: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) } },
            ];
            const adminLevel = async () => (await p.judge(admin)).filter((d) => d.policyName === "iam-no-full-admin").map((d) => d.enforcementLevel);
            // Only the front end: fine on mastertest, refused where the stack tags say production.
            const frontEndOnly = rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: "mastertest" });
            const refusedBy = async () => (await p.judge(frontEndOnly)).filter((d) => d.enforcementLevel === "mandatory").map((d) => d.policyName);

            assert.deepStrictEqual(await adminLevel(), ["advisory"]);
            assert.deepStrictEqual(await refusedBy(), []);
            await p.reconfigure({ ...REVIEWED_SETTINGS, "iam-no-full-admin": "mandatory" });
            await p.judge([], { stackTags: { environment: "production" } });
            // Both stick: a later call without tags still judges a production stack.
            assert.deepStrictEqual(await adminLevel(), ["mandatory"]);
            assert.deepStrictEqual(await refusedBy(), ["production-rollout-complete"]);
            await p.reset();
            assert.deepStrictEqual(await adminLevel(), ["advisory"]);
            assert.deepStrictEqual(await refusedBy(), []);
        });

        it("close() ends the process", async () => {
            const p = await startPolicyPack({ stack: "mastertest", dryRun: true });
            const pid = p.pid!;
            assert.ok(isAlive(pid));
            assert.ok(p.startupMs > 0);
            await p.close();
            await p.close();
            assert.ok(!isAlive(pid), `pack ${pid} still runs after close()`);
        });

        it("a pack whose packages are not installed is refused with the command that installs them", async () => {
            const dir = tempDir("not-installed");
            try {
                await assert.rejects(
                    startPolicyPack({ stack: "mastertest", dryRun: true, packDir: dir }),
                    (err: Error) =>
                        err instanceof PackNotInstalledError &&
                        err.message.includes("has no packages installed") &&
                        err.message.includes(`npm ci --prefix ${path.relative(process.cwd(), dir)}`),
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("a pack that cannot start rejects with its error and leaves no process", async () => {
            const dir = tempDir("broken-pack");
            try {
                // Installed (the real pack's packages), but its entry point does not exist.
                fs.symlinkSync(path.join(POLICY_PACK_DIR, "node_modules"), path.join(dir, "node_modules"));
                fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "broken", main: "missing.js" }));
                await assert.rejects(startPolicyPack({ stack: "mastertest", dryRun: true, packDir: dir }), /exited \(code \d+\) before printing its port[\s\S]*Cannot find module/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
});

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}
