import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { StackConfig } from "./config";
import {
    EstateConfig,
    exportName,
    EXPORTS,
    ExportKey,
    ExportValueError,
    identitySecretResource,
    Origin,
    parseQueueUrl,
    parseRepositoryUrl,
    searchDomainArnFromEndpoint,
} from "./exports";

type SingleKey = { [K in ExportKey]: (typeof EXPORTS)[K]["list"] extends true ? never : K }[ExportKey];
type ListKey = Exclude<ExportKey, SingleKey>;

/** A network that exists: from the network stack's exports, the stack file, or both. */
export interface UsedNetwork {
    vpcId: pulumi.Output<string>;
    publicSubnetIds: pulumi.Output<string[]>;
    privateSubnetIds: pulumi.Output<string[]>;
    /** Security groups every task joins besides the stack's own container group. */
    taskSecurityGroupIds: pulumi.Output<string[]>;
}

/** Something that exists and is used by URL: the repository, the ingestion queue. */
export interface UsedByUrl {
    url: pulumi.Output<string>;
}

export interface EstateArgs {
    config: StackConfig;
}

/**
 * What the portal uses but does not own: read from 4dn-cloud-infra's CloudFormation exports
 * (`aws.cloudformation.getExport`) where `cgap:estate` names the stacks, with every explicit key of
 * the stack file overriding its export. Nothing here is created, imported or changed; a part that
 * nobody names is left undefined, and the component that needs it creates its own.
 */
export class Estate extends pulumi.ComponentResource {
    readonly network?: UsedNetwork;
    readonly repository?: UsedByUrl;
    readonly ingestionQueue?: UsedByUrl;
    /** The identity secret (name or ARN) every container gets as IDENTITY, and the IAM resource that reads it. */
    readonly identity: { value: pulumi.Output<string>; iamResource: pulumi.Output<string> };
    readonly dataBuckets: pulumi.Output<string[]>;
    /** 4dn-cloud-infra's global env bucket, where the app reads its environment's entry at every start. */
    readonly globalEnvBucket: pulumi.Output<string>;
    readonly searchDomainArn?: pulumi.Output<string>;

    private readonly estate?: EstateConfig;
    private readonly lookups = new Map<string, pulumi.Output<string>>();

    constructor(name: string, args: EstateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:estate:Estate", name, {}, opts);
        const { config } = args;
        this.estate = config.estate;

        this.network = this.usedNetwork(config);
        this.repository = asUsed(
            this.given("repositoryUrl", config.repositoryUrl, (v) => this.checked("repositoryUrl", v, () => parseRepositoryUrl(v).url)),
        );
        this.ingestionQueue = asUsed(
            this.given("ingestionQueue", config.ingestionQueueUrl, (v) => this.checked("ingestionQueue", v, () => parseQueueUrl(v).url)),
        );

        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });

        // config.ts refuses a stack file that neither sets cgap:identity nor names a datastore.
        const identity = this.given("identity", config.identity)!;
        const arnPrefix = pulumi.interpolate`arn:${partition.partition}:secretsmanager:${region.region}:${caller.accountId}:`;
        this.identity = {
            value: identity,
            iamResource: pulumi.all([identity, arnPrefix]).apply(([v, prefix]) => identitySecretResource(v, prefix)),
        };
        this.dataBuckets = this.givenList("dataBuckets", config.dataBuckets);
        // config.ts refuses a stack file that neither sets cgap:globalEnvBucket nor names a datastore.
        this.globalEnvBucket = this.given("globalEnvBucket", config.globalEnvBucket)!;
        this.searchDomainArn = this.given("searchEndpoint", config.searchDomainArn, (endpoint) =>
            pulumi
                .all([partition.partition, caller.accountId])
                .apply(([p, account]) =>
                    this.checked("searchEndpoint", endpoint, () => searchDomainArnFromEndpoint(endpoint, p, account)),
                ),
        );

        this.registerOutputs({
            vpcId: this.network?.vpcId,
            repositoryUrl: this.repository?.url,
            ingestionQueueUrl: this.ingestionQueue?.url,
        });
    }

    /** Whether the stack that exports `key` is named in `cgap:estate`. */
    private stackOf(key: ExportKey): string | undefined {
        return this.estate?.stacks[EXPORTS[key].stack];
    }

    private usedNetwork(config: StackConfig): UsedNetwork | undefined {
        const keys = config.network;
        const stack = this.stackOf("vpc");
        if (!stack && !keys.vpcId) {
            return undefined; // config.ts made sure the other keys are not half given
        }
        const pick = <T>(explicit: T | undefined, fromExport: () => pulumi.Output<T>) =>
            explicit !== undefined ? (pulumi.output(explicit) as pulumi.Output<T>) : fromExport();
        return {
            vpcId: pick(keys.vpcId, () => this.read("vpc")),
            publicSubnetIds: pick(keys.publicSubnetIds, () => this.readList("publicSubnets")),
            privateSubnetIds: pick(keys.privateSubnetIds, () => this.readList("privateSubnets")),
            taskSecurityGroupIds: pick(keys.taskSecurityGroupIds, () =>
                stack ? this.readList("taskSecurityGroups") : pulumi.output<string[]>([]),
            ),
        };
    }

    /**
     * A single value: the stack file's key if set (config.ts validated it), else its export, made
     * into what the stack uses by `fromExport`, if its stack is named; else nothing.
     */
    private given(
        key: SingleKey,
        explicit: string | undefined,
        fromExport: (value: string) => pulumi.Input<string> = (v) => v,
    ): pulumi.Output<string> | undefined {
        if (explicit !== undefined) {
            return pulumi.output(explicit);
        }
        return this.stackOf(key) ? (this.read(key).apply(fromExport) as pulumi.Output<string>) : undefined;
    }

    private givenList(key: ListKey, explicit: string[] | undefined): pulumi.Output<string[]> {
        if (explicit !== undefined) {
            return pulumi.output(explicit);
        }
        return this.stackOf(key) ? this.readList(key) : pulumi.output([]);
    }

    /** One export's value. A missing export fails the preview with a message that names it and the fix. */
    private read(key: SingleKey): pulumi.Output<string> {
        return this.readName(key, this.estate!.exports[key] as string);
    }

    private readList(key: ListKey): pulumi.Output<string[]> {
        return pulumi.all((this.estate!.exports[key] as string[]).map((n) => this.readName(key, n)));
    }

    private readName(key: ExportKey, name: string): pulumi.Output<string> {
        const stack = this.stackOf(key)!;
        const full = exportName(stack, name);
        let read = this.lookups.get(full);
        if (!read) {
            const lookup = aws.cloudformation.getExport({ name: full }, { parent: this }).then(
                (result) => result.value,
                (err: unknown) => {
                    throw new pulumi.RunError(missingExport(full, key, stack, name, err));
                },
            );
            read = pulumi.output(lookup);
            this.lookups.set(full, read);
        }
        return read;
    }

    private checked(key: ExportKey, value: string, parse: () => string): string {
        try {
            return parse();
        } catch (err) {
            if (err instanceof ExportValueError) {
                throw new pulumi.RunError(
                    `The export read for ${key} holds ${JSON.stringify(value)}, but it ${err.message}. ` +
                        `Check the name in cgap:estate.exports.${key}, or give the value in the stack file.`,
                );
            }
            throw err;
        }
    }
}

/** The message for an export the account does not have. */
export function missingExport(full: string, key: ExportKey, stack: string, name: string, err: unknown): string {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    const field = `${EXPORTS[key].stack}Stack`;
    const hint =
        key === "identity"
            ? " 4dn-cloud-infra v4 and later keep the identity secret in the appconfig stack: set cgap:identity to its name."
            : "";
    return (
        `The CloudFormation export "${full}" (${key}: export ${name} of stack ${stack}, cgap:estate.${field}) could not be ` +
        `read: ${reason}. Check the stack name in cgap:estate.${field} (\`aws cloudformation list-exports\` lists what the ` +
        `account exports), or set cgap:estate.exports.${key} to the name this 4dn-cloud-infra version exports.${hint}`
    );
}

function asUsed(url: pulumi.Output<string> | undefined): UsedByUrl | undefined {
    return url && { url };
}

/** Where each thing the portal uses comes from, for the plan and the `sources` output. */
export interface Origins {
    network: Origin[];
    repository: Origin[];
    ingestionQueue: Origin[];
}

const NETWORK_PARTS: ReadonlyArray<[keyof StackConfig["network"], ExportKey]> = [
    ["vpcId", "vpc"],
    ["publicSubnetIds", "publicSubnets"],
    ["privateSubnetIds", "privateSubnets"],
    ["taskSecurityGroupIds", "taskSecurityGroups"],
];

/** The same choices the Estate makes, from the config alone: an explicit key, else the export, else created here. */
export function originsOf(config: StackConfig): Origins {
    const stacks = config.estate?.stacks ?? {};
    const fromExports = (key: ExportKey): Origin => ({
        from: "exports",
        stack: stacks[EXPORTS[key].stack]!,
        exports: [config.estate!.exports[key]].flat(),
    });
    const one = (configKey: string, explicit: unknown, key: ExportKey, created: string): Origin[] => {
        if (explicit !== undefined) {
            return [{ from: "config", keys: [configKey] }];
        }
        return stacks[EXPORTS[key].stack] ? [fromExports(key)] : [{ from: "created", what: created }];
    };
    const network: Origin[] =
        stacks.network || config.network.vpcId
            ? NETWORK_PARTS.filter(([configKey]) => stacks.network || config.network[configKey] !== undefined).map(
                  ([configKey, key]): Origin =>
                      config.network[configKey] !== undefined ? { from: "config", keys: [configKey] } : fromExports(key),
              )
            : [{ from: "created", what: "a VPC of two zones with one NAT gateway (aws.ec2.Vpc, a flow log, its default security group closed)" }];
    return {
        network: mergeOrigins(network),
        repository: one("repositoryUrl", config.repositoryUrl, "repositoryUrl", `the repository ${config.envName} (aws.ecr.Repository)`),
        ingestionQueue: one(
            "ingestionQueueUrl",
            config.ingestionQueueUrl,
            "ingestionQueue",
            `${config.envName}-ingestion-queue and its dead-letter queue (aws.sqs.Queue)`,
        ),
    };
}

/** One entry per stack (and one for the config keys), in first-seen order. */
function mergeOrigins(origins: Origin[]): Origin[] {
    const merged: Origin[] = [];
    for (const origin of origins) {
        const same = merged.find(
            (m) => m.from === origin.from && (m.from !== "exports" || (origin.from === "exports" && m.stack === origin.stack)),
        );
        if (same?.from === "exports" && origin.from === "exports") {
            same.exports.push(...origin.exports);
        } else if (same?.from === "config" && origin.from === "config") {
            same.keys.push(...origin.keys);
        } else {
            merged.push(JSON.parse(JSON.stringify(origin)) as Origin);
        }
    }
    return merged;
}
