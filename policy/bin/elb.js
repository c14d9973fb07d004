"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.elbPolicies = exports.albHttpRedirectsToHttps = exports.albDropInvalidHeaders = exports.LISTENER_TYPES = exports.LOAD_BALANCER_TYPES = void 0;
exports.listenerKind = listenerKind;
exports.redirectsToHttps = redirectsToHttps;
exports.groupListeners = groupListeners;
const guard_1 = require("./guard");
const props_1 = require("./props");
/** `aws.alb.*` are aliases of `aws.lb.*`; both type tokens are accepted. */
exports.LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
exports.LISTENER_TYPES = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
/** Application load balancers: loadBalancerType "application", its default; unknown counts too. */
function isApplication(view) {
    const type = view.props.loadBalancerType;
    return (0, props_1.isMissing)(type) || (0, props_1.isUnknown)(type) || type === "application";
}
exports.albDropInvalidHeaders = {
    name: "alb-drop-invalid-headers",
    description: "Application load balancers drop HTTP headers that are not valid.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: (0, guard_1.fsbp)("ELB.4", "Application Load Balancer should be configured to drop invalid http headers"),
    url: (0, guard_1.fsbpUrl)("ELB.4"),
    validateResource: (0, guard_1.forTypes)(exports.LOAD_BALANCER_TYPES, (view, _args, report) => {
        if (!isApplication(view) || (0, props_1.isUnknown)(view.props.loadBalancerType)) {
            return;
        }
        const drop = view.props.dropInvalidHeaderFields;
        if ((0, props_1.isUnknown)(drop)) {
            return;
        }
        if ((0, props_1.knownBoolean)(drop) !== true) {
            report(`Load balancer "${view.name}" forwards invalid HTTP headers. Set dropInvalidHeaderFields: true.`);
        }
    }),
};
function listenerKind(listener) {
    const protocol = listener.props.protocol;
    if ((0, props_1.isUnknown)(protocol)) {
        return "unknown";
    }
    if (protocol === "HTTPS") {
        return "https";
    }
    if (protocol === "HTTP") {
        return "http";
    }
    if ((0, props_1.isMissing)(protocol)) {
        // Unset: HTTPS when the listener has a certificate, HTTP otherwise.
        return (0, props_1.isMissing)(listener.props.certificateArn) ? "http" : "https";
    }
    return "unknown"; // TCP, TLS, ...: not an ALB listener
}
/** True when the listener's default action redirects to HTTPS; undefined when not known yet. */
function redirectsToHttps(listener) {
    const actions = listener.props.defaultActions;
    if ((0, props_1.isUnknown)(actions)) {
        return undefined;
    }
    let unknown = false;
    for (const action of (0, props_1.knownArray)(actions) ?? []) {
        const type = (0, props_1.at)(action, "type");
        const protocol = (0, props_1.at)(action, "redirect", "protocol");
        if ((0, props_1.isUnknown)(type) || (0, props_1.isUnknown)(protocol)) {
            unknown = true;
        }
        else if (type === "redirect" && protocol === "HTTPS") {
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
function groupListeners(resources) {
    const albs = resources.filter((r) => exports.LOAD_BALANCER_TYPES.includes(r.type) && isApplication(r));
    const listeners = resources.filter((r) => exports.LISTENER_TYPES.includes(r.type));
    const groups = new Map();
    const add = (key, listener) => groups.set(key, [...(groups.get(key) ?? []), listener]);
    for (const listener of listeners) {
        const arn = (0, props_1.knownString)(listener.props.loadBalancerArn);
        const byArn = arn === undefined ? undefined : albs.find((a) => (0, props_1.knownString)(a.props.arn) === arn);
        const byDependency = albs.filter((a) => (listener.propertyDependencies?.loadBalancerArn ?? []).includes(a.urn));
        const byParent = albs.filter((a) => a.parent !== undefined && a.parent === listener.parent);
        if (byArn) {
            add(byArn.urn, listener);
        }
        else if (arn !== undefined) {
            add(`arn:${arn}`, listener);
        }
        else if (byDependency.length === 1) {
            add(byDependency[0].urn, listener);
        }
        else if (byParent.length === 1) {
            add(byParent[0].urn, listener);
        }
        else if (albs.length === 1) {
            add(albs[0].urn, listener);
        }
        else {
            add("unattributed", listener);
        }
    }
    return groups;
}
exports.albHttpRedirectsToHttps = {
    name: "alb-http-redirects-to-https",
    description: "An application load balancer with a certificate (an HTTPS listener) redirects every HTTP listener to HTTPS.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ELB.1", "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS"),
    url: (0, guard_1.fsbpUrl)("ELB.1"),
    validateStack: (0, guard_1.stackCheck)({ types: [...exports.LISTENER_TYPES, ...exports.LOAD_BALANCER_TYPES] }, (resources, _args, report) => {
        for (const listeners of groupListeners(resources).values()) {
            if (!listeners.some((l) => listenerKind(l) === "https")) {
                continue; // no certificate: plain HTTP forwarding is allowed
            }
            for (const listener of listeners) {
                if (listenerKind(listener) === "http" && redirectsToHttps(listener) === false) {
                    report(`Listener "${listener.name}" serves plain HTTP on a load balancer that has an HTTPS listener. ` +
                        `Make its default action a redirect: { type: "redirect", redirect: { port: "443", ` +
                        `protocol: "HTTPS", statusCode: "HTTP_301" } }.`, listener.urn);
                }
            }
        }
    }),
};
exports.elbPolicies = [exports.albDropInvalidHeaders, exports.albHttpRedirectsToHttps];
