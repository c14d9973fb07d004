// Security group compliance policies: what the internet may reach.
//
// Security Hub judges a security group by all its inbound rules. This stack (like most Pulumi
// programs) declares rules as separate resources (aws.vpc.SecurityGroupIngressRule,
// aws.ec2.SecurityGroupRule), so these are stack checks: each rule is given to its group by the
// group's id, or, while the id is not known (a preview that creates both), by its securityGroupId
// input's dependency on the group; a rule that cannot be given to a group is judged on its own.
import { combine, ComplianceCheck, fail, Finding, pass, SettingSchema, unknown } from "./compliance";
import { Control, CONTROLS } from "./controls";
import { ResourceView } from "./images";
import { at, isUnknown, knownArray, knownString } from "./props";

export const SECURITY_GROUP_TYPE = "aws:ec2/securityGroup:SecurityGroup";
export const SECURITY_GROUP_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const INGRESS_RULE_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

const WORLD = ["0.0.0.0/0", "::/0"];

/** The ports EC2.19 calls high-risk (its Config rule's blockedPorts). */
export const HIGH_RISK_PORTS = [20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300];

interface Ingress {
    /** The resource that declares the rule. */
    from: ResourceView;
    protocol: "tcp" | "udp" | "all" | "other" | "unknown";
    fromPort: number | "unknown";
    toPort: number | "unknown";
    /** Open to 0.0.0.0/0 or ::/0. */
    open: boolean | "unknown";
}

function protocolOf(value: unknown): Ingress["protocol"] {
    if (isUnknown(value)) {
        return "unknown";
    }
    const p = String(value).toLowerCase();
    return p === "-1" || p === "all" ? "all" : p === "tcp" || p === "6" ? "tcp" : p === "udp" || p === "17" ? "udp" : "other";
}

function portOf(value: unknown): number | "unknown" {
    if (isUnknown(value)) {
        return "unknown";
    }
    const n = Number(value);
    return Number.isFinite(n) ? n : "unknown";
}

function openOf(...cidrLists: unknown[]): boolean | "unknown" {
    let unknownSeen = false;
    for (const list of cidrLists) {
        for (const cidr of list === undefined || list === null ? [] : Array.isArray(list) ? list : [list]) {
            if (isUnknown(cidr)) {
                unknownSeen = true;
            } else if (WORLD.includes(String(cidr))) {
                return true;
            }
        }
        if (isUnknown(list)) {
            unknownSeen = true;
        }
    }
    return unknownSeen ? "unknown" : false;
}

/** The inbound rules a resource declares. */
export function ingressOf(view: ResourceView): Ingress[] {
    const p = view.props;
    switch (view.type) {
        case SECURITY_GROUP_TYPE:
            return (knownArray(p.ingress) ?? []).map((rule) => ({
                from: view,
                protocol: protocolOf(at(rule, "protocol")),
                fromPort: portOf(at(rule, "fromPort")),
                toPort: portOf(at(rule, "toPort")),
                open: openOf(at(rule, "cidrBlocks"), at(rule, "ipv6CidrBlocks")),
            }));
        case SECURITY_GROUP_RULE_TYPE:
            if (p.type !== "ingress") {
                return [];
            }
            return [{ from: view, protocol: protocolOf(p.protocol), fromPort: portOf(p.fromPort), toPort: portOf(p.toPort), open: openOf(p.cidrBlocks, p.ipv6CidrBlocks) }];
        case INGRESS_RULE_TYPE:
            return [{ from: view, protocol: protocolOf(p.ipProtocol), fromPort: portOf(p.fromPort), toPort: portOf(p.toPort), open: openOf(p.cidrIpv4, p.cidrIpv6) }];
        default:
            return [];
    }
}

/** Each security group with every inbound rule it has; rules that cannot be given to a group stand alone. */
export function groupRules(resources: readonly ResourceView[]): { subject: ResourceView; rules: Ingress[] }[] {
    const groups = resources.filter((r) => r.type === SECURITY_GROUP_TYPE);
    const byUrn = new Map(groups.map((g) => [g.urn, { subject: g, rules: ingressOf(g) }]));
    // A stack can hold thousands of rules and hundreds of groups: each rule finds its group by
    // lookup, not by a scan of the groups. Where two groups match, the first in stack order wins.
    const byId = new Map<string, ResourceView>();
    const orderByUrn = new Map<string, number>();
    groups.forEach((g, i) => {
        const id = knownString(g.props.id);
        if (id !== undefined && !byId.has(id)) {
            byId.set(id, g);
        }
        if (!orderByUrn.has(g.urn)) {
            orderByUrn.set(g.urn, i);
        }
    });
    const firstDependedOn = (urns: readonly string[]): ResourceView | undefined => {
        let first: number | undefined;
        for (const urn of urns) {
            const i = orderByUrn.get(urn);
            if (i !== undefined && (first === undefined || i < first)) {
                first = i;
            }
        }
        return first === undefined ? undefined : groups[first];
    };
    const alone: { subject: ResourceView; rules: Ingress[] }[] = [];
    for (const rule of resources.filter((r) => r.type === SECURITY_GROUP_RULE_TYPE || r.type === INGRESS_RULE_TYPE)) {
        const id = knownString(rule.props.securityGroupId);
        const group = id !== undefined ? byId.get(id) : firstDependedOn(rule.propertyDependencies?.securityGroupId ?? []);
        if (group) {
            byUrn.get(group.urn)!.rules.push(...ingressOf(rule));
        } else {
            alone.push({ subject: rule, rules: ingressOf(rule) });
        }
    }
    return [...byUrn.values(), ...alone];
}

function portsText(rule: Ingress): string {
    if (rule.protocol === "all") {
        return "every port (protocol -1)";
    }
    return rule.fromPort === rule.toPort ? `${rule.protocol} ${rule.fromPort}` : `${rule.protocol} ${rule.fromPort}-${rule.toPort}`;
}

/**
 * Judges every open rule of every group with `problem`, which names the ports it objects to (or
 * nothing). Security Hub judges a group by all its rules, so a group passes only when every rule
 * that may be its own does: while a failing or unknown rule's group cannot be told (its
 * securityGroupId not known yet and no dependency to go by), a group that would pass is unknown.
 */
function judgeOpenRules(resources: readonly ResourceView[], problem: (rule: Ingress) => string | undefined, fix: string): Finding[] {
    const judged = groupRules(resources).map(({ subject, rules }) => {
        const findings = rules.map((rule): Finding => {
            if (rule.open === false || rule.protocol === "other") {
                return pass(subject);
            }
            if (rule.open === "unknown" || rule.protocol === "unknown" || rule.fromPort === "unknown" || rule.toPort === "unknown") {
                return unknown(subject, `a rule of "${rule.from.name}" is not known yet; the update judges it`);
            }
            const objection = problem(rule);
            return objection === undefined
                ? pass(subject)
                : fail(subject, `"${rule.from.name}" lets the whole internet (0.0.0.0/0 or ::/0) reach ${portsText(rule)}: ${objection}. ${fix}`);
        });
        return combine(subject, findings);
    });
    const strays = judged.filter((f) => f.resource.type !== SECURITY_GROUP_TYPE && f.verdict !== "pass" && isUnknown(f.resource.props.securityGroupId));
    if (strays.length === 0) {
        return judged;
    }
    const names = strays.map((f) => `"${f.resource.name}"`).join(", ");
    return judged.map((f) =>
        f.resource.type === SECURITY_GROUP_TYPE && f.verdict === "pass"
            ? unknown(f.resource, `rule ${names}, whose security group is not known yet, may be one of its rules; the update judges it`)
            : f,
    );
}

function inRange(rule: Ingress, port: number): boolean {
    return rule.protocol === "all" || (port >= (rule.fromPort as number) && port <= (rule.toPort as number));
}

/**
 * EC2.19 looks at TCP: Security Hub creates it from AWS Config's restricted-common-ports, which
 * "checks if the security groups in use do not allow unrestricted incoming Transmission Control
 * Protocol (TCP) traffic to specified ports" (docs.aws.amazon.com/config/latest/developerguide/
 * restricted-common-ports.html). A rule of protocol -1 (every protocol) reaches its TCP ports too, a
 * UDP rule does not. The pack follows it rather than being stricter: an open UDP port is still a
 * failure of EC2.18, whose UDP list is empty by default.
 */
function reachesHighRiskTcp(rule: Ingress, port: number): boolean {
    return (rule.protocol === "tcp" || rule.protocol === "all") && inRange(rule, port);
}

function securityGroupCheck(
    name: string,
    control: Control,
    severity: ComplianceCheck["severity"],
    description: string,
    remediation: string,
    judge: ComplianceCheck["judge"],
    settings?: ComplianceCheck["settings"],
): ComplianceCheck {
    return {
        name,
        control,
        description,
        severity,
        remediation,
        types: [SECURITY_GROUP_TYPE, SECURITY_GROUP_RULE_TYPE, INGRESS_RULE_TYPE],
        scope: "stack",
        settings,
        judge,
    };
}

/**
 * EC2.18's port lists as Security Hub bounds them: ports 1-65535, at most 32 of each protocol. An
 * unbounded list is an exception in disguise (every port listed passes every open rule), so the pack
 * refuses a longer one at Configure; a port that must be public beyond that needs an exception.
 */
const AUTHORIZED_PORTS: SettingSchema = { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, maxItems: 32, uniqueItems: true };

export const sgAuthorizedPortsOnly = securityGroupCheck(
    "sg-unrestricted-ingress-authorized-ports",
    CONTROLS["EC2.18"],
    "high",
    "Security groups let the whole internet reach only the authorized ports (by default TCP 80 and 443, EC2.18's defaults).",
    "Restrict the rule's source to the addresses that need it (or another security group), or authorize the port in the policy's authorizedTcpPorts/authorizedUdpPorts if it must be public.",
    (resources, settings) => {
        const tcp = settings.authorizedTcpPorts as number[];
        const udp = settings.authorizedUdpPorts as number[];
        return judgeOpenRules(
            resources,
            (rule) => {
                if (rule.protocol === "all") {
                    return "every port is open, not only the authorized ones";
                }
                const authorized = rule.protocol === "tcp" ? tcp : udp;
                const from = rule.fromPort as number;
                const to = rule.toPort as number;
                const outside = to - from > 1024 ? undefined : Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((p) => !authorized.includes(p));
                if (outside === undefined) {
                    return `a range of ${to - from + 1} ports is open, not only the authorized ones`;
                }
                return outside.length > 0 ? `${rule.protocol} ${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not authorized (authorized: ${authorized.join(", ") || "none"})` : undefined;
            },
            "Restrict the source, or authorize the port in the policy's settings if it must be public.",
        );
    },
    {
        authorizedTcpPorts: { ...AUTHORIZED_PORTS, default: [80, 443], description: "TCP ports the internet may reach (EC2.18's default: 80, 443; at most 32, as EC2.18 allows)." },
        authorizedUdpPorts: { ...AUTHORIZED_PORTS, default: [], description: "UDP ports the internet may reach (EC2.18's default: none; at most 32, as EC2.18 allows)." },
    },
);

export const sgNoHighRiskPorts = securityGroupCheck(
    "sg-no-unrestricted-high-risk-ports",
    CONTROLS["EC2.19"],
    "critical",
    `Security groups do not let the whole internet reach the ports EC2.19 calls high-risk (${HIGH_RISK_PORTS.join(", ")}).`,
    "Restrict the rule's source to the addresses that need it, or reach the service through a load balancer, VPN or Session Manager.",
    (resources) =>
        judgeOpenRules(
            resources,
            (rule) => {
                const risky = HIGH_RISK_PORTS.filter((p) => reachesHighRiskTcp(rule, p));
                return risky.length > 0 ? `high-risk port${risky.length === 1 ? "" : "s"} ${risky.join(", ")}` : undefined;
            },
            "Restrict the source, or reach the service through a load balancer, VPN or Session Manager.",
        ),
);

export const networkChecks: ComplianceCheck[] = [sgAuthorizedPortsOnly, sgNoHighRiskPorts];
