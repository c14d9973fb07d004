// Stack config: parsed and validated in one place, before any resource exists, so a bad value
// fails the preview with one message and nothing half-applied.
import * as pulumi from "@pulumi/pulumi";
import { Capacity, CapacityStrategy, isRole, only, Role, ROLE_SPECS, ROLES, RoleSizing } from "./roles";

export const CONFIG_NAMESPACE = "cgap";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const PLATFORMS = {
    "linux/amd64": "X86_64",
    "linux/arm64": "ARM64",
} as const;
export type Platform = keyof typeof PLATFORMS;

export interface ExistingNetwork {
    vpcId: string;
    publicSubnetIds: string[];
    privateSubnetIds: string[];
}

export interface ImageSettings {
    /** cgap-portal release (git tag) built into the images. */
    appVersion: string;
    platform: Platform;
    /** Build the images during `pulumi preview` too (without pushing). */
    buildOnPreview: boolean;
}

export interface StackConfig {
    envName: string;
    environment: Environment;
    /** Secrets Manager secret name handed to every container as IDENTITY. */
    identity: string;
    /** The network to run in; undefined means the stack creates its own VPC. */
    network?: ExistingNetwork;
    sizing: Record<Role, RoleSizing>;
    /** Roles whose images this update builds and rolls out; the others stay pinned. */
    rollout: Role[];
    image: ImageSettings;
    certificateArn?: string;
    /** Import an existing ECR repository named envName instead of creating it. */
    adoptRepository: boolean;
    indexerIntervalSeconds: number;
    /** S3 buckets the app reads and writes (files, blobs, system). */
    dataBuckets: string[];
    /** The Elasticsearch/OpenSearch domain the app indexes into. */
    searchDomainArn: string;
    /** 4dn-cloud-infra's `<foursight prefix>envs` bucket, read by dcicutils EnvUtils at every start. */
    globalEnvBucket: string;
    /** The datastore's S3 KMS key (4dn-cloud-infra `<env>S3EncryptKey`), when its buckets are encrypted with it. */
    s3KmsKeyArn?: string;
    /** Service roles whose tasks accept ECS Exec sessions; none unless the stack opts in. */
    exec: Role[];
    /** S3 bucket the ALB writes its access logs to; none means access logs are off. */
    accessLogsBucket?: string;
}

/**
 * The only region the app works in. dcicutils 8.16.1 (common.py `REGION = 'us-east-1'`, used by
 * secrets_utils.py for Secrets Manager and es_utils.py) and dcicsnovault 11.19.0
 * (elasticsearch/indexer_queue.py and ingestion/queue_utils.py for SQS, storage.py for blobs,
 * commands/load_access_keys.py) hard-code it, so a stack elsewhere would run tasks that look for
 * their secret, queues and search domain in us-east-1.
 */
export const APP_REGION = "us-east-1";

/** Every key the stack reads, for the unknown-key check and the README. */
export const CONFIG_KEYS = [
    "envName",
    "environment",
    "identity",
    "vpcId",
    "publicSubnetIds",
    "privateSubnetIds",
    "sizing",
    "rollout",
    "appVersion",
    "platform",
    "buildOnPreview",
    "certificateArn",
    "adoptRepository",
    "indexerIntervalSeconds",
    "dataBuckets",
    "searchDomainArn",
    "globalEnvBucket",
    "s3KmsKeyArn",
    "exec",
    "accessLogsBucket",
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

/**
 * Fargate's CPU units and the memory sizes (MiB) each offers:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
 */
const FARGATE_SIZES: ReadonlyArray<[cpu: number, memory: number[]]> = [
    [256, [512, 1024, 2048]],
    [512, range(1024, 4096, 1024)],
    [1024, range(2048, 8192, 1024)],
    [2048, range(4096, 16384, 1024)],
    [4096, range(8192, 30720, 1024)],
    [8192, range(16384, 61440, 4096)],
    [16384, range(32768, 122880, 8192)],
];

function range(from: number, to: number, step: number): number[] {
    const values: number[] = [];
    for (let v = from; v <= to; v += step) {
        values.push(v);
    }
    return values;
}

export function fargateMemoryFor(cpu: number): number[] | undefined {
    return FARGATE_SIZES.find(([c]) => c === cpu)?.[1];
}

/** The stack refuses to preview with these; the message lists every problem at once. */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

const ENV_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const GIT_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SEARCH_DOMAIN_ARN = /^arn:aws[a-z-]*:es:[a-z0-9-]+:\d{12}:domain\/[a-z][a-z0-9-]{2,27}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const SIZING_FIELDS = ["count", "min", "max", "cpu", "memory", "capacity"] as const;
const CAPACITIES: readonly Capacity[] = ["spot", "on-demand"];
/** ECS's bounds for a capacity provider strategy item (CapacityProviderStrategyItem, ECS API reference). */
const MAX_BASE = 100000;
const MAX_WEIGHT = 1000;

/**
 * Parses the `cgap:` namespace of the stack config. `raw` maps keys without the namespace to the
 * strings Pulumi hands the program (structured values arrive as JSON text). `region` is the region
 * the AWS provider will use (`aws:region`, else AWS_REGION/AWS_DEFAULT_REGION); when known it must
 * be the app's.
 */
export function parseStackConfig(raw: Readonly<Record<string, string | undefined>>, region?: string): StackConfig {
    const problems: string[] = [];
    const reader = new Reader(raw, problems);

    if (region !== undefined && region !== APP_REGION) {
        problems.push(
            `aws:region is ${JSON.stringify(region)}; the portal only works in ${APP_REGION}: dcicutils 8.16.1 and ` +
                `dcicsnovault 11.19.0 hard-code ${APP_REGION} for Secrets Manager, SQS, S3 blobs and Elasticsearch. ` +
                `Set \`pulumi config set aws:region ${APP_REGION}\`.`,
        );
    }

    for (const name of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
            problems.push(`${key(name)} is not a setting of this stack; known keys: ${CONFIG_KEYS.join(", ")}.`);
        }
    }

    const envName = reader.required("envName", (v) =>
        ENV_NAME.test(v) && v.length <= 40
            ? v
            : fail(`must be lower-case letters, digits and single hyphens, at most 40 characters (e.g. cgap-mastertest)`),
    );
    const environment = reader.required("environment", (v) => oneOf(v, ENVIRONMENTS));
    const identity = reader.required("identity", (v) =>
        SECRET_NAME.test(v) ? v : fail("must be a Secrets Manager secret name (letters, digits and /_+=.@-)"),
    );
    const appVersion = reader.required("appVersion", (v) =>
        GIT_REF.test(v) ? v : fail("must be a cgap-portal git tag or branch, e.g. v15.6.0"),
    );

    const sizing = parseSizing(reader, problems, environment);
    const platform = reader.optional("platform", (v) => oneOf(v, Object.keys(PLATFORMS) as Platform[])) ?? "linux/amd64";
    problems.push(...spotOnArm(sizing, platform));

    return finish(problems, {
        envName,
        environment,
        identity,
        network: parseNetwork(reader, problems),
        sizing,
        rollout: reader.optional("rollout", parseRollout) ?? [...ROLES],
        image: {
            appVersion,
            platform,
            buildOnPreview: reader.optional("buildOnPreview", parseBoolean) ?? false,
        },
        certificateArn: reader.optional("certificateArn", (v) =>
            ACM_ARN.test(v) ? v : fail("must be an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>"),
        ),
        adoptRepository: reader.optional("adoptRepository", parseBoolean) ?? false,
        indexerIntervalSeconds:
            reader.optional("indexerIntervalSeconds", (v) => wholeNumberIn(v, 1, 3600, "seconds")) ?? 3,
        dataBuckets: reader.required("dataBuckets", (v) => {
            const names = bucketList(v);
            return names.length > 0 ? names : fail("must name at least one bucket (the app's blobs and system buckets)");
        }),
        exec: reader.optional("exec", parseExec) ?? [],
        accessLogsBucket: reader.optional("accessLogsBucket", (v) =>
            BUCKET_NAME.test(v) ? v : fail("must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)"),
        ),
        searchDomainArn: reader.required("searchDomainArn", (v) =>
            SEARCH_DOMAIN_ARN.test(v)
                ? v
                : fail("must be an OpenSearch/Elasticsearch domain ARN, arn:aws:es:<region>:<account>:domain/<name>"),
        ),
        globalEnvBucket: reader.required("globalEnvBucket", (v) =>
            BUCKET_NAME.test(v) ? v : fail("must be an S3 bucket name (4dn-cloud-infra's <foursight prefix>envs bucket)"),
        ),
        s3KmsKeyArn: reader.optional("s3KmsKeyArn", (v) =>
            KMS_KEY_ARN.test(v) ? v : fail("must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>"),
        ),
    });
}

/** Reads the `cgap:` namespace of the running stack's config. */
export function loadStackConfig(): StackConfig {
    const all = pulumi.runtime.allConfig();
    for (const warning of unreadConfigWarnings(all)) {
        pulumi.log.warn(warning);
    }
    return parseStackConfig(ownKeys(all), providerRegion(all));
}

/** The region the AWS provider uses: `aws:region`, else the environment, as pulumi-aws resolves it. */
export function providerRegion(all: Readonly<Record<string, string>>): string | undefined {
    return all["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/** Config namespaces something in this stack reads: the program's own and its providers'. */
export const READ_NAMESPACES = [CONFIG_NAMESPACE, "aws", "awsx", "docker", "pulumi"] as const;

/**
 * One warning per config key in a namespace nothing in the stack reads. Pulumi passes such keys
 * through without a word, so a typo (`cgpa:envName`) would otherwise be silently ignored.
 */
export function unreadConfigWarnings(all: Readonly<Record<string, string>>): string[] {
    return Object.keys(all)
        .filter((name) => !(READ_NAMESPACES as readonly string[]).includes(name.split(":")[0]))
        .sort()
        .map((name) => {
            const [namespace, ...rest] = name.split(":");
            const suggestion = (CONFIG_KEYS as readonly string[]).includes(rest.join(":")) ? ` Did you mean ${key(rest.join(":"))}?` : "";
            return (
                `Config key ${name} is ignored: nothing in this stack reads the namespace "${namespace}" ` +
                `(read: ${READ_NAMESPACES.join(", ")}).${suggestion}`
            );
        });
}

/** One namespace's keys (`cgap:` by default) of a full config map (`namespace:key` to value), without the namespace. */
export function ownKeys(all: Readonly<Record<string, string>>, namespace = CONFIG_NAMESPACE): Record<string, string> {
    const prefix = `${namespace}:`;
    return Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

const NETWORK_KEYS = ["vpcId", "publicSubnetIds", "privateSubnetIds"] as const;

function parseNetwork(reader: Reader, problems: string[]): ExistingNetwork | undefined {
    const vpcId = reader.optional("vpcId", (v) => (VPC_ID.test(v) ? v : fail("must look like vpc-0123456789abcdef0")));
    const publicSubnetIds = reader.optional("publicSubnetIds", (v) => subnetList(v, 2));
    const privateSubnetIds = reader.optional("privateSubnetIds", (v) => subnetList(v, 1));
    const missing = NETWORK_KEYS.filter((k) => !reader.has(k));
    if (missing.length === NETWORK_KEYS.length) {
        return undefined;
    }
    if (missing.length > 0) {
        const present = NETWORK_KEYS.filter((k) => reader.has(k));
        problems.push(
            `${present.map(key).join(", ")} set without ${missing.map(key).join(", ")}: ` +
                "give all three to run in an existing network, or none to let the stack create its VPC.",
        );
        return undefined;
    }
    if (!vpcId || !publicSubnetIds || !privateSubnetIds) {
        return undefined; // each malformed value is already a problem
    }
    const shared = publicSubnetIds.filter((s) => privateSubnetIds.includes(s));
    if (shared.length > 0) {
        problems.push(
            `${key("publicSubnetIds")} and ${key("privateSubnetIds")} share ${shared.join(", ")}: tasks must run in private subnets only.`,
        );
    }
    return { vpcId, publicSubnetIds, privateSubnetIds };
}

function parseSizing(reader: Reader, problems: string[], environment: Environment | undefined): Record<Role, RoleSizing> {
    const overrides = reader.optional("sizing", (v) =>
        mapOf(v, "role to { count, min, max, cpu, memory, capacity }, e.g. { wsgi: { count: 8 } }"),
    );
    const sizing = Object.fromEntries(ROLES.map((r) => [r, defaultSizing(r, environment)])) as Record<Role, RoleSizing>;
    /** Roles whose capacity the stack file sets; the others keep the default, which a message must say. */
    const capacityGiven = new Set<Role>();
    for (const [role, given] of Object.entries(overrides ?? {})) {
        const at = `${key("sizing")}.${role}`;
        if (!isRole(role)) {
            problems.push(`${at}: "${role}" is not a role; roles are ${ROLES.join(", ")}.`);
            continue;
        }
        if (!isPlainObject(given)) {
            problems.push(`${at} must be a map with any of ${SIZING_FIELDS.join(", ")}.`);
            continue;
        }
        for (const [field, value] of Object.entries(given)) {
            const fieldProblems = applySizingField(role, sizing[role], field, value);
            problems.push(...fieldProblems.map((p) => `${at}.${field}${p.startsWith(".") ? "" : " "}${p}`));
            if (field === "capacity" && fieldProblems.length === 0) {
                capacityGiven.add(role);
            }
        }
    }
    for (const role of ROLES) {
        const problem = settleBounds(sizing[role]);
        if (problem) {
            problems.push(`${key("sizing")}.${role}: ${problem}`);
        }
    }
    for (const role of ROLES) {
        const { cpu, memory } = sizing[role];
        const offered = fargateMemoryFor(cpu);
        if (!offered) {
            problems.push(
                `${key("sizing")}.${role}.cpu is ${cpu}; Fargate offers ${FARGATE_SIZES.map(([c]) => c).join(", ")}.`,
            );
        } else if (!offered.includes(memory)) {
            problems.push(
                `${key("sizing")}.${role}: Fargate does not offer ${memory} MiB with ${cpu} CPU units; ` +
                    `with ${cpu} it offers ${offered.join(", ")} MiB.`,
            );
        }
        problems.push(...capacityAgainstCount(role, sizing[role], capacityGiven.has(role)));
    }
    return sizing;
}

/**
 * Gives `min` and `max` the count where the config left them out (no autoscaling), then checks
 * 0 <= min <= count <= max. Returns the problem, or undefined.
 */
function settleBounds(target: RoleSizing): string | undefined {
    if (Number.isNaN(target.min)) {
        target.min = Math.min(target.count, Number.isNaN(target.max) ? target.count : target.max);
    }
    if (Number.isNaN(target.max)) {
        target.max = Math.max(target.count, target.min);
    }
    const { min, count, max } = target;
    if (min > max) {
        return `min ${min} is more than max ${max}; give 0 <= min <= count <= max.`;
    }
    if (count < min || count > max) {
        return (
            `count ${count} is outside min ${min} .. max ${max}; count is the number of tasks a new service ` +
            "starts with and must lie within the bounds the autoscaler keeps."
        );
    }
    return undefined;
}

/** A role's sizing before the stack file's overrides: the role table's, with production's where it differs. */
function defaultSizing(role: Role, environment: Environment | undefined): RoleSizing {
    const spec = ROLE_SPECS[role];
    const merged = { ...spec.defaults, ...(environment === "production" ? spec.productionDefaults : {}) };
    return { ...merged, min: NaN, max: NaN, capacity: merged.capacity.map((share) => ({ ...share })) };
}

/** Returns the problems with a field (each the part after the key), none when it was applied. */
function applySizingField(role: Role, target: RoleSizing, field: string, value: unknown): string[] {
    switch (field) {
        case "count":
        case "min":
        case "max":
            if (!ROLE_SPECS[role].hasService) {
                return ["is not used: the deployment role has no service and runs one task on demand."];
            }
            if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
                return [`is ${JSON.stringify(value)}; it must be a whole number of tasks, 0 or more.`];
            }
            target[field] = value;
            return [];
        case "cpu":
        case "memory":
            if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
                return [`is ${JSON.stringify(value)}; it must be a positive whole number (${field === "cpu" ? "CPU units" : "MiB"}).`];
            }
            target[field] = value;
            return [];
        case "capacity": {
            const parsed = parseCapacity(role, value);
            if (Array.isArray(parsed)) {
                target.capacity = parsed;
                return [];
            }
            return parsed.problems;
        }
        default:
            return [`is not a sizing field; fields are ${SIZING_FIELDS.join(", ")}.`];
    }
}

const MIX_EXAMPLE = "e.g. { on-demand: { base: 2 }, spot: { weight: 1 } }";

/**
 * `capacity` is either a shorthand (`spot`, `on-demand`: every task there) or a mix, a map of
 * capacity to `{ base, weight }` read as an ECS capacity provider strategy: `base` tasks go to that
 * capacity first, the rest are spread in proportion to the weights (both default to 0, as in ECS).
 */
function parseCapacity(role: Role, value: unknown): CapacityStrategy | { problems: string[] } {
    if (typeof value === "string" && CAPACITIES.includes(value as Capacity)) {
        return only(value as Capacity);
    }
    if (!isPlainObject(value)) {
        return {
            problems: [
                `is ${JSON.stringify(value)}; it must be ${CAPACITIES.join(" or ")}, or a mix of both, ${MIX_EXAMPLE}.`,
            ],
        };
    }
    if (!ROLE_SPECS[role].hasService) {
        return {
            problems: [
                `is a mix; the deployment role runs one task at a time, so it takes ${CAPACITIES.join(" or ")}.`,
            ],
        };
    }
    const problems: string[] = [];
    const strategy: CapacityStrategy = [];
    for (const [capacity, share] of Object.entries(value)) {
        if (!CAPACITIES.includes(capacity as Capacity)) {
            problems.push(`.${capacity}: "${capacity}" is not a capacity; capacities are ${CAPACITIES.join(", ")}.`);
            continue;
        }
        if (!isPlainObject(share)) {
            problems.push(`.${capacity} is ${JSON.stringify(share)}; it must be a map of base and weight, ${MIX_EXAMPLE}.`);
            continue;
        }
        const entry = { capacity: capacity as Capacity, base: 0, weight: 0 };
        for (const [field, n] of Object.entries(share)) {
            const max = field === "base" ? MAX_BASE : field === "weight" ? MAX_WEIGHT : undefined;
            if (max === undefined) {
                problems.push(`.${capacity}.${field} is not a field of a capacity share; fields are base, weight.`);
            } else if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
                problems.push(`.${capacity}.${field} is ${JSON.stringify(n)}; it must be a whole number from 0 to ${max}.`);
            } else {
                entry[field as "base" | "weight"] = n;
            }
        }
        strategy.push(entry);
    }
    if (problems.length > 0) {
        return { problems };
    }
    if (strategy.length === 0) {
        return { problems: [`is an empty mix; name spot, on-demand or both, ${MIX_EXAMPLE}.`] };
    }
    for (const share of strategy) {
        if (share.base === 0 && share.weight === 0) {
            problems.push(
                `.${share.capacity} has base 0 and weight 0, so no task is ever placed on ${share.capacity}: ` +
                    "give it a base or a weight, or leave it out.",
            );
        }
    }
    if (strategy.every((share) => share.weight === 0)) {
        problems.push(
            `gives every capacity weight 0, so ECS has nowhere to place the tasks beyond the base: ` +
                `give the capacity that takes the rest a weight above 0, ${MIX_EXAMPLE}.`,
        );
    }
    const withBase = strategy.filter((share) => share.base > 0);
    if (withBase.length > 1) {
        problems.push(
            `sets a base on ${withBase.map((s) => s.capacity).join(" and ")}; ECS allows a base on one capacity ` +
                "of a strategy only: keep the base on on-demand and give spot a weight.",
        );
    }
    return problems.length > 0 ? { problems } : strategy;
}

/** A base is a number of tasks: more than the service runs means the mix is not what it says. */
function capacityAgainstCount(role: Role, sizing: RoleSizing, given: boolean): string[] {
    if (!ROLE_SPECS[role].hasService) {
        return [];
    }
    const base = sizing.capacity.reduce((sum, share) => sum + share.base, 0);
    if (base <= sizing.count) {
        return [];
    }
    const where = sizing.capacity.find((share) => share.base > 0)?.capacity;
    return [
        `${key("sizing")}.${role}.capacity puts a base of ${base} task${base === 1 ? "" : "s"} on ${where}` +
            `${given ? "" : " (production's default)"}, above the count of ${sizing.count}: ` +
            `lower the base to at most ${sizing.count}, or raise ${key("sizing")}.${role}.count to ${base} or more.`,
    ];
}

/**
 * Fargate Spot runs Linux X86_64 tasks only (AWS ECS developer guide, "AWS Fargate capacity
 * providers", considerations): an arm64 task on Spot would never be placed.
 */
function spotOnArm(sizing: Record<Role, RoleSizing>, platform: Platform): string[] {
    if (PLATFORMS[platform] !== "ARM64") {
        return [];
    }
    return ROLES.filter((role) => sizing[role].capacity.some((share) => share.capacity === "spot")).map(
        (role) =>
            `${key("sizing")}.${role}.capacity uses spot, but ${key("platform")} is ${platform} and Fargate Spot runs ` +
            `linux/amd64 tasks only: set ${key("sizing")}.${role}.capacity to on-demand, or the platform to linux/amd64.`,
    );
}

function parseRollout(value: string): Role[] {
    const roles = listOf(value);
    if (roles.length === 0) {
        // An empty list (or an unset CI variable) is a mistake, not "nothing changes": the update
        // would still run, and nobody meant it.
        return fail(
            `names no role; list the roles to roll out (${ROLES.join(", ")}), ` +
                "or remove the key (`pulumi config rm cgap:rollout`) to roll out all four",
        );
    }
    const unknown = roles.filter((r) => !isRole(r));
    if (unknown.length > 0) {
        return fail(`names ${unknown.map((r) => `"${r}"`).join(", ")}; roles are ${ROLES.join(", ")}`);
    }
    const duplicated = roles.filter((r, i) => roles.indexOf(r) !== i);
    if (duplicated.length > 0) {
        return fail(`names ${duplicated.join(", ")} more than once`);
    }
    return roles as Role[];
}

/** `true` (every service role), `false`, or the roles: ECS Exec is opt-in, per role or for all. */
function parseExec(value: string): Role[] {
    const services = ROLES.filter((r) => ROLE_SPECS[r].hasService);
    if (value === "true" || value === "false") {
        return value === "true" ? services : [];
    }
    const roles = parseRollout(value);
    const oneShot = roles.filter((r) => !ROLE_SPECS[r].hasService);
    if (oneShot.length > 0) {
        return fail(
            `names ${oneShot.join(", ")}, which runs no service; exec is offered on ${services.join(", ")} (or true for all, false for none)`,
        );
    }
    return roles;
}

function subnetList(value: string, atLeast: number): string[] {
    const ids = listOf(value);
    const malformed = ids.filter((id) => !SUBNET_ID.test(id));
    if (malformed.length > 0) {
        return fail(`has ${malformed.map((id) => `"${id}"`).join(", ")}; subnet ids look like subnet-0123456789abcdef0`);
    }
    if (ids.length < atLeast) {
        return fail(`needs at least ${atLeast} subnet${atLeast === 1 ? "" : "s"} (in different availability zones)`);
    }
    return ids;
}

function bucketList(value: string): string[] {
    const names = listOf(value);
    const malformed = names.filter((n) => !BUCKET_NAME.test(n));
    if (malformed.length > 0) {
        return fail(`has ${malformed.map((n) => `"${n}"`).join(", ")}; S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens`);
    }
    return names;
}

/**
 * A list, in any of the forms it reaches the program in: a YAML list in the stack file (JSON text by
 * then), the flow list `pulumi config set cgap:rollout '[wsgi, indexer]'` stores as plain text, or
 * comma-separated text (`pulumi config set cgap:rollout wsgi,indexer`).
 */
function listOf(value: string): string[] {
    const trimmed = value.trim();
    if (!trimmed.startsWith("[")) {
        return commaSeparated(trimmed);
    }
    if (!trimmed.endsWith("]")) {
        return fail("opens a list with [ but does not close it with ]");
    }
    const parsed = parseJson(trimmed);
    if (parsed === undefined) {
        // A YAML flow list of plain words, kept as text by `pulumi config set`.
        return commaSeparated(trimmed.slice(1, -1)).map((item) => item.replace(/^(["'])(.*)\1$/, "$2"));
    }
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
        return fail("must be a list of strings");
    }
    return parsed.map((v) => v.trim());
}

function commaSeparated(text: string): string[] {
    return text.trim() === "" ? [] : text.split(",").map((v) => v.trim());
}

/** The value JSON text stands for, or undefined when the text is not JSON. */
function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** A structured value (a YAML map in the stack file reaches the program as JSON text). */
function mapOf(value: string, shape: string): Record<string, unknown> {
    const parsed = parseJson(value);
    return isPlainObject(parsed) ? parsed : fail(`must be a map, ${shape}`);
}

/** A whole number written as a plain number: `3`, not `3s` or `"3"`. */
function wholeNumberIn(value: string, min: number, max: number, unit: string): number {
    const n = Number(value.trim());
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
        return fail(`must be a whole number of ${unit} from ${min} to ${max}, written without a unit (e.g. ${min === 1 ? 3 : min})`);
    }
    return n;
}

function parseBoolean(value: string): boolean {
    if (value === "true" || value === "false") {
        return value === "true";
    }
    return fail("must be true or false");
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
    return (allowed as readonly string[]).includes(value) ? (value as T) : fail(`allowed: ${allowed.join(", ")}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function key(name: string): string {
    return `${CONFIG_NAMESPACE}:${name}`;
}

/** Thrown by value parsers; the reader turns it into a problem naming the key and the value. */
class ValueProblem extends Error {}

function fail(reason: string): never {
    throw new ValueProblem(reason);
}

class Reader {
    constructor(
        private readonly raw: Readonly<Record<string, string | undefined>>,
        private readonly problems: string[],
    ) {}

    has(name: string): boolean {
        return this.raw[name] !== undefined;
    }

    optional<T>(name: ConfigKey, parse: (value: string) => T): T | undefined {
        const value = this.raw[name];
        if (value === undefined) {
            return undefined;
        }
        if (isEncrypted(value)) {
            this.problems.push(
                `${key(name)} is encrypted (secure:), and no setting of this stack is a secret: the identity is only ` +
                    `the name of one. Store it in plain text with \`pulumi config set ${key(name)} <value>\` (without --secret).`,
            );
            return undefined;
        }
        try {
            return parse(value);
        } catch (err) {
            if (err instanceof ValueProblem) {
                this.problems.push(`${key(name)} is ${JSON.stringify(value)}; it ${describe(err.message)}.`);
            } else if (err instanceof SyntaxError) {
                this.problems.push(`${key(name)} is not valid JSON/YAML (${err.message}): ${JSON.stringify(value)}.`);
            } else {
                throw err;
            }
            return undefined;
        }
    }

    required<T>(name: ConfigKey, parse: (value: string) => T): T {
        if (!this.has(name) || this.raw[name]?.trim() === "") {
            this.problems.push(`${key(name)} is required; set it with \`pulumi config set ${key(name)} <value>\`.`);
            return undefined as T;
        }
        return this.optional(name, parse) as T;
    }
}

/**
 * An encrypted stack-file value (`key: { secure: v1:... }`). `pulumi up` decrypts it before the
 * program runs; the offline check reads the file itself and cannot.
 */
function isEncrypted(value: string): boolean {
    const parsed = parseJson(value);
    return isPlainObject(parsed) && Object.keys(parsed).length === 1 && typeof parsed.secure === "string";
}

/** "allowed: a, b" reads "it must be one of a, b"; other reasons already read as a predicate. */
function describe(reason: string): string {
    return reason.startsWith("allowed: ") ? `must be one of ${reason.slice("allowed: ".length)}` : reason;
}

function finish(problems: string[], config: StackConfig): StackConfig {
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    return config;
}
