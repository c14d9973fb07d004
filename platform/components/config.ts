// The platform's stack config and the policy levels the reviewers chose: parsed and validated in
// one place, before any resource is declared, so a bad value fails the preview with one message
// that lists every problem and nothing is half-applied. Pure: the caller reads the files.
import { ConfigError, Environment, isPlainObject } from "../../components/config";
import { GATES, levelProblems } from "../../policy/gates";

export { ConfigError };

/** The platform project's name, and so its config namespace (`cgap-platform:<key>`). */
export const PLATFORM_NAMESPACE = "cgap-platform";

/**
 * The policy config file the policy previews in docs/compliance.md pass as `--policy-pack-config`: the one
 * place reviewers set levels, for a CLI preview and for the policy group alike.
 */
export const POLICY_CONFIG_FILE = "policy/config.example.json";

/** The cgap-rollout pack's rollout gates and their fixed level: the pack's own table (policy/gates.ts). */
export { ENFORCEMENT_LEVELS, GATE_NAMES as ROLLOUT_GATES } from "../../policy/gates";

export const PLATFORM_KEYS = ["organization", "repository", "branch", "stacks"] as const;
export const STACK_FIELDS = ["awsRoleArn", "deployOnMerge"] as const;

/** What the platform knows of a portal stack from its `Pulumi.<stack>.yaml`. */
export interface PortalStack {
    environment: Environment;
}

export interface StackSettings {
    /** The portal stack's name, e.g. `mastertest`. */
    name: string;
    /** The IAM role Pulumi Deployments assumes through OIDC for this stack. */
    awsRoleArn: string;
    /** Push-to-deploy: `pulumi up` when a commit lands on the branch. */
    deployOnMerge: boolean;
    /** `cgap:environment` is `production`: tagged `environment=production`, deployed only on demand. */
    production: boolean;
}

export interface PlatformConfig {
    /** The Pulumi Cloud organization that owns the portal's stacks, the pack and the group. */
    organization: string;
    /** The GitHub repository (`owner/name`) the portal's program is deployed from. */
    repository: string;
    /** The branch merges land on. */
    branch: string;
    /** One entry per portal stack, in stack-name order. */
    stacks: StackSettings[];
}

const ORGANIZATION = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;
const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

function key(name: string): string {
    return `${PLATFORM_NAMESPACE}:${name}`;
}

/**
 * Parses the `cgap-platform:` namespace. `raw` maps keys without the namespace to the strings
 * Pulumi hands a program (structured values as JSON); `portalStacks` is every stack of the portal
 * project, by name. Every portal stack must be listed: a stack left out would not be gated.
 */
export function parsePlatformConfig(
    raw: Readonly<Record<string, string | undefined>>,
    portalStacks: Readonly<Record<string, PortalStack>>,
): PlatformConfig {
    const problems: string[] = [];
    for (const name of Object.keys(raw)) {
        if (!(PLATFORM_KEYS as readonly string[]).includes(name)) {
            problems.push(`${key(name)} is not a setting of the platform; known keys: ${PLATFORM_KEYS.join(", ")}.`);
        }
    }
    const required = (name: string, pattern: RegExp, what: string): string => {
        const value = raw[name]?.trim();
        if (!value) {
            problems.push(`${key(name)} is required: ${what}; set it with \`pulumi config set ${key(name)} <value>\`.`);
        } else if (!pattern.test(value)) {
            problems.push(`${key(name)} is ${JSON.stringify(value)}; it must be ${what}.`);
        }
        return value ?? "";
    };
    const organization = required("organization", ORGANIZATION, "the Pulumi Cloud organization that owns the cgap stacks");
    const repository = required("repository", REPOSITORY, "the GitHub repository as owner/name, e.g. dbmi-bgm/cgap-rollout-stack");
    const branch = raw.branch === undefined ? "main" : required("branch", BRANCH, "a git branch name, e.g. main");
    const stacks = parseStacks(raw.stacks, portalStacks, problems);
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return { organization, repository, branch, stacks };
}

function parseStacks(
    value: string | undefined,
    portalStacks: Readonly<Record<string, PortalStack>>,
    problems: string[],
): StackSettings[] {
    const known = Object.keys(portalStacks).sort();
    const example = `{ ${known[0] ?? "mastertest"}: { awsRoleArn: arn:aws:iam::<account>:role/<name> } }`;
    if (value === undefined || value.trim() === "") {
        problems.push(`${key("stacks")} is required: a map of every portal stack (${known.join(", ")}) to its settings, e.g. ${example}.`);
        return [];
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        parsed = undefined;
    }
    if (!isPlainObject(parsed)) {
        problems.push(`${key("stacks")} must be a map of portal stack name to settings, e.g. ${example}.`);
        return [];
    }
    for (const name of Object.keys(parsed)) {
        if (!known.includes(name)) {
            problems.push(
                `${key("stacks")}.${name}: the portal has no stack "${name}" (no Pulumi.${name}.yaml); its stacks are ${known.join(", ")}.`,
            );
        }
    }
    const stacks: StackSettings[] = [];
    for (const name of known) {
        const at = `${key("stacks")}.${name}`;
        const given = parsed[name];
        if (given === undefined) {
            problems.push(
                `${at} is missing: every portal stack needs Deployments settings and the policy gate; add ${at}.awsRoleArn.`,
            );
            continue;
        }
        if (!isPlainObject(given)) {
            problems.push(`${at} must be a map with ${STACK_FIELDS.join(", ")}.`);
            continue;
        }
        for (const field of Object.keys(given)) {
            if (!(STACK_FIELDS as readonly string[]).includes(field)) {
                problems.push(`${at}.${field} is not a stack setting; settings are ${STACK_FIELDS.join(", ")} (AWS access is OIDC only).`);
            }
        }
        const production = portalStacks[name].environment === "production";
        const awsRoleArn = given.awsRoleArn;
        if (awsRoleArn === undefined || awsRoleArn === "") {
            problems.push(
                `${at}.awsRoleArn is required: the IAM role Pulumi Deployments assumes through OIDC for this stack, ` +
                    "arn:aws:iam::<account>:role/<name>.",
            );
        } else if (typeof awsRoleArn !== "string" || !IAM_ROLE_ARN.test(awsRoleArn)) {
            problems.push(`${at}.awsRoleArn is ${JSON.stringify(awsRoleArn)}; it must be an IAM role ARN, arn:aws:iam::<account>:role/<name>.`);
        }
        const deployOnMerge = given.deployOnMerge ?? false;
        if (typeof deployOnMerge !== "boolean") {
            problems.push(`${at}.deployOnMerge is ${JSON.stringify(deployOnMerge)}; it must be true or false.`);
        } else if (deployOnMerge && production) {
            problems.push(
                `${at}.deployOnMerge is true, but ${name} is a production stack (cgap:environment: production): ` +
                    "production is deployed only by an explicit trigger; remove deployOnMerge.",
            );
        }
        stacks.push({ name, awsRoleArn: String(awsRoleArn), deployOnMerge: deployOnMerge === true, production });
    }
    return stacks;
}

/**
 * The policy group's config for the cgap-rollout pack: the reviewers' file as written, with the
 * rollout gates named at their fixed level. A file that sets a gate to anything else, directly or
 * through "all", or that names a level that does not exist, is refused rather than silently
 * overridden, with the words the pack and the offline check use. `file` names the file in messages.
 */
export function groupPolicyConfig(file: string, content: unknown): Record<string, unknown> {
    if (!isPlainObject(content)) {
        throw new ConfigError([`${file} must be a JSON object of policy name to level or settings.`]);
    }
    const problems = levelProblems(content).map((problem) => `${file}: ${problem}.`);
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const config: Record<string, unknown> = { ...content };
    for (const gate of GATES) {
        const value = content[gate.name];
        config[gate.name] = isPlainObject(value) ? { ...value, enforcementLevel: gate.level } : gate.level;
    }
    return config;
}
