import * as pulumi from "@pulumi/pulumi";
import * as awsx from "@pulumi/awsx";
import { ExistingNetwork } from "./config";

export interface NetworkArgs {
    /** The VPC and subnets to run in (4dn-cloud-infra's network); without it the stack creates its own VPC. */
    existing?: ExistingNetwork;
}

/** Where the portal runs: the ALB in the public subnets, every task in the private ones. */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly privateSubnetIds: pulumi.Output<string[]>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:network:Network", name, {}, opts);

        if (args.existing) {
            this.vpcId = pulumi.output(args.existing.vpcId);
            this.publicSubnetIds = pulumi.output(args.existing.publicSubnetIds);
            this.privateSubnetIds = pulumi.output(args.existing.privateSubnetIds);
        } else {
            // Two zones (the ALB needs two); one NAT gateway is enough for a stack that owns its
            // network only for development and testing.
            const vpc = new awsx.ec2.Vpc(
                `${name}-vpc`,
                { numberOfAvailabilityZones: 2, natGateways: { strategy: "Single" } },
                { parent: this },
            );
            this.vpcId = vpc.vpcId;
            this.publicSubnetIds = vpc.publicSubnetIds;
            this.privateSubnetIds = vpc.privateSubnetIds;
        }
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}
