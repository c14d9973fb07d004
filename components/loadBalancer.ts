import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CONTAINER_PORT, WSGI_DEREGISTRATION_DELAY_SECONDS } from "./roles";

export interface PortalLoadBalancerArgs {
    /** Names the CloudWatch alarms (`<envName>-wsgi-...`). */
    envName: string;
    vpcId: pulumi.Input<string>;
    publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** ACM certificate for HTTPS; with it, HTTP only redirects to HTTPS. */
    certificateArn?: string;
    /** Bucket for the ALB's access logs (written under `<envName>/`); undefined leaves them off. */
    accessLogsBucket?: string;
}

/** The WSGI health check, as the ECS stack ran it. */
export const HEALTH_CHECK = { path: "/health?format=json", interval: 60, timeout: 10, matcher: "200" } as const;

/**
 * When a WSGI deployment is judged bad: 5xx answers from the targets, or targets failing the health
 * check, for three minutes running. The circuit breaker catches tasks that never start; these catch
 * tasks that start and then serve errors. The 5xx metric is absent in a minute without any, which
 * is the good case: missing data is not breaching.
 */
export const DEPLOYMENT_ALARMS = {
    "target-5xx": { metricName: "HTTPCode_Target_5XX_Count", statistic: "Sum", threshold: 10 },
    "unhealthy-hosts": { metricName: "UnHealthyHostCount", statistic: "Maximum", threshold: 0 },
} as const;
export const DEPLOYMENT_ALARM_MINUTES = 3;

function deploymentAlarms(
    name: string,
    envName: string,
    loadBalancer: pulumi.Output<string>,
    targetGroup: pulumi.Output<string>,
    parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
    return Object.entries(DEPLOYMENT_ALARMS).map(
        ([key, alarm]) =>
            new aws.cloudwatch.MetricAlarm(
                `${name}-wsgi-${key}`,
                {
                    name: `${envName}-wsgi-${key}`,
                    alarmDescription: `WSGI ${alarm.metricName} above ${alarm.threshold} for ${DEPLOYMENT_ALARM_MINUTES} minutes: rolls a WSGI deployment back`,
                    namespace: "AWS/ApplicationELB",
                    metricName: alarm.metricName,
                    dimensions: { LoadBalancer: loadBalancer, TargetGroup: targetGroup },
                    statistic: alarm.statistic,
                    period: 60,
                    evaluationPeriods: DEPLOYMENT_ALARM_MINUTES,
                    threshold: alarm.threshold,
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                },
                { parent },
            ),
    );
}

/**
 * TLS 1.3, and TLS 1.2 with forward-secret AEAD ciphers only: one of the policies ELB.17 recommends
 * (ELBSecurityPolicy-TLS13-1-2-2021-06, which also offers TLS 1.2's CBC ciphers, is not among them).
 */
const SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

/**
 * The internet-facing ALB in front of the WSGI tasks, and the pair of security groups that confines
 * the containers to traffic from it.
 */
export class PortalLoadBalancer extends pulumi.ComponentResource {
    readonly targetGroup: aws.lb.TargetGroup;
    /** The listeners a service must wait for: ECS cannot attach to a target group no load balancer uses yet. */
    readonly listeners: aws.lb.Listener[];
    /** Security group for every task: port 8000 from the ALB only. */
    readonly containerSecurityGroupId: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    /** `app/<alb>/<id>`: the LoadBalancer dimension of the ALB's CloudWatch metrics. */
    readonly metricsId: pulumi.Output<string>;
    /** `app/<alb>/<id>/targetgroup/<tg>/<id>`: ALBRequestCountPerTarget's resource label. */
    readonly requestCountLabel: pulumi.Output<string>;
    /** Alarms on the WSGI target group that roll a WSGI deployment back (the service's `alarms`). */
    readonly deploymentAlarms: aws.cloudwatch.MetricAlarm[];

    constructor(name: string, args: PortalLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:network:PortalLoadBalancer", name, {}, opts);
        const https = args.certificateArn !== undefined;

        const albSg = new aws.ec2.SecurityGroup(
            `${name}-alb-sg`,
            { vpcId: args.vpcId, description: "CGAP portal load balancer: HTTP(S) from the internet" },
            { parent: this },
        );
        const containerSg = new aws.ec2.SecurityGroup(
            `${name}-container-sg`,
            { vpcId: args.vpcId, description: "CGAP portal tasks: port 8000 from the load balancer only" },
            { parent: this },
        );

        const publicPorts = https ? [80, 443] : [80];
        for (const port of publicPorts) {
            for (const [family, cidr] of [["ipv4", "0.0.0.0/0"], ["ipv6", "::/0"]] as const) {
                new aws.vpc.SecurityGroupIngressRule(
                    `${name}-alb-in-${port}-${family}`,
                    {
                        securityGroupId: albSg.id,
                        ipProtocol: "tcp",
                        fromPort: port,
                        toPort: port,
                        ...(family === "ipv4" ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
                        description: `HTTP${port === 443 ? "S" : ""} from the internet`,
                    },
                    { parent: this },
                );
            }
        }
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-alb-out-containers`,
            {
                securityGroupId: albSg.id,
                ipProtocol: "tcp",
                fromPort: CONTAINER_PORT,
                toPort: CONTAINER_PORT,
                referencedSecurityGroupId: containerSg.id,
                description: "To the portal's nginx",
            },
            { parent: this },
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-container-in-alb`,
            {
                securityGroupId: containerSg.id,
                ipProtocol: "tcp",
                fromPort: CONTAINER_PORT,
                toPort: CONTAINER_PORT,
                referencedSecurityGroupId: albSg.id,
                description: "From the load balancer",
            },
            { parent: this },
        );
        // The app reaches RDS, Elasticsearch, SQS, Secrets Manager and ECR at addresses this stack
        // does not own; egress is not exposure.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-container-out`,
            { securityGroupId: containerSg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "Outbound" },
            { parent: this },
        );

        const alb = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                loadBalancerType: "application",
                internal: false,
                securityGroups: [albSg.id],
                subnets: args.publicSubnetIds,
                dropInvalidHeaderFields: true,
                // On every stack (Security Hub ELB.6): a replacement or a destroy of the ALB fails until
                // protection is turned off on purpose (see the README).
                enableDeletionProtection: true,
                // The bucket is the estate's, not this stack's: see "ALB access logs" in the README
                // for the bucket policy it must carry, or creating the ALB fails with AccessDenied.
                ...(args.accessLogsBucket
                    ? { accessLogs: { bucket: args.accessLogsBucket, prefix: args.envName, enabled: true } }
                    : {}),
            },
            { parent: this },
        );

        this.targetGroup = new aws.lb.TargetGroup(
            `${name}-wsgi`,
            {
                vpcId: args.vpcId,
                targetType: "ip",
                port: CONTAINER_PORT,
                protocol: "HTTP",
                deregistrationDelay: WSGI_DEREGISTRATION_DELAY_SECONDS,
                healthCheck: {
                    path: HEALTH_CHECK.path,
                    interval: HEALTH_CHECK.interval,
                    timeout: HEALTH_CHECK.timeout,
                    matcher: HEALTH_CHECK.matcher,
                    protocol: "HTTP",
                },
            },
            { parent: this },
        );

        const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
        const http = new aws.lb.Listener(
            `${name}-http`,
            {
                loadBalancerArn: alb.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: https
                    ? [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }]
                    : forward,
            },
            { parent: this },
        );
        this.listeners = [http];
        if (https) {
            this.listeners.push(
                new aws.lb.Listener(
                    `${name}-https`,
                    {
                        loadBalancerArn: alb.arn,
                        port: 443,
                        protocol: "HTTPS",
                        certificateArn: args.certificateArn,
                        sslPolicy: SSL_POLICY,
                        defaultActions: forward,
                    },
                    { parent: this },
                ),
            );
        }

        this.deploymentAlarms = deploymentAlarms(name, args.envName, alb.arnSuffix, this.targetGroup.arnSuffix, this);

        this.containerSecurityGroupId = containerSg.id;
        this.metricsId = alb.arnSuffix;
        this.requestCountLabel = pulumi.interpolate`${alb.arnSuffix}/${this.targetGroup.arnSuffix}`;
        this.url = pulumi.interpolate`${https ? "https" : "http"}://${alb.dnsName}`;
        this.registerOutputs({ url: this.url, targetGroupArn: this.targetGroup.arn });
    }
}
