import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface TaskRolesArgs {
    envName: string;
    /** Secrets Manager secret name the containers read their settings from. */
    identity: string;
    repositoryArn: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
    /** ARNs of the queues the stack owns (ingestion queue and its dead-letter queue). */
    queueArns: pulumi.Input<string>[];
    /** S3 buckets the app reads and writes. */
    dataBuckets: string[];
    /** The search domain the app indexes into. */
    searchDomainArn?: string;
}

interface Statement {
    Sid: string;
    Effect: "Allow";
    Action: string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
}

const SQS_CONSUME = [
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:SendMessage",
];

/** The app's own data: the buckets and search domain the stack config names, and nothing else. */
function dataStatements(args: TaskRolesArgs, partition: pulumi.Output<string>): Statement[] {
    const bucket = (name: string, objects = "") => pulumi.interpolate`arn:${partition}:s3:::${name}${objects}`;
    const statements: Statement[] = [];
    if (args.dataBuckets.length > 0) {
        statements.push(
            {
                Sid: "ListDataBuckets",
                Effect: "Allow",
                Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                Resource: args.dataBuckets.map((b) => bucket(b)),
            },
            {
                Sid: "ReadWriteDataObjects",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
                Resource: args.dataBuckets.map((b) => bucket(b, "/*")),
            },
        );
    }
    if (args.searchDomainArn) {
        statements.push({
            Sid: "SearchDomain",
            Effect: "Allow",
            Action: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"],
            Resource: `${args.searchDomainArn}/*`,
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
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                // Secret ARNs end in a random six-character suffix.
                Resource: arn("secretsmanager", `secret:${args.identity}-??????`),
            },
            { Sid: "IngestionQueues", Effect: "Allow", Action: SQS_CONSUME, Resource: args.queueArns },
            {
                Sid: "IndexerQueues",
                Effect: "Allow",
                // The app creates its indexer queues (<env>-indexer-queue, -secondary-, -dlq) at start-up.
                Action: [...SQS_CONSUME, "sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:PurgeQueue"],
                Resource: arn("sqs", `${args.envName}-*indexer-queue*`),
            },
            { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: logStreams },
            ...dataStatements(args, partition.partition),
        ]);

        this.executionRoleArn = execution.arn;
        this.taskRoleArn = task.arn;
        this.registerOutputs({ executionRoleArn: this.executionRoleArn, taskRoleArn: this.taskRoleArn });
    }

    /** A role ECS tasks of this account may assume, with one inline policy. */
    private role(name: string, accountId: pulumi.Output<string>, statements: Statement[]): aws.iam.Role {
        const role = new aws.iam.Role(
            name,
            {
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "ecs-tasks.amazonaws.com" },
                            Action: "sts:AssumeRole",
                            // Only tasks of this account (confused-deputy guard).
                            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
                        },
                    ],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-policy`,
            { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
            { parent: this },
        );
        return role;
    }
}
