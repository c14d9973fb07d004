// The policy pack processes tests talk to: one per environment (the stack, phase and config the
// pack reads from its environment when it starts), started on first use and shared by the tests.
// Each time a test takes one it is reset to how it started and given the test's policy config,
// which the pack accepts at any Configure. A pack costs half a second of CPU to start and about
// 120 MB to keep: after each spec file (test/hooks.ts) a mocha worker keeps the few it used last,
// which the next files of the same stacks take over, and closes the rest; the analyzer client
// kills any still running when the worker exits.
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

/** The packs by environment (environmentKey), least recently taken first. */
const shared = new Map<string, Promise<PolicyPackProcess>>();

/** How many packs a worker keeps from one spec file to the next. */
export const KEPT_BETWEEN_FILES = 3;

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

/** What tells one shared pack from another: its start options but the policy config. */
function environmentKey({ policyConfig: _policyConfig, ...environment }: StartOptions): string {
    return canonical(environment);
}

/**
 * A pack as startPolicyPack(options) would start it, shared: reset (stack tags) and configured with
 * `options.policyConfig` when it is returned. A refused policy config rejects as a refused start does.
 */
export async function sharedPack(options: StartOptions): Promise<PolicyPackProcess> {
    const { policyConfig, ...environment } = options;
    const key = environmentKey(options);
    let starting = shared.get(key);
    if (starting === undefined) {
        starting = startPolicyPack(environment);
        // A failed start is not shared: the next caller tries again and sees its own error.
        starting.catch(() => shared.delete(key));
    }
    // Taken: now the most recently used.
    shared.delete(key);
    shared.set(key, starting);
    const pack = await starting;
    await pack.reset();
    if (policyConfig !== undefined && Object.keys(policyConfig).length > 0) {
        await pack.reconfigure(policyConfig);
    }
    return pack;
}

export function pack(name: PackName): Promise<PolicyPackProcess> {
    return sharedPack(PACKS[name]);
}

/** The pack as the running test left it (not reset): for a helper the test calls after reconfiguring it. */
export function packAsIs(name: PackName): Promise<PolicyPackProcess> {
    return shared.get(environmentKey(PACKS[name])) ?? sharedPack(PACKS[name]);
}

/** Starts every pack at once. */
export async function startAll(): Promise<PolicyPackProcess[]> {
    return Promise.all((Object.keys(PACKS) as PackName[]).map(pack));
}

/** Closes every pack but the `keep` most recently taken. */
export async function closeAllBut(keep: number): Promise<void> {
    const closing = [...shared.entries()].slice(0, Math.max(0, shared.size - keep));
    for (const [key] of closing) {
        shared.delete(key);
    }
    await Promise.all(closing.map(async ([, p]) => (await p.catch(() => undefined))?.close()));
}


/** Sorted, distinct names of the policies that reported at the given level(s). */
export function policiesAt(diagnostics: readonly Diagnostic[], ...levels: EnforcementLevel[]): string[] {
    return [...new Set(diagnostics.filter((d) => levels.includes(d.enforcementLevel)).map((d) => d.policyName))].sort();
}

/** Every diagnostic as one line, for assertion messages. */
export function listDiagnostics(diagnostics: readonly Diagnostic[]): string {
    return diagnostics.map((d) => `[${d.enforcementLevel}] ${d.policyName}: ${d.message.replace(/\n/g, " ")}`).join("\n");
}
