// Stack config: parsed and validated in one place, before any resource exists, so a bad value
// fails the preview with one message and nothing half-applied.
//
// It takes the stack's config as an argument and imports only the SDK's errors module, not its root,
// which loads the whole SDK (the automation API, closure serialization, the provider server): the
// offline check judges a stack's config with this file before it loads the program, and starts the
// policy pack only once the config is sound, so every module loaded here delays every check.
import { RunError } from "@pulumi/pulumi/errors";
import { Capacity, CapacityStrategy, isRole, only, Role, ROLE_SPECS, ROLES, RoleSizing } from "./roles";
import {
    ESTATE_STACKS,
    EstateConfig,
    EstateStack,
    EXPORT_KEYS,
    EXPORT_NAMES,
    ExportKey,
    ExportNames,
    EXPORTS,
    ExportValueError,
    parseQueueUrl,
    parseRepositoryUrl,
} from "./exports";

export const CONFIG_NAMESPACE = "cgap";

export const ENVIRONMENTS = ["development", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const PLATFORMS = {
    "linux/amd64": "X86_64",
    "linux/arm64": "ARM64",
} as const;
export type Platform = keyof typeof PLATFORMS;

/**
 * The network keys the stack file sets. With `cgap:estate.networkStack` each one overrides its
 * export; without it, vpcId and the two subnet lists come together or not at all (none: the stack
 * creates its own VPC).
 */
export interface NetworkKeys {
    vpcId?: string;
    publicSubnetIds?: string[];
    privateSubnetIds?: string[];
    /** Security groups every task joins besides the stack's own container group. */
    taskSecurityGroupIds?: string[];
}

export interface ImageSettings {
    /** cgap-portal release tag (vX.Y.Z...) or full commit SHA built into the images. */
    appVersion: string;
    platform: Platform;
    /** Build the images during `pulumi preview` too (without pushing). */
    buildOnPreview: boolean;
}

export interface StackConfig {
    envName: string;
    environment: Environment;
    /**
     * Secrets Manager secret (name or ARN) handed to every container as IDENTITY; undefined means
     * the datastore stack's export names it.
     */
    identity?: string;
    /** The 4dn-cloud-infra stacks whose exports the stack reads; undefined: it reads none. */
    estate?: EstateConfig;
    /** Network keys given in the stack file (each overrides its export). */
    network: NetworkKeys;
    sizing: Record<Role, RoleSizing>;
    /** Roles whose images this update builds and rolls out; the others stay pinned. */
    rollout: Role[];
    image: ImageSettings;
    certificateArn?: string;
    /** An existing ECR repository to push to (overrides the ECR stack's export); used, never created. */
    repositoryUrl?: string;
    /** An existing ingestion queue (overrides the datastore's export); used, never created. */
    ingestionQueueUrl?: string;
    indexerIntervalSeconds: number;
    /** S3 buckets the app reads and writes (files, blobs, system); undefined: the datastore's exports, or none. */
    dataBuckets?: string[];
    /** The Elasticsearch/OpenSearch domain the app indexes into. */
    searchDomainArn?: string;
    /** 4dn-cloud-infra's `<foursight prefix>envs` bucket, read by dcicutils EnvUtils at every start. */
    /** Required unless the datastore's FoursightEnvBucket export gives it. */
    globalEnvBucket?: string;
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
    "estate",
    "vpcId",
    "publicSubnetIds",
    "privateSubnetIds",
    "taskSecurityGroupIds",
    "sizing",
    "rollout",
    "appVersion",
    "platform",
    "buildOnPreview",
    "certificateArn",
    "repositoryUrl",
    "ingestionQueueUrl",
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
export class ConfigError extends RunError {
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
const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** A release tag: v, three numbers, then anything a release suffix has (-rc1, .post1, b2). */
const RELEASE_TAG = /^v\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/;
const COMMIT_SHA = /^[0-9a-fA-F]{40}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SEARCH_DOMAIN_ARN = /^arn:aws[a-z-]*:es:[a-z0-9-]+:\d{12}:domain\/[a-z][a-z0-9-]{2,27}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
/** CloudFormation export names: letters, digits, colons and hyphens. */
const EXPORT_NAME = /^[A-Za-z0-9:-]{1,255}$/;
const SIZING_FIELDS = ["count", "min", "max", "cpu", "memory", "capacity"] as const;
const CAPACITIES: readonly Capacity[] = ["spot", "on-demand"];
/** ECS's bounds for a capacity provider strategy item (CapacityProviderStrategyItem, ECS API reference). */
const MAX_BASE = 100000;
const MAX_WEIGHT = 1000;

/** Keys earlier versions of this stack read, with what replaces them. */
const REMOVED_KEYS: Readonly<Record<string, string>> = {
    adoptRepository:
        "was removed: the stack never imports a repository another tool owns (two owners fight, and an import " +
        "whose settings differ from the live repository fails). Name the ECR stack in cgap:estate.ecrStack or the " +
        "repository in cgap:repositoryUrl to push to it as it is; without either the stack creates its own.",
};

/**
 * Parses the `cgap:` namespace of the stack config. `raw` maps keys without the namespace to the
 * strings Pulumi hands the program (structured values arrive as JSON text). `region` is the region
 * the AWS provider will use (`aws:region`, else AWS_REGION/AWS_DEFAULT_REGION); when known it must
 * be the app's.
 */
export function parseStackConfig(raw: Readonly<Record<string, string | undefined>>, region?: string | typeof NO_REGION): StackConfig {
    const problems: string[] = [];
    const reader = new Reader(raw, problems);

    if (region === NO_REGION) {
        // With no region anywhere the provider fails only once it calls AWS, mid-update; the
        // offline check would pass. Refuse up front, with the one region the app works in.
        problems.push(
            `aws:region is not set, and neither AWS_REGION nor AWS_DEFAULT_REGION is: the stack needs a region, ` +
                `and the portal only works in ${APP_REGION}. Set \`pulumi config set aws:region ${APP_REGION}\`.`,
        );
    } else if (region !== undefined && region !== APP_REGION) {
        problems.push(
            `aws:region is ${JSON.stringify(region)}; the portal only works in ${APP_REGION}: dcicutils 8.16.1 and ` +
                `dcicsnovault 11.19.0 hard-code ${APP_REGION} for Secrets Manager, SQS, S3 blobs and Elasticsearch. ` +
                `Set \`pulumi config set aws:region ${APP_REGION}\`.`,
        );
    }

    for (const name of Object.keys(raw)) {
        if (name in REMOVED_KEYS) {
            problems.push(`${key(name)} ${REMOVED_KEYS[name]}`);
        } else if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
            const near = closest(name, CONFIG_KEYS);
            problems.push(
                `${key(name)} is not a setting of this stack;${near === undefined ? "" : ` did you mean ${key(near)}?`} known keys: ${CONFIG_KEYS.join(", ")}.`,
            );
        }
    }

    const envName = reader.required("envName", (v) =>
        ENV_NAME.test(v) && v.length <= 40
            ? v
            : fail(`must be lower-case letters, digits and single hyphens, at most 40 characters (e.g. cgap-mastertest)`),
    );
    const environment = reader.required("environment", (v) => oneOf(v, ENVIRONMENTS));
    const estate = parseEstate(reader, problems);
    const identity = parseIdentity(reader, problems, estate);
    const appVersion = reader.required("appVersion", parseAppVersion);

    const sizing = parseSizing(reader, problems, environment);
    const platform = reader.optional("platform", (v) => oneOf(v, Object.keys(PLATFORMS) as Platform[])) ?? "linux/amd64";
    problems.push(...spotOnArm(sizing, platform));

    return finish(problems, {
        envName,
        environment,
        identity,
        estate,
        network: parseNetwork(reader, problems, estate),
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
        repositoryUrl: reader.optional("repositoryUrl", (v) => inAppRegion(v, valueOf(() => parseRepositoryUrl(v)).region)),
        ingestionQueueUrl: reader.optional("ingestionQueueUrl", (v) => inAppRegion(v, valueOf(() => parseQueueUrl(v)).region)),
        indexerIntervalSeconds:
            reader.optional("indexerIntervalSeconds", (v) => wholeNumberIn(v, 1, 3600, "seconds")) ?? 3,
        // Required unless the datastore's exports give them (explicit keys still override).
        dataBuckets: (estate?.stacks.datastore ? reader.optional.bind(reader) : reader.required.bind(reader))("dataBuckets", (v) => {
            const names = bucketList(v);
            return names.length > 0 ? names : fail("must name at least one bucket (the app's blobs and system buckets)");
        }),
        exec: reader.optional("exec", parseExec) ?? [],
        accessLogsBucket: reader.optional("accessLogsBucket", (v) =>
            BUCKET_NAME.test(v) ? v : fail("must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)"),
        ),
        searchDomainArn: (estate?.stacks.datastore ? reader.optional.bind(reader) : reader.required.bind(reader))("searchDomainArn", (v) =>
            SEARCH_DOMAIN_ARN.test(v)
                ? inAppRegion(v, arnRegion(v))
                : fail("must be an OpenSearch/Elasticsearch domain ARN, arn:aws:es:<region>:<account>:domain/<name>"),
        ),
        globalEnvBucket: (estate?.stacks.datastore ? reader.optional.bind(reader) : reader.required.bind(reader))("globalEnvBucket", (v) =>
            BUCKET_NAME.test(v) ? v : fail("must be an S3 bucket name (4dn-cloud-infra's <foursight prefix>envs bucket)"),
        ),
        s3KmsKeyArn: reader.optional("s3KmsKeyArn", (v) =>
            KMS_KEY_ARN.test(v) ? v : fail("must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id>"),
        ),
    });
}

/**
 * The `cgap:` namespace of the running stack's config (`all`: every key, as
 * `pulumi.runtime.allConfig()` gives them), each key no part of the program reads passed to `warn`.
 */
export function loadStackConfig(all: Readonly<Record<string, string>>, warn: (message: string) => void): StackConfig {
    for (const warning of unreadConfigWarnings(all)) {
        warn(warning);
    }
    return parseStackConfig(ownKeys(all), providerRegion(all) ?? NO_REGION);
}

/**
 * What {@link parseStackConfig} is given when the whole config was read and no region is set
 * anywhere (its `region` left out means only that the caller does not know the provider's).
 */
export const NO_REGION: unique symbol = Symbol("no region");

/** The region the AWS provider uses: `aws:region`, else the environment, as pulumi-aws resolves it. */
export function providerRegion(all: Readonly<Record<string, string>>): string | undefined {
    return all["aws:region"] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/**
 * The value, when the region it names is the app's. A search domain or a queue elsewhere is one
 * the app cannot reach (dcicutils and snovault call AWS in us-east-1 only), and the operator
 * commands take their region from the repository URL, so a repository elsewhere sends them there.
 */
function inAppRegion(value: string, region: string): string {
    return region === APP_REGION ? value : fail(`is in ${region}; the portal only works in ${APP_REGION}, so it must name one there`);
}

/** The region field of an ARN (`arn:<partition>:<service>:<region>:...`). */
function arnRegion(arn: string): string {
    return arn.split(":")[3];
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
            const near = closest(rest.join(":"), CONFIG_KEYS);
            // A namespace one or two letters from cgap (cgpa, cagp, cap) holding a key near one of
            // ours is a typo of that key, even with the key misspelled too.
            const suggestion = near !== undefined && editDistance(namespace, CONFIG_NAMESPACE) <= 2 ? ` Did you mean ${key(near)}?` : "";
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

/**
 * The image clones appVersion at build time. docker.Image does not rebuild when a branch moves and
 * BuildKit caches the clone, so only names that never move are accepted.
 */
function parseAppVersion(value: string): string {
    if (RELEASE_TAG.test(value)) {
        return value;
    }
    if (COMMIT_SHA.test(value)) {
        return value.toLowerCase();
    }
    return fail(
        "must be a cgap-portal release tag (vX.Y.Z, e.g. v15.6.0) or a full 40-character commit SHA. " +
            "The images clone it at build time, and a branch (or a short SHA, or any other name that can move) would go " +
            "stale: docker.Image does not rebuild when a branch moves and BuildKit caches the clone. To build a branch, " +
            "pin its current commit: `git ls-remote https://github.com/dbmi-bgm/cgap-portal.git <branch>`",
    );
}

function parseIdentity(reader: Reader, problems: string[], estate: EstateConfig | undefined): string | undefined {
    const parse = (v: string) =>
        SECRET_NAME.test(v) || SECRET_ARN.test(v)
            ? v
            : fail("must be a Secrets Manager secret name (letters, digits and /_+=.@-) or a secret ARN");
    if (!reader.has("identity") && !estate?.stacks.datastore) {
        problems.push(
            `${key("identity")} is required: set it with \`pulumi config set ${key("identity")} <secret name>\`, ` +
                `or name the datastore stack that exports it in ${key("estate")}.datastoreStack.`,
        );
        return undefined;
    }
    return reader.optional("identity", parse);
}

const STACK_FIELDS: Readonly<Record<string, EstateStack>> = {
    networkStack: "network",
    ecrStack: "ecr",
    datastoreStack: "datastore",
};
const ESTATE_FIELDS = [...Object.keys(STACK_FIELDS), "exports"];

/** `cgap:estate`: the stacks to read and any export names that differ from EXPORT_NAMES. */
function parseEstate(reader: Reader, problems: string[]): EstateConfig | undefined {
    const given = reader.optional("estate", (v) => {
        const parsed: unknown = JSON.parse(v);
        return isPlainObject(parsed) ? parsed : fail(`must be a map with any of ${ESTATE_FIELDS.join(", ")}`);
    });
    if (!given) {
        return undefined;
    }
    const stacks: EstateConfig["stacks"] = {};
    for (const [field, value] of Object.entries(given)) {
        const at = `${key("estate")}.${field}`;
        if (field === "exports") {
            continue;
        }
        const stack = STACK_FIELDS[field];
        if (!stack) {
            problems.push(`${at} is not an estate setting; settings are ${ESTATE_FIELDS.join(", ")}.`);
        } else if (typeof value !== "string" || !STACK_NAME.test(value)) {
            problems.push(
                `${at} is ${JSON.stringify(value)}; it must be a CloudFormation stack name (a letter, then letters, ` +
                    "digits and hyphens), e.g. c4-network-main-stack.",
            );
        } else {
            stacks[stack] = value;
        }
    }
    if (Object.keys(stacks).length === 0 && !ESTATE_STACKS.some((s) => given[`${s}Stack`] !== undefined)) {
        problems.push(
            `${key("estate")} names no stack: give any of networkStack, ecrStack, datastoreStack (or remove ${key("estate")}).`,
        );
    }
    return { stacks, exports: exportOverrides(given.exports, stacks, problems) };
}

function exportOverrides(given: unknown, stacks: EstateConfig["stacks"], problems: string[]): ExportNames {
    const names = JSON.parse(JSON.stringify(EXPORT_NAMES)) as ExportNames;
    if (given === undefined) {
        return names;
    }
    if (!isPlainObject(given)) {
        problems.push(`${key("estate")}.exports must be a map of export to name, e.g. { vpc: ExportVPC }.`);
        return names;
    }
    const minimum: Partial<Record<ExportKey, number>> = { publicSubnets: 2, privateSubnets: 1 };
    for (const [name, value] of Object.entries(given)) {
        const at = `${key("estate")}.exports.${name}`;
        if (!(EXPORT_KEYS as string[]).includes(name)) {
            problems.push(`${at} is not an export this stack reads; it reads ${EXPORT_KEYS.join(", ")}.`);
            continue;
        }
        const exportKey = name as ExportKey;
        const { stack, list } = EXPORTS[exportKey];
        if (!stacks[stack]) {
            problems.push(`${at} names an export of the ${stack} stack, but ${key("estate")}.${stack}Stack is not set.`);
            continue;
        }
        const values = list && typeof value === "string" ? [value] : value;
        const valid = (v: unknown) => typeof v === "string" && EXPORT_NAME.test(v);
        if (list ? !Array.isArray(values) || !values.every(valid) : !valid(values)) {
            problems.push(
                `${at} is ${JSON.stringify(value)}; it must be ${list ? "a list of export names" : "an export name"} ` +
                    "(letters, digits, colons and hyphens, without the `<stack name>-` prefix).",
            );
        } else if (list && (values as string[]).length < (minimum[exportKey] ?? 0)) {
            problems.push(`${at} needs at least ${minimum[exportKey]} exports (subnets in different availability zones).`);
        } else {
            (names as Record<ExportKey, string | string[]>)[exportKey] = values as string | string[];
        }
    }
    return names;
}

const NETWORK_KEYS = ["vpcId", "publicSubnetIds", "privateSubnetIds"] as const;

function parseNetwork(reader: Reader, problems: string[], estate: EstateConfig | undefined): NetworkKeys {
    const keys: NetworkKeys = {
        vpcId: reader.optional("vpcId", (v) => (VPC_ID.test(v) ? v : fail("must look like vpc-0123456789abcdef0"))),
        publicSubnetIds: reader.optional("publicSubnetIds", (v) => idList(v, 2, SUBNET_ID, "subnet")),
        privateSubnetIds: reader.optional("privateSubnetIds", (v) => idList(v, 1, SUBNET_ID, "subnet")),
        taskSecurityGroupIds: reader.optional("taskSecurityGroupIds", (v) => idList(v, 1, SECURITY_GROUP_ID, "sg")),
    };
    const fromEstate = estate?.stacks.network !== undefined;
    const missing = NETWORK_KEYS.filter((k) => !reader.has(k));
    if (!fromEstate && missing.length > 0 && missing.length < NETWORK_KEYS.length) {
        const present = NETWORK_KEYS.filter((k) => reader.has(k));
        problems.push(
            `${present.map(key).join(", ")} set without ${missing.map(key).join(", ")}: give all three to run in an ` +
                `existing network, name its stack in ${key("estate")}.networkStack, or give none to let the stack create its VPC.`,
        );
    } else if (!fromEstate && missing.length === NETWORK_KEYS.length && reader.has("taskSecurityGroupIds")) {
        problems.push(
            `${key("taskSecurityGroupIds")} is set, but the stack creates its own VPC, and tasks cannot join another ` +
                `network's security groups: give the network too (${key("estate")}.networkStack, or ` +
                `${NETWORK_KEYS.map(key).join(", ")}), or remove it.`,
        );
    }
    const shared = (keys.publicSubnetIds ?? []).filter((s) => keys.privateSubnetIds?.includes(s));
    if (shared.length > 0) {
        problems.push(
            `${key("publicSubnetIds")} and ${key("privateSubnetIds")} share ${shared.join(", ")}: tasks must run in private subnets only.`,
        );
    }
    return Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined)) as NetworkKeys;
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

/**
 * A whole number written in quotes (`"4096"`) read as the number. One rule for every number in the
 * config: a top-level value reaches the program as text whether the stack file quotes it or not
 * (`indexerIntervalSeconds: 3` and `"3"` are the same string, and so is
 * `pulumi config set cgap:indexerIntervalSeconds 3`), so quoted numbers cannot be refused there;
 * inside a map (sizing, capacity) they are accepted too, rather than refused in one place and
 * taken in another. Anything but digits (`"4 vCPU"`, `"2.5"`) stays text and is refused.
 */
function quotedWholeNumber(value: unknown): unknown {
    return typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

/** Returns the problems with a field (each the part after the key), none when it was applied. */
function applySizingField(role: Role, target: RoleSizing, field: string, given: unknown): string[] {
    const value = field === "capacity" ? given : quotedWholeNumber(given);
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
        for (const [field, quoted] of Object.entries(share)) {
            const n = quotedWholeNumber(quoted);
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
    const unknown = listOf(value).filter((r) => !isRole(r));
    if (unknown.length > 0) {
        // `yes`, `on`, `1`: what the key takes, not only that it is no role.
        return fail(
            `takes true (ECS Exec on ${services.join(", ")}), false (on none) or a list of those roles (e.g. [wsgi]); ` +
                `${unknown.map((r) => `"${r}"`).join(", ")} is none of these`,
        );
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

function idList(value: string, atLeast: number, pattern: RegExp, prefix: string): string[] {
    const ids = listOf(value);
    const malformed = ids.filter((id) => !pattern.test(id));
    const kind = prefix === "sg" ? "security group" : prefix;
    if (malformed.length > 0) {
        return fail(`has ${malformed.map((id) => `"${id}"`).join(", ")}; ${kind} ids look like ${prefix}-0123456789abcdef0`);
    }
    if (ids.length < atLeast) {
        return fail(`needs at least ${atLeast} ${kind}${atLeast === 1 ? "" : "s"}${prefix === "subnet" ? " (in different availability zones)" : ""}`);
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

/** A whole number without a unit: `3` (or `"3"`, the same text by the time it gets here), not `3s`. */
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

/** A parser from components/exports.ts, its error turned into a value problem. */
function valueOf<T>(parse: () => T): T {
    try {
        return parse();
    } catch (err) {
        if (err instanceof ExportValueError) {
            return fail(err.message);
        }
        throw err;
    }
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
                this.problems.push(`${key(name)} is ${shown(value)}; it ${describe(err.message)}.`);
            } else if (err instanceof SyntaxError) {
                this.problems.push(`${key(name)} is not valid JSON/YAML (${err.message}): ${shown(value)}.`);
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

const SHOWN_CHARACTERS = 200;

/**
 * A value as a message quotes it: in full up to 200 characters (an ARN or a URL fits), else its start and its length, so
 * a pasted file or key does not flood the terminal (or a CI log) and the problem stays readable.
 */
export function shown(value: string): string {
    const quoted = JSON.stringify(value);
    return quoted.length <= SHOWN_CHARACTERS ? quoted : `${JSON.stringify(value.slice(0, 120)).slice(0, -1)}..." (${value.length} characters)`;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}

/** The known name nearest `name`, when near enough to be a typo of it (case aside). */
function closest(name: string, names: readonly string[]): string | undefined {
    const ranked = names.map((n) => ({ n, d: editDistance(name.toLowerCase(), n.toLowerCase()) })).sort((x, y) => x.d - y.d);
    return ranked.length > 0 && ranked[0].d <= Math.max(2, Math.floor(name.length / 4)) ? ranked[0].n : undefined;
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
