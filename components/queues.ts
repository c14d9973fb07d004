import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface IngestionQueuesArgs {
    envName: string;
    /** Receives before a message is set aside in the dead-letter queue. */
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

/** The SQS queue the ingester polls for submissions, and its dead-letter queue. */
export class IngestionQueues extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;

    constructor(name: string, args: IngestionQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:queues:IngestionQueues", name, {}, opts);

        this.deadLetterQueue = new aws.sqs.Queue(
            `${name}-ingestion-dlq`,
            {
                name: `${args.envName}-ingestion-queue-dlq`,
                messageRetentionSeconds: 1209600, // the SQS maximum: 14 days to look at a failed submission
                sqsManagedSseEnabled: true,
            },
            { parent: this },
        );

        this.queue = new aws.sqs.Queue(
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
                    deadLetterTargetArn: this.deadLetterQueue.arn,
                    maxReceiveCount: args.maxReceiveCount ?? 3,
                }),
            },
            { parent: this },
        );

        this.registerOutputs({ queueUrl: this.queue.url, deadLetterQueueUrl: this.deadLetterQueue.url });
    }
}
