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
 * The ingestion queue's name as the app computes it: `env.name + "-ingestion-queue"` (snovault
 * 11.19.0 ingestion/queue_utils.py IngestionQueueManager.QUEUE_NAME_EXTENSION, "matches
 * 4dn-cloud-infra resources"; datastore.py ingestion_queue names it `<env>-ingestion-queue` too).
 * The app never reads a queue URL from its settings: it looks the queue up by this name.
 */
export function ingestionQueueName(envName: string): string {
    return `${envName}-ingestion-queue`;
}

/**
 * Why an existing queue cannot be the ingestion queue, or undefined when it can. With another
 * name the grants would be for that queue while the app creates, or is refused, its own: ingestion
 * stops without an error anyone sees.
 */
export function ingestionQueueNameProblem(envName: string, queueName: string): string | undefined {
    const expected = ingestionQueueName(envName);
    if (queueName === expected) {
        return undefined;
    }
    return (
        `the ingestion queue is "${queueName}", but the app only ever uses "${expected}" (snovault queue_utils.py names it ` +
        `after env.name, which is cgap:envName): point cgap:ingestionQueueUrl (or the datastore's ApplicationIngestionQueue ` +
        `export) at ${expected}, or leave it unset to create that queue`
    );
}

/**
 * The SQS queue the ingester polls for submissions: the datastore's, or one the stack creates with
 * its dead-letter queue. A created queue has the attributes of the one 4dn-cloud-infra's datastore
 * creates (src/parts/datastore.py ingestion_queue / build_sqs_instance, commit 14d9c29: visibility
 * 360 minutes, "allow 6 hours for ingestion", retention 14 days, delay 1 s, long polling 2 s). The
 * app's own create_queue at start asks for others (10800 s, 7 days, 5 s); on a queue that exists
 * with other attributes SQS refuses it and the app falls back to get_queue_url (queue_utils.py
 * _initialize), so either queue serves.
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
            const envName = args.envName;
            // Every use of the queue goes through this check (the URL is a stack output, so a
            // preview fails on it).
            const url = args.existing.url.apply((given) => {
                const problem = ingestionQueueNameProblem(envName, parseQueueUrl(given).name);
                if (problem) {
                    throw new pulumi.RunError(problem);
                }
                return given;
            });
            this.queueUrl = url;
            this.queueArn = pulumi.all([url, partition]).apply(([u, p]) => queueArn(parseQueueUrl(u), p));
            this.queueName = url.apply((u) => parseQueueUrl(u).name);
        } else {
            const deadLetterQueue = new aws.sqs.Queue(
                `${name}-ingestion-dlq`,
                {
                    name: `${ingestionQueueName(args.envName)}-dlq`,
                    messageRetentionSeconds: 1209600, // the SQS maximum: 14 days to look at a failed submission
                    sqsManagedSseEnabled: true,
                },
                { parent: this },
            );
            const queue = new aws.sqs.Queue(
                `${name}-ingestion-queue`,
                {
                    name: ingestionQueueName(args.envName),
                    // An ingestion can run for hours; the message stays invisible while it does.
                    visibilityTimeoutSeconds: 21600,
                    messageRetentionSeconds: 1209600,
                    receiveWaitTimeSeconds: 2,
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
