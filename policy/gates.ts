// The rollout gates and their fixed level: the one table the pack (at Configure), the offline
// check, the compliance report and the platform's policy group read. A third gate is one more row.
//
// Why a gate's level is not the config's to choose: `--policy-pack-config` and a policy group's
// config can set any policy's level (pulumi/pulumi pkg/resource/analyzer/config.go,
// ReconcilePolicyPackConfig), so a gate left configurable is a gate anyone who can pass a flag
// switches off. Only "mandatory" is accepted: "remediate" on a stack policy is reported as
// mandatory by @pulumi/policy 1.21.0 (server.js analyzeStack), but accepting it would make two
// spellings of one level; the compliance policies keep every level.

export const GATE_LEVEL = "mandatory" as const;

export interface Gate {
    readonly name: string;
    /** Why the gate cannot be lowered, as the refusal says it. */
    readonly why: string;
}

export const GATES: readonly Gate[] = [
    {
        name: "indexer-deployment-bundle",
        why: "an indexer rolled out without the deployment image it was built with reindexes with a mismatched mapping",
    },
    {
        name: "production-rollout-complete",
        why: "a production rollout that leaves out a role runs two portal versions against one database",
    },
];

export const GATE_NAMES: readonly string[] = GATES.map((g) => g.name);

export function isGate(name: string): boolean {
    return GATE_NAMES.includes(name);
}

/**
 * The refusal for every gate whose effective level is not the gate level. `levelOf` gives the
 * level the config leaves each gate at (after "all" and its own entry); `source` says where it
 * was asked, for messages ("the policy config", a file name).
 */
export function loweredGateProblems(levelOf: (name: string) => string | undefined): string[] {
    const problems: string[] = [];
    for (const gate of GATES) {
        const level = levelOf(gate.name);
        if (level !== undefined && level !== GATE_LEVEL) {
            problems.push(
                `"${gate.name}" is a rollout gate and stays ${GATE_LEVEL}; the config asks for "${level}" ` +
                    `(by its own entry or through "all"). It cannot be lowered because ${gate.why}. ` +
                    `Remove the entry or set it to "${GATE_LEVEL}"; only the compliance policies' levels can change.`,
            );
        }
    }
    return problems;
}

/** Levels a policy config may set (@pulumi/policy's EnforcementLevel). */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;

/**
 * The level a `--policy-pack-config` file (or a policy group's config) leaves a policy at, as the
 * engine reconciles it: the policy's own entry, else "all", else undefined (the policy's default).
 */
export function configuredLevel(config: Readonly<Record<string, unknown>>, name: string): unknown {
    const levelOf = (entry: unknown) =>
        entry !== null && typeof entry === "object" && !Array.isArray(entry) ? (entry as Record<string, unknown>).enforcementLevel : entry;
    return levelOf(config[name]) ?? levelOf(config.all);
}
