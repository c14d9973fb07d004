// The policy pack processes the protocol tests talk to: one per stack identity and phase (what
// the pack reads from its environment), started together once and shared by every test of a spec
// file; test/hooks.ts closes them after the file.
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

const started = new Map<PackName, Promise<PolicyPackProcess>>();

export function pack(name: PackName): Promise<PolicyPackProcess> {
    let process = started.get(name);
    if (!process) {
        process = startPolicyPack(PACKS[name]);
        started.set(name, process);
    }
    return process;
}

/** Starts every pack at once; they type-check themselves on start, which is the slow part. */
export async function startAll(): Promise<PolicyPackProcess[]> {
    return Promise.all((Object.keys(PACKS) as PackName[]).map(pack));
}

export async function closeAll(): Promise<void> {
    const all = [...started.values()];
    started.clear();
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
