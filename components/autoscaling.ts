// Application Auto Scaling for the portal's services: the ingester and indexer follow their queues,
// WSGI follows its load balancer's traffic. A role is scaled only when its sizing leaves room
// (max > min); the service itself then has desiredCount in ignoreChanges (components/services.ts).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { isAutoscaled, Role, RoleSizing } from "./roles";

/**
 * The queue-depth rules of the ECS stack that ran the portal (4dn-cloud-infra, src/parts/ecs.py at
 * 00351f28: `IngesterQueueDepthAlarm` / `IndexerQueueDepthAlarm` and their `...EmptyAlarm`s:
 * ApproximateNumberOfMessagesVisible, Maximum over 300 s, one period) with the scaling actions it
 * left "for manual configuration" filled in.
 */
export interface QueueRule {
    /** Scale out while more than this many messages are visible on `depthQueue`. */
    depth: number;
    /** Tasks added per breach. */
    scaleOutBy: number;
}

export const QUEUE_RULES = {
    // One ingestion is one long-running submission: one more task per breach.
    ingester: { depth: 2, scaleOutBy: 1 },
    // A backlog of 1000 on the secondary queue is hours of indexing at one task.
    indexer: { depth: 1000, scaleOutBy: 2 },
} as const satisfies Record<"ingester" | "indexer", QueueRule>;

/** SQS publishes its metrics every 5 minutes; the stack that ran evaluated one such period. */
export const QUEUE_ALARM_PERIOD_SECONDS = 300;
export const SCALE_OUT_COOLDOWN_SECONDS = 300;
export const SCALE_IN_COOLDOWN_SECONDS = 300;

/**
 * WSGI's target: ALB requests per task per minute. Target tracking on ALBRequestCountPerTarget
 * rather than CPU: a portal request mostly waits on Elasticsearch and Postgres, so a saturated
 * waitress worker (4 threads on 256 CPU units) shows little CPU while requests queue; the request
 * count per target measures the load itself and reacts before latency does.
 */
export const WSGI_REQUESTS_PER_TARGET = 600;
export const WSGI_SCALE_OUT_COOLDOWN_SECONDS = 60;
export const WSGI_SCALE_IN_COOLDOWN_SECONDS = 300;

export interface QueueNames {
    /** `<env>-ingestion-queue`. */
    ingestion: pulumi.Input<string>;
    /** The indexer queues, primary first, then the secondary queue the depth rule watches. */
    indexerPrimary: pulumi.Input<string>;
    indexerSecondary: pulumi.Input<string>;
}

export interface ServiceAutoscalingArgs {
    envName: string;
    clusterName: pulumi.Input<string>;
    /** ECS service name per long-running role. */
    serviceNames: Partial<Record<Role, pulumi.Input<string>>>;
    sizing: Record<Role, RoleSizing>;
    queues: QueueNames;
    /** `app/<alb>/<id>/targetgroup/<tg>/<id>`: the ALB and target group ARN suffixes joined. */
    wsgiRequestCountLabel: pulumi.Input<string>;
    /** Scaling must wait for the services it scales. */
    services: pulumi.Resource[];
}

const ECS_DESIRED_COUNT = "ecs:service:DesiredCount";

/**
 * The depth alarm's threshold. With min 0 the role may have no task at all, and one waiting message
 * must start one: a threshold above 0 would leave a lone submission waiting forever.
 */
export function depthThreshold(rule: QueueRule, min: number): number {
    return min === 0 ? 0 : rule.depth;
}

/** The step adjustments of a depth (scale-out) and an empty (scale-in) alarm. */
export function scaleOutSteps(rule: QueueRule): { metricIntervalLowerBound: string; scalingAdjustment: number }[] {
    return [{ metricIntervalLowerBound: "0", scalingAdjustment: rule.scaleOutBy }];
}

export function scaleInSteps(min: number): { metricIntervalUpperBound: string; scalingAdjustment: number }[] {
    return [{ metricIntervalUpperBound: "0", scalingAdjustment: min }];
}

/** A queue's SQS metric, as a metric-math query. */
function queueMetric(id: string, queue: pulumi.Input<string>, metricName: string) {
    return {
        id,
        returnData: false,
        metric: {
            namespace: "AWS/SQS",
            metricName,
            dimensions: { QueueName: queue },
            period: QUEUE_ALARM_PERIOD_SECONDS,
            stat: "Maximum",
        },
    };
}

/**
 * The scale-in condition: nothing waiting AND nothing in flight on any of the role's queues. The
 * stack that ran alarmed on visible messages alone, which is 0 while an ingestion runs (its message
 * is invisible for up to 3 hours); scaling in then would stop the task doing that ingestion.
 */
export function emptyQueuesExpression(ids: string[]): string {
    return ids.join(" + ");
}

/** Application Auto Scaling targets, policies and alarms for every role whose sizing leaves room. */
export class ServiceAutoscaling extends pulumi.ComponentResource {
    readonly targets: Partial<Record<Role, aws.appautoscaling.Target>> = {};
    readonly policies: aws.appautoscaling.Policy[] = [];
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];

    constructor(name: string, args: ServiceAutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:scaling:ServiceAutoscaling", name, {}, opts);

        for (const role of ["wsgi", "indexer", "ingester"] as const) {
            const sizing = args.sizing[role];
            const serviceName = args.serviceNames[role];
            if (!isAutoscaled(role, sizing) || serviceName === undefined) {
                continue;
            }
            const target = new aws.appautoscaling.Target(
                `${name}-${role}`,
                {
                    serviceNamespace: "ecs",
                    scalableDimension: ECS_DESIRED_COUNT,
                    resourceId: pulumi.interpolate`service/${args.clusterName}/${serviceName}`,
                    minCapacity: sizing.min,
                    maxCapacity: sizing.max,
                },
                { parent: this, dependsOn: args.services },
            );
            this.targets[role] = target;
            if (role === "wsgi") {
                this.requestTracking(name, target, args.wsgiRequestCountLabel);
            } else if (role === "ingester") {
                this.queueScaling(name, role, target, sizing, args.envName, args.queues.ingestion, [args.queues.ingestion]);
            } else {
                this.queueScaling(name, role, target, sizing, args.envName, args.queues.indexerSecondary, [
                    args.queues.indexerPrimary,
                    args.queues.indexerSecondary,
                ]);
            }
        }

        this.registerOutputs({
            scalableTargets: Object.fromEntries(Object.entries(this.targets).map(([r, t]) => [r, t.resourceId])),
        });
    }

    private requestTracking(name: string, target: aws.appautoscaling.Target, label: pulumi.Input<string>): void {
        this.policies.push(
            new aws.appautoscaling.Policy(
                `${name}-wsgi-requests`,
                {
                    policyType: "TargetTrackingScaling",
                    serviceNamespace: target.serviceNamespace,
                    scalableDimension: target.scalableDimension,
                    resourceId: target.resourceId,
                    targetTrackingScalingPolicyConfiguration: {
                        predefinedMetricSpecification: {
                            predefinedMetricType: "ALBRequestCountPerTarget",
                            resourceLabel: label,
                        },
                        targetValue: WSGI_REQUESTS_PER_TARGET,
                        scaleOutCooldown: WSGI_SCALE_OUT_COOLDOWN_SECONDS,
                        scaleInCooldown: WSGI_SCALE_IN_COOLDOWN_SECONDS,
                    },
                },
                { parent: this },
            ),
        );
    }

    /** Step scaling: out on the depth alarm, back to min on the empty alarm. */
    private queueScaling(
        name: string,
        role: "ingester" | "indexer",
        target: aws.appautoscaling.Target,
        sizing: RoleSizing,
        envName: string,
        depthQueue: pulumi.Input<string>,
        queues: pulumi.Input<string>[],
    ): void {
        const rule = QUEUE_RULES[role];
        const threshold = depthThreshold(rule, sizing.min);
        const policy = (suffix: string, config: aws.types.input.appautoscaling.PolicyStepScalingPolicyConfiguration) => {
            const p = new aws.appautoscaling.Policy(
                `${name}-${role}-${suffix}`,
                {
                    policyType: "StepScaling",
                    serviceNamespace: target.serviceNamespace,
                    scalableDimension: target.scalableDimension,
                    resourceId: target.resourceId,
                    stepScalingPolicyConfiguration: config,
                },
                { parent: this },
            );
            this.policies.push(p);
            return p;
        };
        const scaleOut = policy("scale-out", {
            adjustmentType: "ChangeInCapacity",
            cooldown: SCALE_OUT_COOLDOWN_SECONDS,
            metricAggregationType: "Maximum",
            stepAdjustments: scaleOutSteps(rule),
        });
        const scaleIn = policy("scale-in", {
            adjustmentType: "ExactCapacity",
            cooldown: SCALE_IN_COOLDOWN_SECONDS,
            metricAggregationType: "Maximum",
            stepAdjustments: scaleInSteps(sizing.min),
        });

        this.alarms.push(
            new aws.cloudwatch.MetricAlarm(
                `${name}-${role}-queue-depth`,
                {
                    name: `${envName}-${role}-queue-depth`,
                    alarmDescription: `Scale ${role} out: more than ${threshold} messages visible`,
                    namespace: "AWS/SQS",
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: { QueueName: depthQueue },
                    statistic: "Maximum",
                    period: QUEUE_ALARM_PERIOD_SECONDS,
                    evaluationPeriods: 1,
                    threshold,
                    comparisonOperator: "GreaterThanThreshold",
                    // A queue the app has not created yet has no data: nothing to scale for.
                    treatMissingData: "notBreaching",
                    alarmActions: [scaleOut.arn],
                },
                { parent: this },
            ),
        );

        const metrics = queues.flatMap((queue, i) => [
            queueMetric(`visible${i}`, queue, "ApproximateNumberOfMessagesVisible"),
            queueMetric(`inflight${i}`, queue, "ApproximateNumberOfMessagesNotVisible"),
        ]);
        this.alarms.push(
            new aws.cloudwatch.MetricAlarm(
                `${name}-${role}-queue-empty`,
                {
                    name: `${envName}-${role}-queue-empty`,
                    alarmDescription: `Scale ${role} in to ${sizing.min}: its queues are empty, nothing in flight`,
                    metricQueries: [
                        ...metrics,
                        { id: "pending", expression: emptyQueuesExpression(metrics.map((m) => m.id)), returnData: true },
                    ],
                    evaluationPeriods: 1,
                    threshold: 0,
                    comparisonOperator: "LessThanOrEqualToThreshold",
                    treatMissingData: "notBreaching",
                    alarmActions: [scaleIn.arn],
                },
                { parent: this },
            ),
        );
    }
}
