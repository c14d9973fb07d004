// Shared pieces every policy in the pack is built from: typed views of the resources, and
// wrappers that keep errors (and unknown values) from escaping a policy.
import {
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    StackValidation,
    StackValidationArgs,
} from "@pulumi/policy";

import { ResourceView } from "./images";
import { describeError, rawProps } from "./props";

/** The raw views of the resources in a stack validation request (of the given types, if any). */
export function stackResources(args: StackValidationArgs, types?: readonly string[]): ResourceView[] {
    const resources = types ? args.resources.filter((r) => types.includes(r.type)) : args.resources;
    return resources.map((r) => {
        const propertyDependencies: Record<string, string[]> = {};
        for (const [key, dependencies] of Object.entries(r.propertyDependencies ?? {})) {
            propertyDependencies[key] = dependencies.map((d) => d.urn);
        }
        return {
            type: r.type,
            urn: r.urn,
            name: r.name,
            props: rawProps(r.props),
            parent: r.parent?.urn,
            propertyDependencies,
        };
    });
}

/** The pack's policy config for the policy being run, or {} when there is none. */
export function policyConfig(args: { getConfig<T extends object>(): T }): Record<string, unknown> {
    return args.getConfig<Record<string, unknown>>() ?? {};
}

/**
 * Wraps a mandatory stack check so that it fails closed: anything thrown inside it (an unknown
 * value read through the SDK's proxy, a malformed property, a bug) becomes a violation that says
 * what went wrong, at the policy's own level, instead of the SDK's advisory "can't run policy
 * during preview" or a failed analyzer call.
 */
export function failClosed(
    policyName: string,
    check: (args: StackValidationArgs, report: ReportViolation) => void,
): StackValidation {
    return (args, report) => {
        try {
            check(args, report);
        } catch (e) {
            report(
                `${policyName} could not finish its check, so the change is refused: ${describeError(e)}. ` +
                    `Fix the cause, or report it to the pack's owners if it is a defect in the pack.`,
            );
        }
    };
}

/**
 * A resource check for one or more resource types, given the raw properties. Errors are reported
 * as violations of the policy (never thrown), and the SDK can skip the policy cheaply for every
 * other type when there is only one.
 */
export function forTypes(
    types: readonly string[],
    check: (view: ResourceView, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    const accepted = new Set(types);
    const validation: ResourceValidation = (args, report) => {
        if (!accepted.has(args.type)) {
            return;
        }
        const view = { type: args.type, urn: args.urn, name: args.name, props: rawProps(args.props) };
        try {
            check(view, args, report);
        } catch (e) {
            report(`The check could not finish on ${args.type} "${args.name}": ${describeError(e)}.`);
        }
    };
    if (types.length === 1) {
        // The SDK reads this (as its own validateResourceOfType sets it) to skip other types
        // without deserializing their properties.
        (validation as { __pulumiType?: string }).__pulumiType = types[0];
    }
    return validation;
}

/**
 * A stack check given the resources of the given types. Errors become violations. With
 * `requiredType`, the SDK skips the policy without reading any property when the stack has no
 * resource of that type.
 */
export function stackCheck(
    options: { types: readonly string[]; requiredType?: string },
    check: (resources: ResourceView[], args: StackValidationArgs, report: ReportViolation) => void,
): StackValidation {
    const validation: StackValidation = (args, report) => {
        try {
            check(stackResources(args, options.types), args, report);
        } catch (e) {
            report(`The check could not finish: ${describeError(e)}.`);
        }
    };
    if (options.requiredType) {
        (validation as { __pulumiType?: string }).__pulumiType = options.requiredType;
    }
    return validation;
}
