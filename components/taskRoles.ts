import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KMS_S3_ACTIONS } from "./appContract";
import { serviceTrustPolicy } from "./trust";

export interface TaskRolesArgs {
    envName: string;
    /** The IAM resource of the Secrets Manager secret the containers read their settings from. */
    identityResource: pulumi.Input<string>;
    repositoryArn: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
    /** The ingestion queue, created by the stack or the datastore's. */
    ingestionQueueArn: pulumi.Input<string>;
    /**
     * The dead-letter queue of a created ingestion queue. Not granted: no code path of the app
     * touches it (snovault 11.19.0 ingestion/queue_utils.py knows only `<env>-ingestion-queue`); SQS
     * moves messages into it by the redrive policy, with no permission of the consumer's.
     */
    deadLetterQueueArn?: pulumi.Input<string>;
    /**
     * The datastore's application buckets. The task role gets those it uses itself (see
     * taskRoleBuckets); the files and workflow-output buckets are the S3 user's.
     */
    dataBuckets: pulumi.Input<string[]>;
    /** The search domain the app indexes into. */
    searchDomainArn?: pulumi.Input<string>;
    /** 4dn-cloud-infra's global env bucket, read at every start. */
    globalEnvBucket: pulumi.Input<string>;
    /** The datastore's S3 KMS key, when the buckets are encrypted with it. */
    s3KmsKeyArn?: string;
    /** Whether any service accepts ECS Exec sessions: only then may tasks open SSM channels. */
    exec?: boolean;
}

interface Statement {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string>>>;
}

/**
 * What IngestionQueueManager (snovault 11.19.0 ingestion/queue_utils.py) calls: create_queue (see
 * IngestionQueue), get_queue_url, send_message_batch, receive_message, delete_message_batch,
 * get_queue_attributes (the batch calls are authorized as SendMessage and DeleteMessage). It never
 * changes a message's visibility.
 */
const SQS_CONSUME = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"];

/**
 * Buckets named with the datastore's suffixes for uploaded files and workflow outputs
 * (4dn-cloud-infra src/base.py AppBucketTemplate: `files`, `wfoutput`, and `wfout` in 2021). The
 * app reaches them only with the secret's S3 user: upload credentials through STS
 * GetFederationToken (cgap-portal v15.6.0 types/file.py external_creds), downloads and deletes
 * through snovault 11.19.0 util.py make_s3_client (types/file.py, visualization.py). The task
 * role's own S3 clients are snovault storage.py S3BlobStorage (blobs), types/ingestion.py
 * SubmissionFolio (metadata bundles) and cgap-portal commands/load_access_keys.py (system).
 */
const S3_USER_BUCKET = /-(files|wfout|wfoutput)$/;

/** The data buckets the task role itself reads and writes: all but the S3 user's. */
export function taskRoleBuckets(buckets: readonly string[]): string[] {
    return buckets.filter((name) => !S3_USER_BUCKET.test(name));
}

/**
 * What the SSM agent in a task needs for ECS Exec
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html, "IAM permissions
 * required for ECS Exec"). The ssmmessages actions have no resource-level permissions: AWS accepts
 * only "*". The task role is shared by the roles; a task whose service has exec off starts no agent.
 */
const EXEC_STATEMENT: Statement = {
    Sid: "EcsExec",
    Effect: "Allow",
    Action: [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ],
    Resource: "*",
};

/**
 * What the app itself does with the estate's data, and nothing more (docs/internals.md, "What the app needs
 * from AWS", has the table of calls and their sources).
 */
function dataStatements(
    args: TaskRolesArgs,
    data: { globalEnvBucket: string; buckets: string[]; searchDomainArn?: string },
    partition: string,
    region: pulumi.Input<string>,
): Statement[] {
    const bucket = (name: string, objects = "") => `arn:${partition}:s3:::${name}${objects}`;
    const statements: Statement[] = [
        {
            // dcicutils 8.16.1 env_utils.py EnvUtils._get_config_ecosystem_from_s3: s3.get_object of
            // <GLOBAL_ENV_BUCKET>/<ENV_NAME>, then of each "<ecosystem>.ecosystem" it points at
            // (4dn-cloud-infra assure_global_env_bucket.py writes "main.ecosystem"). Every role
            // does this at start, through encoded.main -> get_mirror_env_from_context -> EnvUtils.init.
            Sid: "ReadGlobalEnv",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: [bucket(data.globalEnvBucket, `/${args.envName}`), bucket(data.globalEnvBucket, "/*.ecosystem")],
        },
    ];
    // The buckets and the search domain come from the datastore's exports or the stack file; a stack
    // given neither (the sandbox) grants none.
    const buckets = taskRoleBuckets(data.buckets);
    if (buckets.length > 0) {
        statements.push(
            {
                // Objects only: blobs (snovault 11.19.0 storage.py S3BlobStorage put_object/get_object and
                // presigned GETs), metadata bundles (snovault types/ingestion.py SubmissionFolio
                // get_object and uploads), access keys (cgap-portal v15.6.0 commands/load_access_keys.py
                // put_object). Listing, deleting and tagging are not called with the task role's
                // credentials (deletes in types/file.py go through the secret's S3 user, make_s3_client).
                Sid: "ReadWriteDataObjects",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject"],
                Resource: buckets.map((b) => bucket(b, "/*")),
            },
        );
    }
    if (data.searchDomainArn) {
        statements.push(
            {
                // elasticsearch-py through AWS4Auth (dcicutils es_utils.py): searches, index and mapping
                // calls (create-mapping deletes and recreates indices).
                Sid: "SearchDomain",
                Effect: "Allow",
                Action: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
                Resource: `${data.searchDomainArn}/*`,
            },
        );
    }
    if (args.s3KmsKeyArn) {
        statements.push({
            // 4dn-cloud-infra datastore.py encrypts every bucket but the system bucket (and the env
            // files) with its S3EncryptKey. Only through S3: the app never calls KMS itself. The key
            // policy must name this role too (it does not delegate to IAM): `npm run preflight`.
            Sid: "DatastoreKeyThroughS3",
            Effect: "Allow",
            Action: KMS_S3_ACTIONS,
            Resource: args.s3KmsKeyArn,
            Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`s3.${region}.amazonaws.com` } },
        });
    }
    return statements;
}

/**
 * Two roles where production had one: the execution role lets ECS pull the image and write logs;
 * the task role is what the portal itself may do.
 */
export class TaskRoles extends pulumi.ComponentResource {
    readonly executionRoleArn: pulumi.Output<string>;
    readonly taskRoleArn: pulumi.Output<string>;

    constructor(name: string, args: TaskRolesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:iam:TaskRoles", name, {}, opts);

        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });
        const arn = (service: string, resource: string) =>
            pulumi.interpolate`arn:${partition.partition}:${service}:${region.region}:${caller.accountId}:${resource}`;
        const logStreams = pulumi.interpolate`${args.logGroupArn}:*`;

        const execution = this.role(`${name}-execution`, caller.accountId, [
            {
                Sid: "EcrLogin",
                Effect: "Allow",
                Action: ["ecr:GetAuthorizationToken"],
                // GetAuthorizationToken has no resource-level permissions: AWS accepts only "*".
                Resource: "*",
            },
            {
                Sid: "EcrPull",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                Resource: args.repositoryArn,
            },
            { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: logStreams },
        ]);

        const task = this.role(`${name}-task`, caller.accountId, [
            {
                Sid: "ReadIdentity",
                Effect: "Allow",
                // GetSecretValue only: the aws CLI in assume_identity and dcicutils 8.16.1
                // secrets_utils.py get_identity_secrets call get_secret_value and nothing else.
                Action: ["secretsmanager:GetSecretValue"],
                Resource: args.identityResource,
            },
            {
                Sid: "IngestionQueue",
                Effect: "Allow",
                // The app calls create_queue on the ingestion queue at start and falls back to
                // get_queue_url when that fails, whatever the error (snovault 11.19.0
                // ingestion/queue_utils.py IngestionQueueManager._initialize): CreateQueue on this one
                // ARN lets the call succeed when the attributes agree, without letting it create any
                // other queue.
                Action: [...SQS_CONSUME, "sqs:CreateQueue"],
                Resource: args.ingestionQueueArn,
            },
            {
                Sid: "IndexerQueues",
                Effect: "Allow",
                // The app creates its indexer queues (<env>-indexer-queue, -secondary-, -dlq) at start-up
                // and puts messages back with change_message_visibility_batch (snovault 11.19.0
                // elasticsearch/indexer_queue.py QueueManager.initialize, replace_messages).
                Action: [...SQS_CONSUME, "sqs:ChangeMessageVisibility", "sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:PurgeQueue"],
                Resource: arn("sqs", `${args.envName}-*indexer-queue*`),
            },
            // No logs:* here: the awslogs driver writes with the execution role; the app only prints.
            ...(args.exec ? [EXEC_STATEMENT] : []),
        ], pulumi
            .all([args.globalEnvBucket, args.dataBuckets, args.searchDomainArn, partition.partition])
            .apply(([globalEnvBucket, buckets, search, p]) => dataStatements(args, { globalEnvBucket, buckets, searchDomainArn: search }, p, region.region)));

        this.executionRoleArn = execution.arn;
        this.taskRoleArn = task.arn;
        this.registerOutputs({ executionRoleArn: this.executionRoleArn, taskRoleArn: this.taskRoleArn });
    }

    /** A role ECS tasks of this account may assume, with one inline policy. */
    private role(
        name: string,
        accountId: pulumi.Output<string>,
        statements: Statement[],
        more: pulumi.Input<Statement[]> = [],
    ): aws.iam.Role {
        const role = new aws.iam.Role(
            name,
            {
                // Only tasks of this account may assume it.
                assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", accountId),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: pulumi.output(more).apply((extra) => [...statements, ...extra]),
                }),
            },
            { parent: this },
        );
        return role;
    }
}
