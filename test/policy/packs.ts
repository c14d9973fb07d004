// The policy pack processes tests talk to: one per set of start options (what the pack reads from
// its environment and its first Configure), started on first use, shared by the tests of a spec
// file and reset to how it started each time a test takes it; test/hooks.ts closes them after the
// file. A pack takes about a second to start.
import * as fs from "fs";
import * as path from "path";

import { Diagnostic, EnforcementLevel, PolicyPackConfig, PolicyPackProcess, startPolicyPack, StartOptions } from "../../ops/offline/analyzer";
import { POLICY_PACK_DIR } from "../../ops/project";

/**
 * The reviewers' policy config (policy/config.example.json) without its levels: the settings and
 * accepted exceptions of this stack's deliberate deviations (ECR.2's movable latest* tags,
 * mastertest's plain HTTP, ...), every policy at its default level.
 */
export function reviewedSettings(): PolicyPackConfig {
    const example = JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "config.example.json"), "utf8")) as PolicyPackConfig;
    return Object.fromEntries(
        Object.entries(example).flatMap(([name, entry]) => {
            if (typeof entry === "string") {
                return [];
            }
            const { enforcementLevel: _level, ...settings } = entry;
            return [[name, settings]];
        }),
    );
}

export const REVIEWED_SETTINGS = reviewedSettings();

export const PACKS = {
    mastertestPreview: { stack: "mastertest", dryRun: true, policyConfig: REVIEWED_SETTINGS },
    productionPreview: { stack: "production", dryRun: true, policyConfig: REVIEWED_SETTINGS },
    productionUpdate: { stack: "production", dryRun: false, policyConfig: REVIEWED_SETTINGS },
    /** Started without PULUMI_NODEJS_STACK: the stack name cannot be read. */
    unnamedPreview: { stack: undefined, dryRun: true, policyConfig: REVIEWED_SETTINGS },
    /** A stack whose name says nothing, with `cgap:environment: production` in its config. */
    configuredProductionPreview: { stack: "staging-eu", dryRun: true, config: { "cgap:environment": "production" }, policyConfig: REVIEWED_SETTINGS },
} satisfies Record<string, StartOptions>;

export type PackName = keyof typeof PACKS;

const shared = new Map<string, Promise<PolicyPackProcess>>();

/** JSON with every object's keys sorted: the same options give the same key whatever their order. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value).filter(([, v]) => v !== undefined);
        return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "undefined";
}

/** A pack started with these options, shared; as it started (stack tags, policy config) when it is returned. */
export async function sharedPack(options: StartOptions): Promise<PolicyPackProcess> {
    const key = canonical(options);
    let starting = shared.get(key);
    if (starting === undefined) {
        starting = startPolicyPack(options);
        shared.set(key, starting);
        // A failed start is not shared: the next caller tries again and sees its own error.
        starting.catch(() => shared.delete(key));
    }
    const pack = await starting;
    await pack.reset();
    return pack;
}

export function pack(name: PackName): Promise<PolicyPackProcess> {
    return sharedPack(PACKS[name]);
}

/** The pack as the running test left it (not reset): for a helper the test calls after reconfiguring it. */
export function packAsIs(name: PackName): Promise<PolicyPackProcess> {
    return shared.get(canonical(PACKS[name])) ?? sharedPack(PACKS[name]);
}

/** Starts every pack at once; they type-check themselves on start, which is the slow part. */
export async function startAll(): Promise<PolicyPackProcess[]> {
    return Promise.all((Object.keys(PACKS) as PackName[]).map(pack));
}

export async function closeAll(): Promise<void> {
    const all = [...shared.values()];
    shared.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
}

/** Sorted, distinct names of the policies that reported at the given level(s). */
export function policiesAt(diagnostics: readonly Diagnostic[], ...levels: EnforcementLevel[]): string[] {
    return [...new Set(diagnostics.filter((d) => levels.includes(d.enforcementLevel)).map((d) => d.policyName))].sort();
}

/** Every diagnostic as one line, for assertion messages. */
export function listDiagnostics(diagnostics: readonly Diagnostic[]): string {
    return diagnostics.map((d) => `[${d.enforcementLevel}] ${d.policyName}: ${d.message.replace(/\n/g, " ")}`).join("\n");
}
