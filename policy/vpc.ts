// VPC compliance policies: a VPC the stack creates itself (sandbox, in an empty account). A stack
// that uses the estate's network creates none, and these policies judge nothing there (the report
// lists them as not applicable; the estate's stack is where its VPC is judged).
//
// From AWS's Security Hub EC2 control reference
// (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html):
// - EC2.2: a VPC's default security group allows no inbound or outbound traffic. AWS creates the
//   default group with rules (all traffic from itself, all outbound), so a VPC passes only when the
//   stack takes the group over (aws.ec2.DefaultSecurityGroup) and leaves it without rules.
// - EC2.6: every VPC has flow logging (the control's trafficType parameter defaults to REJECT; ALL
//   includes it).
// - EC2.15: no subnet assigns public IP addresses on launch (mapPublicIpOnLaunch).
import { ComplianceCheck, fail, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { ResourceView } from "./images";
import { isUnknown, knownArray } from "./props";

export const VPC_TYPE = "aws:ec2/vpc:Vpc";
export const SUBNET_TYPE = "aws:ec2/subnet:Subnet";
export const DEFAULT_SECURITY_GROUP_TYPE = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
export const FLOW_LOG_TYPE = "aws:ec2/flowLog:FlowLog";

/** The resources of `type` whose `vpcId` is the VPC's id: their ids, or "unknown" when one cannot be told yet. */
function attachedTo(vpc: ResourceView, resources: readonly ResourceView[], type: string): ResourceView[] | "unknown" {
    const id = vpc.props.id;
    const candidates = resources.filter((r) => r.type === type);
    if (isUnknown(id) || candidates.some((r) => isUnknown(r.props.vpcId))) {
        return candidates.length > 0 ? "unknown" : [];
    }
    return candidates.filter((r) => r.props.vpcId === id);
}

export const vpcDefaultSecurityGroupClosed: ComplianceCheck = {
    name: "vpc-default-security-group-closed",
    control: CONTROLS["EC2.2"],
    description: "The default security group of a VPC the stack creates allows no traffic.",
    severity: "high",
    remediation: "Take the VPC's default group over with aws.ec2.DefaultSecurityGroup { vpcId } and give it no ingress and no egress.",
    types: [VPC_TYPE],
    reads: [DEFAULT_SECURITY_GROUP_TYPE],
    scope: "stack",
    judge: (resources) =>
        resources
            .filter((r) => r.type === VPC_TYPE)
            .map((vpc) => {
                const groups = attachedTo(vpc, resources, DEFAULT_SECURITY_GROUP_TYPE);
                if (groups === "unknown") {
                    return unknown(vpc, "the VPC's id is not known yet; the update judges it");
                }
                if (groups.length === 0) {
                    return fail(vpc, `VPC "${vpc.name}" keeps AWS's default security group, which allows all traffic between its members and all outbound. Take it over with aws.ec2.DefaultSecurityGroup { vpcId } and no rules.`);
                }
                const rules = groups.flatMap((g) => [g.props.ingress, g.props.egress]);
                if (rules.some(isUnknown)) {
                    return unknown(vpc, "the default security group's rules are not known yet; the update judges it");
                }
                const open = rules.some((r) => (knownArray(r) ?? []).length > 0);
                return open ? fail(vpc, `The default security group of VPC "${vpc.name}" has rules. Leave its ingress and egress empty.`) : pass(vpc, "its default security group has no rules");
            }),
};

export const vpcFlowLogs: ComplianceCheck = {
    name: "vpc-flow-logs",
    control: CONTROLS["EC2.6"],
    description: "Every VPC the stack creates logs its rejected traffic (VPC flow logs).",
    severity: "medium",
    remediation: "Add an aws.ec2.FlowLog { vpcId, trafficType: \"REJECT\" or \"ALL\" } with a log destination.",
    types: [VPC_TYPE],
    reads: [FLOW_LOG_TYPE],
    scope: "stack",
    judge: (resources) =>
        resources
            .filter((r) => r.type === VPC_TYPE)
            .map((vpc) => {
                const logs = attachedTo(vpc, resources, FLOW_LOG_TYPE);
                if (logs === "unknown") {
                    return unknown(vpc, "the VPC's id is not known yet; the update judges it");
                }
                const traffic = logs.map((l) => l.props.trafficType);
                if (traffic.some(isUnknown)) {
                    return unknown(vpc, "a flow log's trafficType is not known yet; the update judges it");
                }
                return traffic.some((t) => t === "REJECT" || t === "ALL")
                    ? pass(vpc, "its flow log records rejected traffic")
                    : fail(vpc, `VPC "${vpc.name}" has no flow log of its rejected traffic. Add aws.ec2.FlowLog { vpcId, trafficType: "REJECT" or "ALL" }.`);
            }),
};

export const subnetNoPublicIpOnLaunch: ComplianceCheck = {
    name: "subnet-no-public-ip-on-launch",
    control: CONTROLS["EC2.15"],
    description: "No subnet assigns public IP addresses to what launches in it.",
    severity: "medium",
    remediation: "Set mapPublicIpOnLaunch: false on the subnet (the ALB gets its public addresses without it).",
    types: [SUBNET_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((subnet) => {
            const map = subnet.props.mapPublicIpOnLaunch;
            if (isUnknown(map)) {
                return unknown(subnet, "mapPublicIpOnLaunch is not known yet; the update judges it");
            }
            return map === true
                ? fail(subnet, `Subnet "${subnet.name}" assigns a public IP address to everything launched in it. Set mapPublicIpOnLaunch: false.`)
                : pass(subnet);
        }),
};

export const vpcChecks: ComplianceCheck[] = [vpcDefaultSecurityGroupClosed, vpcFlowLogs, subnetNoPublicIpOnLaunch];
