import * as pulumi from "@pulumi/pulumi";
import * as awsx from "@pulumi/awsx";
import { UsedNetwork } from "./estate";

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
            // Two zones (the ALB needs two); one NAT gateway is enough for a stack that owns its
            // network only to stand the portal up in an empty account.
            const vpc = new awsx.ec2.Vpc(
                `${name}-vpc`,
                { numberOfAvailabilityZones: 2, natGateways: { strategy: "Single" } },
                { parent: this },
            );
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
