"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.stackResources = stackResources;
exports.policyConfig = policyConfig;
exports.failClosed = failClosed;
exports.forTypes = forTypes;
exports.stackCheck = stackCheck;
exports.fsbp = fsbp;
exports.fsbpUrl = fsbpUrl;
const props_1 = require("./props");
/** The raw views of the resources in a stack validation request (of the given types, if any). */
function stackResources(args, types) {
    const resources = types ? args.resources.filter((r) => types.includes(r.type)) : args.resources;
    return resources.map((r) => {
        const propertyDependencies = {};
        for (const [key, dependencies] of Object.entries(r.propertyDependencies ?? {})) {
            propertyDependencies[key] = dependencies.map((d) => d.urn);
        }
        return {
            type: r.type,
            urn: r.urn,
            name: r.name,
            props: (0, props_1.rawProps)(r.props),
            parent: r.parent?.urn,
            propertyDependencies,
        };
    });
}
/** The pack's policy config for the policy being run, or {} when there is none. */
function policyConfig(args) {
    return args.getConfig() ?? {};
}
/**
 * Wraps a mandatory stack check so that it fails closed: anything thrown inside it (an unknown
 * value read through the SDK's proxy, a malformed property, a bug) becomes a violation that says
 * what went wrong, at the policy's own level, instead of the SDK's advisory "can't run policy
 * during preview" or a failed analyzer call.
 */
function failClosed(policyName, check) {
    return (args, report) => {
        try {
            check(args, report);
        }
        catch (e) {
            report(`${policyName} could not finish its check, so the change is refused: ${(0, props_1.describeError)(e)}. ` +
                `Fix the cause, or report it to the pack's owners if it is a defect in the pack.`);
        }
    };
}
/**
 * A resource check for one or more resource types, given the raw properties. Errors are reported
 * as violations of the policy (never thrown), and the SDK can skip the policy cheaply for every
 * other type when there is only one.
 */
function forTypes(types, check) {
    const accepted = new Set(types);
    const validation = (args, report) => {
        if (!accepted.has(args.type)) {
            return;
        }
        const view = { type: args.type, urn: args.urn, name: args.name, props: (0, props_1.rawProps)(args.props) };
        try {
            check(view, args, report);
        }
        catch (e) {
            report(`The check could not finish on ${args.type} "${args.name}": ${(0, props_1.describeError)(e)}.`);
        }
    };
    if (types.length === 1) {
        // The SDK reads this (as its own validateResourceOfType sets it) to skip other types
        // without deserializing their properties.
        validation.__pulumiType = types[0];
    }
    return validation;
}
/**
 * A stack check given the resources of the given types. Errors become violations. With
 * `requiredType`, the SDK skips the policy without reading any property when the stack has no
 * resource of that type.
 */
function stackCheck(options, check) {
    const validation = (args, report) => {
        try {
            check(stackResources(args, options.types), args, report);
        }
        catch (e) {
            report(`The check could not finish: ${(0, props_1.describeError)(e)}.`);
        }
    };
    if (options.requiredType) {
        validation.__pulumiType = options.requiredType;
    }
    return validation;
}
/** AWS Foundational Security Best Practices, the framework the compliance policies mirror. */
function fsbp(control, title) {
    return {
        name: "AWS Foundational Security Best Practices",
        version: "1.0.0",
        reference: control,
        specification: title,
    };
}
/** The Security Hub page of a control, e.g. ECS.8. */
function fsbpUrl(control) {
    const [service, number] = control.split(".");
    return `https://docs.aws.amazon.com/securityhub/latest/userguide/${service.toLowerCase()}-controls.html#${service.toLowerCase()}-${number}`;
}
