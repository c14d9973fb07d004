// Load balancer compliance policies: the ALB in front of the WSGI service.
import { ComplianceCheck, fail, Finding, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { ResourceView } from "./images";
import { at, isMissing, isUnknown, knownArray, knownBoolean, knownString } from "./props";

/** `aws.alb.*` are aliases of `aws.lb.*`; both type tokens are accepted. */
export const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
export const LISTENER_TYPES = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
export const WEB_ACL_ASSOCIATION_TYPES = ["aws:wafv2/webAclAssociation:WebAclAssociation", "aws:wafregional/webAclAssociation:WebAclAssociation"];

/** "application" (its default), another type, or unknown. */
function loadBalancerKind(view: ResourceView): "application" | "other" | "unknown" {
    const type = view.props.loadBalancerType;
    if (isUnknown(type)) {
        return "unknown";
    }
    return isMissing(type) || type === "application" ? "application" : "other";
}

function isApplication(view: ResourceView): boolean {
    return loadBalancerKind(view) !== "other";
}

/** A resource check on application load balancers (others pass: the control does not apply). */
function albCheck(judge: (view: ResourceView) => Finding): (resources: readonly ResourceView[]) => Finding[] {
    return (resources) =>
        resources.map((view) => {
            switch (loadBalancerKind(view)) {
                case "unknown":
                    return unknown(view, "loadBalancerType is not known yet; the update judges it");
                case "other":
                    return pass(view, `not an application load balancer (${String(view.props.loadBalancerType)})`);
                case "application":
                    return judge(view);
            }
        });
}

export const albDropInvalidHeaders: ComplianceCheck = {
    name: "alb-drop-invalid-headers",
    control: CONTROLS["ELB.4"],
    description: "Application load balancers drop HTTP headers that are not valid.",
    severity: "medium",
    remediation: "Set dropInvalidHeaderFields: true on the load balancer.",
    types: LOAD_BALANCER_TYPES,
    scope: "resource",
    judge: albCheck((view) => {
        const drop = view.props.dropInvalidHeaderFields;
        if (isUnknown(drop)) {
            return unknown(view, "dropInvalidHeaderFields is not known yet; the update judges it");
        }
        return knownBoolean(drop) === true ? pass(view) : fail(view, `Load balancer "${view.name}" forwards invalid HTTP headers. Set dropInvalidHeaderFields: true.`);
    }),
};

export const albAccessLogs: ComplianceCheck = {
    name: "alb-access-logs",
    control: CONTROLS["ELB.5"],
    description: "Application load balancers write access logs to S3.",
    severity: "medium",
    remediation: "Set accessLogs { bucket: <log bucket>, enabled: true } on the load balancer; the bucket's policy must let ELB log delivery write to it.",
    types: LOAD_BALANCER_TYPES,
    scope: "resource",
    judge: albCheck((view) => {
        const logs = view.props.accessLogs;
        const enabled = at(logs, "enabled");
        const bucket = at(logs, "bucket");
        if (isUnknown(logs) || isUnknown(enabled) || isUnknown(bucket)) {
            return unknown(view, "accessLogs is not known yet; the update judges it");
        }
        // pulumi-aws LoadBalancerAccessLogs.enabled: "Defaults to false, even when bucket is
        // specified" (pulumi-aws lb.LoadBalancer docs, from terraform-provider-aws aws_lb
        // access_logs). A bucket alone writes no logs, so ELB.5 needs enabled === true.
        const on = typeof bucket === "string" && bucket !== "" && knownBoolean(enabled) === true;
        return on ? pass(view, `access logs to s3://${bucket}`) : fail(view, `Load balancer "${view.name}" writes no access logs. Set accessLogs { bucket: <log bucket>, enabled: true }.`);
    }),
};

export const lbDeletionProtection: ComplianceCheck = {
    name: "lb-deletion-protection",
    control: CONTROLS["ELB.6"],
    description: "Load balancers (application, network, gateway) have deletion protection on.",
    severity: "medium",
    remediation: "Set enableDeletionProtection: true. Turn it off first, in its own update, to delete the load balancer on purpose.",
    types: LOAD_BALANCER_TYPES,
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const protection = view.props.enableDeletionProtection;
            if (isUnknown(protection)) {
                return unknown(view, "enableDeletionProtection is not known yet; the update judges it");
            }
            return knownBoolean(protection) === true
                ? pass(view)
                : fail(view, `Load balancer "${view.name}" can be deleted by any update that replaces or removes it. Set enableDeletionProtection: true.`);
        }),
};

type ListenerKind = "http" | "https" | "unknown" | "other";

export function listenerKind(listener: ResourceView): ListenerKind {
    const protocol = listener.props.protocol;
    if (isUnknown(protocol)) {
        return "unknown";
    }
    if (protocol === "HTTPS") {
        return "https";
    }
    if (protocol === "HTTP") {
        return "http";
    }
    if (isMissing(protocol)) {
        // Unset: HTTPS when the listener has a certificate, HTTP otherwise.
        return isMissing(listener.props.certificateArn) ? "http" : "https";
    }
    return "other"; // TCP, TLS, ...: not an ALB listener
}

/** True when the listener's default action redirects to HTTPS; undefined when not known yet. */
export function redirectsToHttps(listener: ResourceView): boolean | undefined {
    const actions = listener.props.defaultActions;
    if (isUnknown(actions)) {
        return undefined;
    }
    let unknownSeen = false;
    for (const action of knownArray(actions) ?? []) {
        const type = at(action, "type");
        const protocol = at(action, "redirect", "protocol");
        if (isUnknown(type) || isUnknown(protocol)) {
            unknownSeen = true;
        } else if (type === "redirect" && protocol === "HTTPS") {
            return true;
        }
    }
    return unknownSeen ? undefined : false;
}

/**
 * The load balancer a resource belongs to through one of its inputs (`loadBalancerArn` of a
 * listener, `resourceArn` of a web ACL association): a known ARN equal to an ALB's `arn`; else the
 * input's dependency on an ALB resource (what the engine records for `loadBalancerArn: alb.arn`);
 * else the one ALB under the same parent component; else the one ALB in the stack. Returns the
 * ALB, the outside ARN, or undefined when it cannot be told (never a guess between two ALBs).
 */
export function attributedLoadBalancer(
    resource: ResourceView,
    property: string,
    albs: readonly ResourceView[],
): { alb: ResourceView } | { arn: string } | undefined {
    const arn = knownString(resource.props[property]);
    const byArn = arn === undefined ? undefined : albs.find((a) => knownString(a.props.arn) === arn);
    if (byArn) {
        return { alb: byArn };
    }
    if (arn !== undefined) {
        return { arn };
    }
    const byDependency = albs.filter((a) => (resource.propertyDependencies?.[property] ?? []).includes(a.urn));
    if (byDependency.length === 1) {
        return { alb: byDependency[0] };
    }
    const byParent = albs.filter((a) => a.parent !== undefined && a.parent === resource.parent);
    if (byDependency.length === 0 && byParent.length === 1) {
        return { alb: byParent[0] };
    }
    return byDependency.length === 0 && albs.length === 1 ? { alb: albs[0] } : undefined;
}

/**
 * ELB.1 as AWS evaluates it: on the application load balancer (AWS::ElasticLoadBalancingV2::
 * LoadBalancer), which fails when any of its HTTP listeners does not redirect to HTTPS. So the
 * verdict (and an exception) names the load balancer; the reasons name the listeners. A listener of
 * a load balancer outside the stack is judged where that load balancer is.
 */
export const albHttpRedirectsToHttps: ComplianceCheck = {
    name: "alb-http-redirects-to-https",
    control: CONTROLS["ELB.1"],
    description: "Every HTTP listener of an application load balancer redirects to HTTPS.",
    severity: "medium",
    remediation:
        'Give the load balancer a certificate and an HTTPS listener, and make every HTTP listener\'s default action { type: "redirect", ' +
        'redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }.',
    types: LOAD_BALANCER_TYPES,
    reads: LISTENER_TYPES,
    scope: "stack",
    judge: (resources) => {
        const albs = resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type));
        const applications = albs.filter(isApplication);
        const listeners = resources.filter((r) => LISTENER_TYPES.includes(r.type));
        const owner = new Map(listeners.map((l) => [l.urn, attributedLoadBalancer(l, "loadBalancerArn", applications)]));
        const unattributed = listeners.filter((l) => owner.get(l.urn) === undefined);
        return albCheck((alb) => {
            const own = listeners.filter((l) => {
                const o = owner.get(l.urn);
                return o !== undefined && "alb" in o && o.alb.urn === alb.urn;
            });
            const problems: string[] = [];
            const unknowns: string[] = [];
            for (const listener of own) {
                const kind = listenerKind(listener);
                if (kind === "unknown") {
                    unknowns.push(`the protocol of listener "${listener.name}"`);
                    continue;
                }
                if (kind !== "http") {
                    continue;
                }
                const redirect = redirectsToHttps(listener);
                if (redirect === undefined) {
                    unknowns.push(`the default action of listener "${listener.name}"`);
                } else if (!redirect) {
                    problems.push(
                        `HTTP listener "${listener.name}" of load balancer "${alb.name}" serves plain HTTP instead of redirecting to HTTPS. ` +
                            `Make its default action { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } } ` +
                            `(the load balancer needs an HTTPS listener with a certificate).`,
                    );
                }
            }
            if (problems.length > 0) {
                return fail(alb, ...problems);
            }
            if (unknowns.length > 0) {
                return unknown(alb, `${unknowns.join(" and ")} ${unknowns.length === 1 ? "is" : "are"} not known yet; the update judges it`);
            }
            if (unattributed.length > 0) {
                return unknown(alb, `listener ${unattributed.map((l) => `"${l.name}"`).join(", ")} may be one of its own (its load balancer cannot be told yet); the update judges it`);
            }
            const http = own.filter((l) => listenerKind(l) === "http").length;
            return pass(alb, http === 0 ? "no HTTP listener" : `its HTTP listener${http === 1 ? "" : "s"} redirect${http === 1 ? "s" : ""} to HTTPS`);
        })(albs);
    },
};

// ELB.18, "Application and Network Load Balancer listeners should use secure protocols to encrypt
// data in transit" (https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-18):
// judged per listener (AWS::ElasticLoadBalancingV2::Listener); an ALB listener fails unless its
// protocol is HTTPS, an NLB listener unless it is TLS. A listener whose only action redirects to
// HTTPS is still an HTTP listener and still fails as AWS evaluates it (the control reads the
// protocol, not the action), so the portal's :80 redirect, which ELB.1 requires, is a recorded
// exception in policy config rather than a pass.
const SECURE_LISTENER_PROTOCOLS = ["HTTPS", "TLS"];
/** Gateway load balancer listeners (GENEVE) carry no client protocol: the control does not apply. */
const NOT_CLIENT_PROTOCOLS = ["GENEVE"];

export const lbListenerSecureProtocol: ComplianceCheck = {
    name: "lb-listener-secure-protocol",
    control: CONTROLS["ELB.18"],
    description: "Every listener of an application or network load balancer encrypts in transit (HTTPS or TLS).",
    severity: "medium",
    remediation:
        "Serve the listener over HTTPS (application load balancer) or TLS (network load balancer) with a certificate; an HTTP listener kept " +
        "only to redirect to HTTPS needs an accepted exception naming it, with the reason.",
    types: LISTENER_TYPES,
    scope: "resource",
    judge: (resources) =>
        resources.map((listener) => {
            const kind = listenerKind(listener);
            if (kind === "unknown") {
                return unknown(listener, "its protocol is not known yet; the update judges it");
            }
            const protocol = kind === "https" ? "HTTPS" : kind === "http" ? "HTTP" : String(listener.props.protocol);
            if (NOT_CLIENT_PROTOCOLS.includes(protocol)) {
                return pass(listener, `a ${protocol} listener of a gateway load balancer: the control does not apply`);
            }
            if (SECURE_LISTENER_PROTOCOLS.includes(protocol)) {
                return pass(listener, `a ${protocol} listener`);
            }
            const redirect = kind === "http" && redirectsToHttps(listener) === true ? " (it redirects to HTTPS, but AWS judges the listener's protocol)" : "";
            return fail(
                listener,
                `Listener "${listener.name}" uses ${protocol}, which does not encrypt in transit${redirect}. Use HTTPS (application load balancer) or TLS (network load balancer).`,
            );
        }),
};

/**
 * ELB.17's sslPolicies, which Security Hub does not let be customized
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-17, December 2026).
 */
export const RECOMMENDED_SSL_POLICIES: readonly string[] = [
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
];

/**
 * What an HTTPS or TLS listener without sslPolicy gets from the API (what the provider and
 * CloudFormation call): "Other methods (for example, the AWS CLI, AWS CloudFormation, and the AWS
 * CDK) - The default security policy is ELBSecurityPolicy-2016-08"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html).
 */
const API_DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";

export const lbListenerRecommendedTlsPolicy: ComplianceCheck = {
    name: "lb-listener-recommended-tls-policy",
    control: CONTROLS["ELB.17"],
    description: "Every HTTPS listener (application load balancer) and TLS listener (network load balancer) uses one of the security policies ELB.17 recommends.",
    severity: "medium",
    remediation: `Set sslPolicy to one of ${RECOMMENDED_SSL_POLICIES.join(", ")} (ELBSecurityPolicy-TLS13-1-2-Res-2021-06 keeps TLS 1.2 for clients without TLS 1.3).`,
    types: LISTENER_TYPES,
    scope: "resource",
    judge: (resources) =>
        resources.map((listener) => {
            const kind = listenerKind(listener);
            const policy = listener.props.sslPolicy;
            if (kind === "unknown" || isUnknown(policy)) {
                return unknown(listener, "its protocol or sslPolicy is not known yet; the update judges it");
            }
            const tls = kind === "https" || listener.props.protocol === "TLS";
            if (!tls) {
                return pass(listener, "not an HTTPS or TLS listener: ELB.17 does not apply");
            }
            const effective = isMissing(policy) ? API_DEFAULT_SSL_POLICY : String(policy);
            return RECOMMENDED_SSL_POLICIES.includes(effective)
                ? pass(listener, `uses ${effective}`)
                : fail(
                      listener,
                      `Listener "${listener.name}" uses ${effective}${isMissing(policy) ? " (the API's default when sslPolicy is unset)" : ""}, which is not one of ` +
                          `the security policies ELB.17 recommends. Set sslPolicy to one of ${RECOMMENDED_SSL_POLICIES.join(", ")}.`,
                  );
        }),
};

/** ELB.16: a WAF web ACL association whose resourceArn is the ALB. */
export const albWafWebAcl: ComplianceCheck = {
    name: "alb-waf-web-acl",
    control: CONTROLS["ELB.16"],
    description: "Application load balancers are associated with an AWS WAF web ACL.",
    severity: "medium",
    remediation: "Associate a regional WAF web ACL with the load balancer (aws.wafv2.WebAclAssociation { resourceArn: alb.arn, webAclArn }).",
    types: LOAD_BALANCER_TYPES,
    reads: WEB_ACL_ASSOCIATION_TYPES,
    scope: "stack",
    judge: (resources) => {
        const albs = resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type));
        const associations = resources.filter((r) => WEB_ACL_ASSOCIATION_TYPES.includes(r.type));
        const applications = albs.filter(isApplication);
        const attributions = associations.map((a) => attributedLoadBalancer(a, "resourceArn", applications));
        const associated = new Set(attributions.flatMap((a) => (a !== undefined && "alb" in a ? [a.alb.urn] : [])));
        const someUnattributed = attributions.some((a) => a === undefined);
        return albCheck((view) => {
            if (associated.has(view.urn)) {
                return pass(view, "a web ACL association names it");
            }
            if (someUnattributed) {
                return unknown(view, "a web ACL association's resourceArn is not known yet; the update judges it");
            }
            return fail(view, `Load balancer "${view.name}" has no AWS WAF web ACL. Associate one (aws.wafv2.WebAclAssociation { resourceArn: alb.arn, webAclArn }).`);
        })(albs);
    },
};

export const elbChecks: ComplianceCheck[] = [
    albDropInvalidHeaders,
    albHttpRedirectsToHttps,
    albAccessLogs,
    lbDeletionProtection,
    albWafWebAcl,
    lbListenerSecureProtocol,
    lbListenerRecommendedTlsPolicy,
];
