// What the portal reads from the estate 4dn-cloud-infra's CloudFormation stacks built, and how to
// read the values they export. Pure: no cloud calls (components/estate.ts makes those).
//
// 4dn-cloud-infra's stacks read each other through exports named `<stack name>-<export>`
// (src/exports.py, C4Exports.export: `Export(Sub('${AWS::StackName}-<resource_id>'))`). The export
// names below were read from its source (github.com/4dn-dcic/4dn-cloud-infra):
//
// - Since v1.0.0 (2021-08-24, `exportify` with USE_SHORT_EXPORT_NAMES = True; unchanged through
//   v3.5.1, v4.0.0, v4.2.0 and master at 14d9c29, pyproject 4.4.0, 2024-08-22) the names are short:
//   network (src/parts/network.py, C4NetworkExports): VPC, PublicSubnetA/B, PrivateSubnetA/B,
//   ApplicationSecurityGroup, DBSecurityGroup, HTTPSSecurityGroup; ECR (src/parts/ecr.py,
//   C4ECRExports.PORTAL_REPO_URL): RepoURL; datastore (src/exports.py, C4DatastoreExportsMixin):
//   ElasticSearchURL, ApplicationIngestionQueue, AppFilesBucket, AppWfoutBucket, AppBlobsBucket,
//   AppSystemBucket, AppMetadataBundlesBucket, ApplicationConfigurationSecretName, and
//   FoursightEnvBucket: the global env bucket, which 4dn-cloud-infra's own configure_env_bucket
//   (src/commands) reads from this export (C4DatastoreExports.get_env_bucket) to write the
//   environment's entry the app reads at start.
// - Before v1.0.0 (the ECS stack of 2021, e.g. commit 3235e29) every name had an `Export` prefix
//   (ExportVPC, ExportPrivateSubnetA, ExportApplicationIngestionQueue, ...) and the ECR stack
//   exported ECRRepoURL. Such an estate overrides the names per stack (`cgap:estate.exports`).
// - From v4.0.0 (2023-10) the datastore no longer exports ApplicationConfigurationSecretName: the
//   secret moved to the appconfig stack (src/parts/appconfig.py). With such a datastore, set
//   `cgap:identity`, which is then read from config instead.
// - No version exports the datastore's S3 KMS key (src/parts/datastore.py creates
//   `<Env>S3EncryptKey` without an output), so nothing here reads one.
//
// What the values are: subnets, VPC and security groups are ids (Ref); RepoURL is
// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`; a queue export is the queue URL (Ref of
// AWS::SQS::Queue); ElasticSearchURL is the domain endpoint (GetAtt DomainEndpoint, no scheme);
// ApplicationConfigurationSecretName is the secret's ARN (Ref of AWS::SecretsManager::Secret);
// bucket exports are bucket names.

export const ESTATE_STACKS = ["network", "ecr", "datastore"] as const;
export type EstateStack = (typeof ESTATE_STACKS)[number];

/** What the portal takes from the estate: which stack exports it, and whether it is one export or several. */
export const EXPORTS = {
    vpc: { stack: "network", list: false },
    publicSubnets: { stack: "network", list: true },
    privateSubnets: { stack: "network", list: true },
    /** Security groups every task joins besides the stack's own container group (production ran with these two). */
    taskSecurityGroups: { stack: "network", list: true },
    repositoryUrl: { stack: "ecr", list: false },
    ingestionQueue: { stack: "datastore", list: false },
    dataBuckets: { stack: "datastore", list: true },
    searchEndpoint: { stack: "datastore", list: false },
    identity: { stack: "datastore", list: false },
    globalEnvBucket: { stack: "datastore", list: false },
} as const satisfies Record<string, { stack: EstateStack; list: boolean }>;
export type ExportKey = keyof typeof EXPORTS;
export const EXPORT_KEYS = Object.keys(EXPORTS) as ExportKey[];

/** Export names (without the `<stack name>-` prefix), per key. */
export type ExportNames = { [K in ExportKey]: (typeof EXPORTS)[K]["list"] extends true ? string[] : string };

/** The names 4dn-cloud-infra v1.0.0 and later export (see the top of this file). A stack file overrides any of them. */
export const EXPORT_NAMES: Readonly<ExportNames> = {
    vpc: "VPC",
    publicSubnets: ["PublicSubnetA", "PublicSubnetB"],
    privateSubnets: ["PrivateSubnetA", "PrivateSubnetB"],
    taskSecurityGroups: ["ApplicationSecurityGroup", "DBSecurityGroup"],
    repositoryUrl: "RepoURL",
    ingestionQueue: "ApplicationIngestionQueue",
    dataBuckets: ["AppFilesBucket", "AppWfoutBucket", "AppBlobsBucket", "AppSystemBucket", "AppMetadataBundlesBucket"],
    searchEndpoint: "ElasticSearchURL",
    identity: "ApplicationConfigurationSecretName",
    globalEnvBucket: "FoursightEnvBucket",
};

/** The CloudFormation stack names of the estate; a missing one means the stack does not read that part. */
export type EstateStackNames = Partial<Record<EstateStack, string>>;

export interface EstateConfig {
    stacks: EstateStackNames;
    /** EXPORT_NAMES with the stack file's overrides applied. */
    exports: ExportNames;
}

/** The full export name CloudFormation knows: `<stack name>-<export>`. */
export function exportName(stackName: string, name: string): string {
    return `${stackName}-${name}`;
}

/** Where a thing the portal uses comes from, for the plan and the `sources` output. */
export type Origin =
    | { from: "exports"; stack: string; exports: string[] }
    | { from: "config"; keys: string[] }
    | { from: "created"; what: string };

export function describeOrigins(origins: Origin[]): string {
    return origins
        .map((o) => {
            switch (o.from) {
                case "exports":
                    return `exports of ${o.stack} (${o.exports.join(", ")})`;
                case "config":
                    return `config (${o.keys.map((k) => `cgap:${k}`).join(", ")})`;
                case "created":
                    return `created: ${o.what}`;
            }
        })
        .join("; ");
}

/** A value that is not what 4dn-cloud-infra exports under that name; the message reads "must be ...". */
export class ExportValueError extends Error {}

const REPOSITORY_URL = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)$/;

export interface RepositoryRef {
    url: string;
    registryId: string;
    region: string;
    name: string;
    /** The registry host docker logs in to. */
    server: string;
}

/** Splits an ECR repository URL (the ECR stack's RepoURL, or `cgap:repositoryUrl`). */
export function parseRepositoryUrl(url: string): RepositoryRef {
    const match = REPOSITORY_URL.exec(url);
    if (!match) {
        throw new ExportValueError(
            "must be an ECR repository URL, <account>.dkr.ecr.<region>.amazonaws.com/<repository>",
        );
    }
    return { url, registryId: match[1], region: match[2], name: match[3], server: url.slice(0, url.indexOf("/")) };
}

export function repositoryArn(repository: RepositoryRef, partition: string): string {
    return `arn:${partition}:ecr:${repository.region}:${repository.registryId}:repository/${repository.name}`;
}

const QUEUE_URL = /^https:\/\/(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)\/(\d{12})\/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

export interface QueueRef {
    url: string;
    region: string;
    account: string;
    name: string;
}

/** Splits an SQS queue URL (the datastore's ApplicationIngestionQueue export, or `cgap:ingestionQueueUrl`). */
export function parseQueueUrl(url: string): QueueRef {
    const match = QUEUE_URL.exec(url);
    if (!match) {
        throw new ExportValueError("must be an SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<queue>");
    }
    return { url, region: match[1] ?? match[2], account: match[3], name: match[4] };
}

export function queueArn(queue: QueueRef, partition: string): string {
    return `arn:${partition}:sqs:${queue.region}:${queue.account}:${queue.name}`;
}

// An OpenSearch/Elasticsearch endpoint is `vpc-<domain>-<id>.<region>.es.amazonaws.com` (or
// `search-` for a public domain); the id is the last hyphen-separated part.
const SEARCH_ENDPOINT = /^(?:https?:\/\/)?(?:vpc|search)-([a-z][a-z0-9-]{2,27})-[a-z0-9]+\.([a-z0-9-]+)\.es\.amazonaws\.com(?::443)?\/?$/;

/** The domain ARN the task role's es:ESHttp* grant names, from the datastore's ElasticSearchURL export. */
export function searchDomainArnFromEndpoint(endpoint: string, partition: string, account: string): string {
    const match = SEARCH_ENDPOINT.exec(endpoint);
    if (!match) {
        throw new ExportValueError(
            "must be an OpenSearch/Elasticsearch domain endpoint, vpc-<domain>-<id>.<region>.es.amazonaws.com",
        );
    }
    return `arn:${partition}:es:${match[2]}:${account}:domain/${match[1]}`;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/**
 * The IAM resource for reading the identity secret: an ARN (what the datastore exports) as it is;
 * a name with the six-character suffix Secrets Manager appends to every secret's ARN.
 */
export function identitySecretResource(identity: string, arnPrefix: string): string {
    return SECRET_ARN.test(identity) ? identity : `${arnPrefix}secret:${identity}-??????`;
}
