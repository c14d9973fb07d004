// The pack has the SDK deserialize each resource's properties once per request and hands every
// policy the same values (policy/deserializeOnce.ts). That is only sound while no policy writes to
// the properties it is given, which the last test holds by running every policy on frozen ones.
import * as assert from "assert";

import { Struct } from "google-protobuf/google/protobuf/struct_pb";

import * as sdkDeserialize from "../../policy/node_modules/@pulumi/policy/deserialize";
import * as sdkProxy from "../../policy/node_modules/@pulumi/policy/proxy";
import { makeUrn, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { PROJECT } from "../../ops/project";
import { deserializeOncePerRequest, memoisedPerObject } from "../../policy/deserializeOnce";
import { policies } from "../../policy/policies";
import { generatedStack, rolloutStack, waitingOnPush } from "./fixtures";

// The SDK's typings leave its internal functions out.
const sdk = {
    deserializeProperties: (struct: unknown, proxySecrets: boolean): Record<string, unknown> =>
        (sdkDeserialize as unknown as { deserializeProperties(s: unknown, p: boolean): Record<string, unknown> }).deserializeProperties(struct, proxySecrets),
    unknownCheckingProxy: (target: unknown): unknown => (sdkProxy as unknown as { unknownCheckingProxy(t: unknown): unknown }).unknownCheckingProxy(target),
};

const struct = (value: Record<string, unknown>) => Struct.fromJavaScript(value as Parameters<typeof Struct.fromJavaScript>[0]);

describe("deserializing once per request", () => {
    it("memoisedPerObject computes once per argument object, and again for another object of the same content", () => {
        let calls = 0;
        const lengthOf = memoisedPerObject((a: number[]) => {
            calls++;
            return { length: a.length };
        });
        const a = [1, 2];
        const first = lengthOf(a);
        assert.strictEqual(lengthOf(a), first);
        assert.strictEqual(calls, 1);
        const b = [1, 2];
        assert.notStrictEqual(lengthOf(b), first);
        assert.deepStrictEqual(lengthOf(b), first);
        assert.strictEqual(calls, 2);
    });

    it("makes the SDK reuse a request's values across policies, never across requests, and leaves remediation's copies alone", () => {
        const props = { name: "q", arn: UNKNOWN, tags: { a: "1" }, ports: [80, 443] };
        const before = sdk.deserializeProperties(struct(props), false);

        assert.deepStrictEqual(deserializeOncePerRequest(), { deserializeProperties: true, unknownCheckingProxy: true });
        const installed = sdkDeserialize as unknown as Record<string, unknown>;
        const replacement = installed.deserializeProperties;
        deserializeOncePerRequest();
        assert.strictEqual(installed.deserializeProperties, replacement, "installing twice wraps twice");

        const request = struct(props);
        const once = sdk.deserializeProperties(request, false);
        assert.deepStrictEqual(once, before);
        assert.strictEqual(sdk.deserializeProperties(request, false), once, "a second policy of the same request deserializes again");
        assert.notStrictEqual(sdk.deserializeProperties(struct(props), false), once, "another request got this one's values");
        assert.notStrictEqual(sdk.deserializeProperties(request, true), sdk.deserializeProperties(request, true));

        const proxy = sdk.unknownCheckingProxy(once);
        assert.strictEqual(sdk.unknownCheckingProxy(once), proxy);
        assert.throws(() => (proxy as Record<string, unknown>).arn, /can.t be known/);
        assert.strictEqual(sdk.unknownCheckingProxy("text"), "text");
    });

    it("no policy writes to the properties it is given: every policy says the same of frozen properties", async () => {
        const stacks: [string, StackResource[]][] = [
            ["generated production stack", generatedStack(200, "production")],
            ["mastertest preview that creates everything", waitingOnPush(rolloutStack({ wsgi: "changing", indexer: "changing" }, { creating: true }))],
            ["production stack", rolloutStack({}, { stack: "production" })],
        ];
        for (const [label, resources] of stacks) {
            assert.deepStrictEqual(await judgeInProcess(resources, deepFreeze), await judgeInProcess(resources, (v) => v), label);
        }
    });
});

function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const item of Object.values(value)) {
            deepFreeze(item);
        }
    }
    return value;
}

/**
 * Every policy of the pack on the resources, given as the SDK gives them (each resource's
 * properties through `prepare`); the messages each reports, or that it does not apply.
 */
async function judgeInProcess(resources: StackResource[], prepare: (props: Record<string, unknown>) => Record<string, unknown>): Promise<string[]> {
    const located = resources.map((r) => ({ ...r, urn: r.urn ?? makeUrn("mastertest", PROJECT, r.type, r.name, r.parent) }));
    const byUrn = new Map(located.map((r) => [r.urn, { urn: r.urn }]));
    const sdkResources = located.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: prepare(structuredClone(r.props)),
        parent: r.parent ? byUrn.get(r.parent) : undefined,
        dependencies: [],
        propertyDependencies: Object.fromEntries(
            Object.entries(r.propertyDependencies ?? {}).map(([k, urns]) => [k, urns.flatMap((u) => (byUrn.has(u) ? [byUrn.get(u)!] : []))]),
        ),
    }));
    const said: string[] = [];
    const common = {
        getConfig: () => ({}),
        stackTags: new Map<string, string>(),
        notApplicable: (reason?: string) => {
            throw Object.assign(new Error(reason), { notApplicable: true });
        },
    };
    for (const policy of policies) {
        const report = (message: string, urn?: string) => {
            assert.ok(!/could not finish/.test(message), `${policy.name}: ${message}`);
            said.push(`${policy.name} ${urn ?? ""}: ${message}`);
        };
        const run = async (action: () => unknown) => {
            try {
                await action();
            } catch (e) {
                if (!(e as { notApplicable?: boolean }).notApplicable) {
                    throw e;
                }
                said.push(`${policy.name}: does not apply (${(e as Error).message})`);
            }
        };
        if ("validateStack" in policy && policy.validateStack) {
            const validate = policy.validateStack;
            await run(() => validate({ ...common, resources: sdkResources } as never, report));
        }
        if ("validateResource" in policy && policy.validateResource) {
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
            for (const r of sdkResources) {
                for (const validate of validations) {
                    await run(() => validate({ ...common, ...r } as never, report));
                }
            }
        }
    }
    return said;
}
