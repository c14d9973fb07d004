import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JavaScript, shipped as the function's code
const { ENVIRONMENT } = require("./spotDrainFunction/index.js") as { ENVIRONMENT: { targetGroupArn: string; port: string } };

export interface SpotInterruptionDrainArgs {
    envName: string;
    clusterArn: pulumi.Input<string>;
    /** The WSGI service, whose reclaimed tasks leave the target group. */
    serviceName: pulumi.Input<string>;
    targetGroupArn: pulumi.Input<string>;
    /** The port the tasks are registered on. */
    targetPort: number;
}

/**
 * Takes a WSGI task that Fargate Spot is reclaiming out of its target group as soon as ECS says so
 * (components/spotDrainFunction/index.js says why ECS does not): an EventBridge rule on the service's
 * "ECS Task State Change" event with stop code SpotInterruption while the task still runs, and a function allowed to
 * deregister targets from that one target group.
 */
export class SpotInterruptionDrain extends pulumi.ComponentResource {
    readonly functionName: pulumi.Output<string>;

    constructor(name: string, args: SpotInterruptionDrainArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:ecs:SpotInterruptionDrain", name, {}, opts);
        const functionName = `${args.envName}-spot-drain`;

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-spot-drain-logs`,
            { name: `/aws/lambda/${functionName}`, retentionInDays: 365 },
            { parent: this },
        );
        const role = new aws.iam.Role(
            `${name}-spot-drain`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-spot-drain-policy`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "DeregisterFromTheOneTargetGroup", Effect: "Allow", Action: ["elasticloadbalancing:DeregisterTargets"], Resource: args.targetGroupArn },
                        { Sid: "WriteItsLog", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logGroup.arn}:*` },
                    ],
                }),
            },
            { parent: this },
        );
        const fn = new aws.lambda.Function(
            `${name}-spot-drain`,
            {
                name: functionName,
                runtime: aws.lambda.Runtime.NodeJS22dX, // Node 22 LTS; Node 20 reached its end of life in April 2026
                handler: "index.handler",
                role: role.arn,
                code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(path.join(__dirname, "spotDrainFunction", "index.js")) }),
                timeout: 30,
                environment: { variables: { [ENVIRONMENT.targetGroupArn]: args.targetGroupArn, [ENVIRONMENT.port]: String(args.targetPort) } },
                loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
            },
            { parent: this, dependsOn: [logGroup] },
        );
        const rule = new aws.cloudwatch.EventRule(
            `${name}-spot-interruption`,
            {
                description: `WSGI tasks of ${args.envName} that Fargate Spot is reclaiming`,
                eventPattern: pulumi.jsonStringify({
                    source: ["aws.ecs"],
                    "detail-type": ["ECS Task State Change"],
                    detail: {
                        clusterArn: [args.clusterArn],
                        group: [pulumi.interpolate`service:${args.serviceName}`],
                        stopCode: ["SpotInterruption"],
                        // ECS sends one event per state on the way out (RUNNING, then DEACTIVATING, STOPPING,
                        // DEPROVISIONING, STOPPED: "Amazon ECS task lifecycle", ECS developer guide), each with the
                        // stop code. Only the first comes while the task still holds its address: by STOPPED the
                        // address may belong to a new WSGI task, which a late deregistration would take out.
                        lastStatus: ["RUNNING"],
                    },
                }),
            },
            { parent: this },
        );
        new aws.lambda.Permission(
            `${name}-spot-drain-invoke`,
            { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
            { parent: this },
        );
        new aws.cloudwatch.EventTarget(`${name}-spot-drain`, { rule: rule.name, arn: fn.arn }, { parent: this });

        this.functionName = fn.name;
        this.registerOutputs({ functionName: this.functionName });
    }
}
