// The rollout gates and the one level they run at, and the enforcement levels a policy config may
// set. The pack (at Configure), the offline check (before it runs), the compliance report and the
// platform's policy group all read this table, so a third gate is added here and nowhere else.
// Dependency-free on purpose: the check reads it before anything heavy loads.

/** Levels a policy config may set (@pulumi/policy's EnforcementLevel; pulumi/pulumi apitype.EnforcementLevel). */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type Level = (typeof ENFORCEMENT_LEVELS)[number];

export interface Gate {
    /** The policy's name in the pack. */
    name: string;
    /** The only level it runs at: no policy config can change it. */
    level: "mandatory";
    /** Why it cannot be lowered, for the refusal. */
    why: string;
}

export const GATES: readonly Gate[] = [
    {
        name: "indexer-deployment-bundle",
        level: "mandatory",
        why: "below mandatory an indexer image could roll out without the deployment image, and the indexer would run a build whose mappings the deployment task never created",
    },
    {
        name: "production-rollout-complete",
        level: "mandatory",
        why: "below mandatory a production stack could run a partial or skewed rollout of the four role images",
    },
];

export const GATE_NAMES: readonly string[] = GATES.map((gate) => gate.name);

/** A gate's fixed level, for the policy that declares it; throws for a name the table lacks. */
export function gateLevel(name: string): Gate["level"] {
    const gate = GATES.find((g) => g.name === name);
    if (!gate) {
        throw new Error(`"${name}" is not a rollout gate; the gates are ${GATE_NAMES.join(", ")}`);
    }
    return gate.level;
}

/** Name to fixed level, as the compliance report records it. */
export const GATE_LEVELS: Readonly<Record<string, Gate["level"]>> = Object.fromEntries(GATES.map((gate) => [gate.name, gate.level]));

/**
 * One policy's entry as a `--policy-pack-config` file (or a policy group, or the engine's
 * Configure request) holds it: a level, or an object with an optional `enforcementLevel`.
 */
function levelOf(entry: unknown): unknown {
    if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
        return (entry as Record<string, unknown>).enforcementLevel;
    }
    return entry;
}

function isLevel(value: unknown): value is Level {
    return (ENFORCEMENT_LEVELS as readonly unknown[]).includes(value);
}

/**
 * Every level problem of a policy config: a level that is not one of the four (naming the policy),
 * and a rollout gate set below its fixed level, directly or through `all`. The engine resolves
 * levels as pulumi/pulumi pkg/resource/analyzer/config.go `applyConfig` does: `all` first, then
 * each policy's own entry; it also passes the `all` entry itself on to the pack's Configure, so the
 * pack can say when a gate was lowered through it.
 */
export function levelProblems(config: Readonly<Record<string, unknown>>): string[] {
    const problems: string[] = [];
    for (const [name, entry] of Object.entries(config)) {
        const level = levelOf(entry);
        if (level !== undefined && !isLevel(level)) {
            problems.push(`"${name}" sets enforcement level ${JSON.stringify(level)}; levels are ${ENFORCEMENT_LEVELS.join(", ")}`);
        }
    }
    const all = levelOf(config.all);
    for (const gate of GATES) {
        const own = levelOf(config[gate.name]);
        const asked = own ?? all;
        if (asked === undefined || !isLevel(asked) || asked === gate.level) {
            continue;
        }
        // The engine's Configure carries "all" and each policy's resolved level, so a gate that
        // got its level from "all" arrives with the same level as "all".
        const through = asked === all ? ` (through "all": ${JSON.stringify(all)})` : "";
        problems.push(
            `"${gate.name}" is a rollout gate and stays ${gate.level}; the config asks for ${JSON.stringify(asked)}${through}: ` +
                `${gate.why}. Fix: remove that level, or set "${gate.name}" to "${gate.level}"; ` +
                `only the compliance policies' levels can change`,
        );
    }
    return problems;
}

/** The one message a refused policy config gets, in the pack and in the offline check alike. */
export function refusal(problems: readonly string[]): string {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    return (
        `policy config refused, nothing was judged (${count}; fix the --policy-pack-config file or the policy group's config):\n` +
        problems.map((p) => `  - ${p}`).join("\n")
    );
}
