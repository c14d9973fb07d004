// Load balancer compliance policies: the ALB in front of the WSGI service.
import { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { forTypes, fsbp, fsbpUrl, stackCheck } from "./guard";
import { ResourceView } from "./images";
import { at, isMissing, isUnknown, knownArray, knownBoolean, knownString } from "./props";

/** `aws.alb.*` are aliases of `aws.lb.*`; both type tokens are accepted. */
export const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
export const LISTENER_TYPES = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];

/** Application load balancers: loadBalancerType "application", its default; unknown counts too. */
function isApplication(view: ResourceView): boolean {
    const type = view.props.loadBalancerType;
    return isMissing(type) || isUnknown(type) || type === "application";
}

export const albDropInvalidHeaders: ResourceValidationPolicy = {
    name: "alb-drop-invalid-headers",
    description: "Application load balancers drop HTTP headers that are not valid.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ELB.4", "Application Load Balancer should be configured to drop invalid http headers"),
    url: fsbpUrl("ELB.4"),
    validateResource: forTypes(LOAD_BALANCER_TYPES, (view, _args, report) => {
        if (!isApplication(view) || isUnknown(view.props.loadBalancerType)) {
            return;
        }
        const drop = view.props.dropInvalidHeaderFields;
        if (isUnknown(drop)) {
            return;
        }
        if (knownBoolean(drop) !== true) {
            report(`Load balancer "${view.name}" forwards invalid HTTP headers. Set dropInvalidHeaderFields: true.`);
        }
    }),
};

type ListenerKind = "http" | "https" | "unknown";

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
    return "unknown"; // TCP, TLS, ...: not an ALB listener
}

/** True when the listener's default action redirects to HTTPS; undefined when not known yet. */
export function redirectsToHttps(listener: ResourceView): boolean | undefined {
    const actions = listener.props.defaultActions;
    if (isUnknown(actions)) {
        return undefined;
    }
    let unknown = false;
    for (const action of knownArray(actions) ?? []) {
        const type = at(action, "type");
        const protocol = at(action, "redirect", "protocol");
        if (isUnknown(type) || isUnknown(protocol)) {
            unknown = true;
        } else if (type === "redirect" && protocol === "HTTPS") {
            return true;
        }
    }
    return unknown ? undefined : false;
}

/**
 * The load balancer each listener belongs to. `loadBalancerArn` is unknown in a preview that
 * creates the ALB, so a listener is attributed, in order, by: a known ARN equal to an ALB's `arn`;
 * its `loadBalancerArn` input's dependency on an ALB resource (what the engine records for
 * `loadBalancerArn: alb.arn`); the one ALB that shares its parent component; the one ALB in the
 * stack. A known ARN of an ALB outside the stack forms a group of its own; a listener none of this
 * attributes forms the "unattributed" group.
 */
export function groupListeners(resources: readonly ResourceView[]): Map<string, ResourceView[]> {
    const albs = resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type) && isApplication(r));
    const listeners = resources.filter((r) => LISTENER_TYPES.includes(r.type));
    const groups = new Map<string, ResourceView[]>();
    const add = (key: string, listener: ResourceView) => groups.set(key, [...(groups.get(key) ?? []), listener]);
    for (const listener of listeners) {
        const arn = knownString(listener.props.loadBalancerArn);
        const byArn = arn === undefined ? undefined : albs.find((a) => knownString(a.props.arn) === arn);
        const byDependency = albs.filter((a) => (listener.propertyDependencies?.loadBalancerArn ?? []).includes(a.urn));
        const byParent = albs.filter((a) => a.parent !== undefined && a.parent === listener.parent);
        if (byArn) {
            add(byArn.urn, listener);
        } else if (arn !== undefined) {
            add(`arn:${arn}`, listener);
        } else if (byDependency.length === 1) {
            add(byDependency[0].urn, listener);
        } else if (byParent.length === 1) {
            add(byParent[0].urn, listener);
        } else if (albs.length === 1) {
            add(albs[0].urn, listener);
        } else {
            add("unattributed", listener);
        }
    }
    return groups;
}

export const albHttpRedirectsToHttps: StackValidationPolicy = {
    name: "alb-http-redirects-to-https",
    description:
        "An application load balancer with a certificate (an HTTPS listener) redirects every HTTP listener to HTTPS.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ELB.1", "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS"),
    url: fsbpUrl("ELB.1"),
    validateStack: stackCheck({ types: [...LISTENER_TYPES, ...LOAD_BALANCER_TYPES] }, (resources, _args, report) => {
        for (const listeners of groupListeners(resources).values()) {
            if (!listeners.some((l) => listenerKind(l) === "https")) {
                continue; // no certificate: plain HTTP forwarding is allowed
            }
            for (const listener of listeners) {
                if (listenerKind(listener) === "http" && redirectsToHttps(listener) === false) {
                    report(
                        `Listener "${listener.name}" serves plain HTTP on a load balancer that has an HTTPS listener. ` +
                            `Make its default action a redirect: { type: "redirect", redirect: { port: "443", ` +
                            `protocol: "HTTPS", statusCode: "HTTP_301" } }.`,
                        listener.urn,
                    );
                }
            }
        }
    }),
};

export const elbPolicies: Policies = [albDropInvalidHeaders, albHttpRedirectsToHttps];
