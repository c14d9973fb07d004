import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { UsedByUrl } from "./estate";
import { parseQueueUrl, queueArn } from "./exports";

export interface IngestionQueuesArgs {
    envName: string;
    /** The ingestion queue that exists (4dn-cloud-infra's datastore owns it): used, never created. */
    existing?: UsedByUrl;
    /** Receives before a message is set aside in the dead-letter queue (created queue only). */
    maxReceiveCount?: number;
}

/**
 * The indexer queues the app creates at start-up, named from the environment (snovault,
 * src/snovault/elasticsearch/indexer_queue.py, QueueManager: `<env>-indexer-queue`,
 * `<env>-secondary-indexer-queue`, `<env>-indexer-queue-dlq`).
 */
export function indexerQueueNames(envName: string): { primary: string; secondary: string; deadLetter: string } {
    return {
        primary: `${envName}-indexer-queue`,
        secondary: `${envName}-secondary-indexer-queue`,
        deadLetter: `${envName}-indexer-queue-dlq`,
    };
}

/**
 * The SQS queue the ingester polls for submissions: the datastore's, or one the stack creates with
 * its dead-letter queue. The attributes of a created queue are the ones the app's own
 * `create_queue` call asks for at start (cgap-portal src/encoded/ingestion/queue_utils.py), so that
 * call finds the queue as it is.
 */
export class IngestionQueues extends pulumi.ComponentResource {
    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;
    /** The queue's name, which its CloudWatch metrics are keyed by. */
    readonly queueName: pulumi.Output<string>;
    /** The created dead-letter queue's ARN; undefined for an existing queue. */
    readonly deadLetterQueueArn?: pulumi.Output<string>;

    constructor(name: string, args: IngestionQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:queues:IngestionQueues", name, {}, opts);

        if (args.existing) {
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            this.queueUrl = args.existing.url;
            this.queueArn = pulumi.all([args.existing.url, partition]).apply(([url, p]) => queueArn(parseQueueUrl(url), p));
            this.queueName = args.existing.url.apply((url) => parseQueueUrl(url).name);
        } else {
            const deadLetterQueue = new aws.sqs.Queue(
                `${name}-ingestion-dlq`,
                {
                    name: `${args.envName}-ingestion-queue-dlq`,
                    messageRetentionSeconds: 1209600, // the SQS maximum: 14 days to look at a failed submission
                    sqsManagedSseEnabled: true,
                },
                { parent: this },
            );
            const queue = new aws.sqs.Queue(
                `${name}-ingestion-queue`,
                {
                    name: `${args.envName}-ingestion-queue`,
                    // An ingestion can run for hours; the message stays invisible while it does.
                    visibilityTimeoutSeconds: 10800,
                    messageRetentionSeconds: 604800,
                    receiveWaitTimeSeconds: 5,
                    delaySeconds: 1,
                    sqsManagedSseEnabled: true,
                    redrivePolicy: pulumi.jsonStringify({
                        deadLetterTargetArn: deadLetterQueue.arn,
                        maxReceiveCount: args.maxReceiveCount ?? 3,
                    }),
                },
                { parent: this },
            );
            this.queueUrl = queue.url;
            this.queueArn = queue.arn;
            this.queueName = queue.name;
            this.deadLetterQueueArn = deadLetterQueue.arn;
        }

        this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn });
    }
}
