import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { UsedNetwork } from "./estate";
import { serviceTrustPolicy } from "./trust";

export interface NetworkArgs {
    /** The network that exists (4dn-cloud-infra's, from its exports or the stack file); without it the stack creates its own VPC. */
    existing?: UsedNetwork;
}

/** Where the portal runs: the ALB in the public subnets, every task in the private ones. */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Security groups of the network every task joins besides the stack's own container group. */
    readonly taskSecurityGroupIds: pulumi.Output<string[]>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:network:Network", name, {}, opts);

        if (args.existing) {
            this.vpcId = args.existing.vpcId;
            this.publicSubnetIds = args.existing.publicSubnetIds;
            this.privateSubnetIds = args.existing.privateSubnetIds;
            this.taskSecurityGroupIds = args.existing.taskSecurityGroupIds;
        } else {
            const vpc = new OwnVpc(name, { parent: this });
            this.vpcId = vpc.vpcId;
            this.publicSubnetIds = vpc.publicSubnetIds;
            this.privateSubnetIds = vpc.privateSubnetIds;
            this.taskSecurityGroupIds = pulumi.output([]);
        }
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}

/** The VPC's address range, and each zone's public and private subnet in it. */
const VPC_CIDR = "10.0.0.0/16";
const ZONES = [
    { publicCidr: "10.0.0.0/20", privateCidr: "10.0.128.0/18" },
    { publicCidr: "10.0.16.0/20", privateCidr: "10.0.192.0/18" },
];
/** CloudWatch.16 asks for a year. */
const FLOW_LOG_RETENTION_DAYS = 365;

/**
 * A VPC of two zones (the ALB needs two) with one NAT gateway, enough for a stack that owns its
 * network only to stand the portal up in an empty account. Plain aws resources rather than
 * awsx.ec2.Vpc, so that what the compliance policies judge is in the stack's own resources:
 * - EC2.2: the default security group is taken over and left without rules;
 * - EC2.6: a flow log records all of the VPC's traffic, to a KMS-encrypted group;
 * - EC2.15: no subnet maps public IPs on launch. The ALB gets its own addresses in the public
 *   subnets, the tasks run in the private ones without public IPs (ECS.2), and the NAT gateway has
 *   an Elastic IP; nothing here needs an address assigned on launch.
 */
class OwnVpc extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly privateSubnetIds: pulumi.Output<string[]>;

    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super("cgap:network:OwnVpc", name, {}, opts);
        const parent = { parent: this };
        const zoneNames = aws.getAvailabilityZonesOutput({ state: "available" }, parent).names;

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: VPC_CIDR, enableDnsSupport: true, enableDnsHostnames: true, tags: { Name: `${name}-vpc` } }, parent);
        // Adopting the default group removes the rules AWS gave it (all traffic between its members, all outbound).
        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, tags: { Name: `${name}-default (no rules)` } }, parent);

        const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id }, parent);
        const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }] }, parent);
        const subnets = ZONES.map((zone, i) => {
            const availabilityZone = zoneNames.apply((names) => names[i]);
            const subnet = (kind: "public" | "private", cidrBlock: string) =>
                new aws.ec2.Subnet(
                    `${name}-${kind}-${i + 1}`,
                    { vpcId: vpc.id, cidrBlock, availabilityZone, mapPublicIpOnLaunch: false, tags: { Name: `${name}-${kind}-${i + 1}` } },
                    parent,
                );
            return { public: subnet("public", zone.publicCidr), private: subnet("private", zone.privateCidr) };
        });
        subnets.forEach(({ public: subnet }, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${i + 1}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent));

        const natAddress = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc" }, parent);
        const nat = new aws.ec2.NatGateway(`${name}-nat`, { allocationId: natAddress.id, subnetId: subnets[0].public.id }, { parent: this, dependsOn: [gateway] });
        const privateRoutes = new aws.ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] }, parent);
        subnets.forEach(({ private: subnet }, i) => new aws.ec2.RouteTableAssociation(`${name}-private-${i + 1}`, { subnetId: subnet.id, routeTableId: privateRoutes.id }, parent));

        flowLog(name, vpc, this);

        this.vpcId = vpc.id;
        this.publicSubnetIds = pulumi.all(subnets.map((s) => s.public.id));
        this.privateSubnetIds = pulumi.all(subnets.map((s) => s.private.id));
        this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
    }
}

/**
 * The key policy of the flow log group's KMS key: the account administers the key (the default key
 * policy), and CloudWatch Logs of the region may use it for the flow log groups only, by the
 * encryption context it sends (kms:EncryptionContext:aws:logs:arn, the group's ARN). From
 * "Encrypt log data in CloudWatch Logs using AWS KMS", step 2
 * (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). The group is named
 * by prefix (a group a destroyed stack kept must not block the next one), so the ARN is matched with
 * ArnLike on that prefix.
 */
export function flowLogKeyPolicy(account: string, partition: string, region: string, logGroupPrefix: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "AccountAdministersTheKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
            {
                Sid: "CloudWatchLogsEncryptsFlowLogs",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${account}:log-group:${logGroupPrefix}*` } },
            },
        ],
    });
}

/**
 * The VPC's flow log to a log group of its own, encrypted with a key of its own (CKV_AWS_158),
 * through a role only the VPC Flow Logs service of this account can assume, allowed to write that
 * group and nothing else. The permissions are the ones AWS lists for publishing flow logs to
 * CloudWatch Logs ("IAM role for publishing flow logs to CloudWatch Logs",
 * docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html) but logs:CreateLogGroup, since
 * the group exists: the stack makes it with its retention and key.
 */
function flowLog(name: string, vpc: aws.ec2.Vpc, parent: pulumi.Resource): void {
    const opts = { parent };
    const account = aws.getCallerIdentityOutput({}, opts).accountId;
    const partition = aws.getPartitionOutput({}, opts).partition;
    const region = aws.getRegionOutput({}, opts).region;
    const prefix = `/vpc/${name}-flow-logs-`;
    const key = new aws.kms.Key(
        `${name}-flow-logs`,
        {
            description: `Encrypts the flow log of the ${name} VPC (${prefix}*)`,
            enableKeyRotation: true,
            policy: pulumi.all([account, partition, region]).apply(([a, p, r]) => flowLogKeyPolicy(a, p, r, prefix)),
        },
        opts,
    );
    const group = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { namePrefix: prefix, retentionInDays: FLOW_LOG_RETENTION_DAYS, kmsKeyId: key.arn }, opts);
    const role = new aws.iam.Role(`${name}-flow-logs`, { assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com", account) }, opts);
    new aws.iam.RolePolicy(
        `${name}-flow-logs`,
        {
            role: role.id,
            policy: group.arn.apply((arn) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Sid: "WriteFlowLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [arn, `${arn}:*`] },
                        // DescribeLogGroups lists groups; it takes no resource narrower than "*".
                        { Sid: "FindLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
                    ],
                }),
            ),
        },
        opts,
    );
    new aws.ec2.FlowLog(`${name}-flow-log`, { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: group.arn, iamRoleArn: role.arn }, opts);
}
