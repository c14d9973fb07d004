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
import { isUnknown, knownArray, knownString } from "./props";

export const VPC_TYPE = "aws:ec2/vpc:Vpc";
export const SUBNET_TYPE = "aws:ec2/subnet:Subnet";
export const DEFAULT_SECURITY_GROUP_TYPE = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
export const FLOW_LOG_TYPE = "aws:ec2/flowLog:FlowLog";
/**
 * Rules declared as resources of their own: a default group declared "without rules" can still be
 * given one this way (the provider's docs call DefaultSecurityGroup incompatible with them, and a
 * rule added so exists in AWS until the group's next update removes it).
 */
const RULE_TYPES = [
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
];

/**
 * The resources of `types` whose `property` names `target` (a VPC's `vpcId`, a group's
 * `securityGroupId`), and whether some cannot be told yet. A resource names the target when its
 * value equals the target's id; while either id is not known (a first rollout's preview, or an
 * analyzer that gets no `id` among the properties), when its value was made from the target itself
 * (propertyDependencies names the target's URN). A value made only from other resources names
 * something else, unless one of them can carry the target's id: `carriers` (the VPC, whose
 * defaultSecurityGroupId output is the default group's id); from a carrier, or from nothing known,
 * it cannot be told yet.
 */
function attachedTo(
    target: ResourceView,
    resources: readonly ResourceView[],
    types: readonly string[],
    property: string,
    carriers: readonly string[] = [],
): { attached: ResourceView[]; undecided: boolean } {
    const id = knownString(target.props.id);
    const attached: ResourceView[] = [];
    let undecided = false;
    for (const r of resources.filter((c) => types.includes(c.type))) {
        const value = knownString(r.props[property]);
        const madeFrom = r.propertyDependencies?.[property] ?? [];
        if (id !== undefined && value !== undefined) {
            if (value === id) {
                attached.push(r);
            }
        } else if (madeFrom.includes(target.urn)) {
            attached.push(r);
        } else if (madeFrom.length > 0 && !madeFrom.some((urn) => carriers.includes(urn))) {
            continue; // made from another resource: it names that one
        } else if (isUnknown(r.props[property]) || isUnknown(target.props.id)) {
            undecided = true;
        }
    }
    return { attached, undecided };
}

export const vpcDefaultSecurityGroupClosed: ComplianceCheck = {
    name: "vpc-default-security-group-closed",
    control: CONTROLS["EC2.2"],
    description: "The default security group of a VPC the stack creates allows no traffic.",
    severity: "high",
    remediation: "Take the VPC's default group over with aws.ec2.DefaultSecurityGroup { vpcId } and give it no ingress and no egress.",
    types: [VPC_TYPE],
    reads: [DEFAULT_SECURITY_GROUP_TYPE, ...RULE_TYPES],
    scope: "stack",
    judge: (resources) =>
        resources
            .filter((r) => r.type === VPC_TYPE)
            .map((vpc) => {
                const { attached: groups, undecided } = attachedTo(vpc, resources, [DEFAULT_SECURITY_GROUP_TYPE], "vpcId");
                if (undecided) {
                    return unknown(vpc, "the VPC's id is not known yet; the update judges it");
                }
                if (groups.length === 0) {
                    return fail(vpc, `VPC "${vpc.name}" keeps AWS's default security group, which allows all traffic between its members and all outbound. Take it over with aws.ec2.DefaultSecurityGroup { vpcId } and no rules.`);
                }
                const inline = groups.flatMap((g) => [g.props.ingress, g.props.egress]);
                const separate = groups.map((g) => attachedTo(g, resources, RULE_TYPES, "securityGroupId", [vpc.urn]));
                const declared = separate.flatMap((s) => s.attached);
                if (declared.length > 0) {
                    return fail(vpc, `The default security group of VPC "${vpc.name}" is given rules of its own (${declared.map((r) => r.name).join(", ")}). Remove them: the group allows no traffic.`);
                }
                if (inline.some((r) => (knownArray(r) ?? []).length > 0)) {
                    return fail(vpc, `The default security group of VPC "${vpc.name}" has rules. Leave its ingress and egress empty.`);
                }
                if (inline.some(isUnknown) || separate.some((s) => s.undecided)) {
                    return unknown(vpc, "the default security group's rules are not known yet; the update judges it");
                }
                return pass(vpc, "its default security group has no rules");
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
                const { attached: logs, undecided } = attachedTo(vpc, resources, [FLOW_LOG_TYPE], "vpcId");
                const traffic = logs.map((l) => l.props.trafficType);
                if (traffic.some((t) => t === "REJECT" || t === "ALL")) {
                    return pass(vpc, "its flow log records rejected traffic");
                }
                if (undecided) {
                    return unknown(vpc, "the VPC's id is not known yet; the update judges it");
                }
                if (traffic.some(isUnknown)) {
                    return unknown(vpc, "a flow log's trafficType is not known yet; the update judges it");
                }
                return fail(vpc, `VPC "${vpc.name}" has no flow log of its rejected traffic. Add aws.ec2.FlowLog { vpcId, trafficType: "REJECT" or "ALL" }.`);
            }),
};

/**
 * EC2.15 "fails if the subnet is configured to automatically assign public IPv4 or IPv6 addresses"
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-15): an IPv6
 * address a subnet assigns on creation is globally routable, so assignIpv6AddressOnCreation counts
 * as mapPublicIpOnLaunch does.
 */
const AUTO_ASSIGN = [
    { property: "mapPublicIpOnLaunch", what: "a public IPv4 address" },
    { property: "assignIpv6AddressOnCreation", what: "an IPv6 address, which is public" },
];

export const subnetNoPublicIpOnLaunch: ComplianceCheck = {
    name: "subnet-no-public-ip-on-launch",
    control: CONTROLS["EC2.15"],
    description: "No subnet assigns public IPv4 or IPv6 addresses to what launches in it.",
    severity: "medium",
    remediation: "Set mapPublicIpOnLaunch and assignIpv6AddressOnCreation to false on the subnet (the ALB gets its public addresses without them).",
    types: [SUBNET_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((subnet) => {
            const problems = AUTO_ASSIGN.filter(({ property }) => subnet.props[property] === true).map(
                ({ property, what }) => `Subnet "${subnet.name}" assigns ${what} to everything launched in it. Set ${property}: false.`,
            );
            if (problems.length > 0) {
                return fail(subnet, ...problems);
            }
            const notKnown = AUTO_ASSIGN.filter(({ property }) => isUnknown(subnet.props[property]));
            return notKnown.length > 0 ? unknown(subnet, `${notKnown.map((a) => a.property).join(" and ")} not known yet; the update judges it`) : pass(subnet);
        }),
};

export const vpcChecks: ComplianceCheck[] = [vpcDefaultSecurityGroupClosed, vpcFlowLogs, subnetNoPublicIpOnLaunch];
