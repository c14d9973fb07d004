// ECR compliance policies: the repository the four role images are pushed to.
import { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

import { forTypes, fsbp, fsbpUrl, policyConfig, stackCheck } from "./guard";
import { ResourceView } from "./images";
import { at, isUnknown, knownArray, knownBoolean, knownString, parseJsonDocument } from "./props";

export const REPOSITORY_TYPE = "aws:ecr/repository:Repository";
export const LIFECYCLE_POLICY_TYPE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";

export const DEFAULT_MUTABLE_TAG_FILTERS = ["latest*"];

export const ecrScanOnPush: ResourceValidationPolicy = {
    name: "ecr-scan-on-push",
    description: "ECR repositories scan every image on push.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECR.1", "ECR private repositories should have image scanning configured"),
    url: fsbpUrl("ECR.1"),
    validateResource: forTypes([REPOSITORY_TYPE], (view, _args, report) => {
        const scanOnPush = at(view.props.imageScanningConfiguration, "scanOnPush");
        if (isUnknown(scanOnPush)) {
            return;
        }
        if (knownBoolean(scanOnPush) !== true) {
            report(
                `Repository "${view.name}" does not scan images on push. Set ` +
                    `imageScanningConfiguration { scanOnPush: true }.`,
            );
        }
    }),
};

/**
 * IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION whose exclusion filters are all allowed (by default only
 * `latest*`, the four role tags): a release tag can then be pushed once and never moved.
 */
export function tagMutabilityProblem(
    mutability: unknown,
    filters: unknown,
    allowedFilters: readonly string[],
): string | undefined {
    if (isUnknown(mutability)) {
        return undefined;
    }
    if (mutability === "IMMUTABLE") {
        return undefined;
    }
    if (mutability !== "IMMUTABLE_WITH_EXCLUSION") {
        return `its tags are mutable (imageTagMutability ${JSON.stringify(mutability ?? "MUTABLE")})`;
    }
    if (isUnknown(filters)) {
        return undefined;
    }
    const list = knownArray(filters) ?? [];
    const disallowed: string[] = [];
    for (const filter of list) {
        const value = at(filter, "filter");
        const type = at(filter, "filterType");
        if (isUnknown(value) || isUnknown(type)) {
            continue;
        }
        if (typeof value !== "string" || !allowedFilters.includes(value) || (type !== undefined && type !== "WILDCARD")) {
            disallowed.push(JSON.stringify(value));
        }
    }
    if (disallowed.length > 0) {
        return `its tag-immutability exclusions include ${disallowed.join(", ")}; only ${allowedFilters.join(", ")} may stay movable`;
    }
    return undefined;
}

export const ecrTagImmutability: ResourceValidationPolicy = {
    name: "ecr-tag-immutability",
    description: "ECR repositories make tags immutable, except the movable role tags (latest*).",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ECR.2", "ECR private repositories should have tag immutability configured"),
    url: fsbpUrl("ECR.2"),
    configSchema: {
        properties: {
            allowedMutableTagFilters: {
                type: "array",
                items: { type: "string" },
                default: DEFAULT_MUTABLE_TAG_FILTERS,
                description: "Wildcard filters allowed in imageTagMutabilityExclusionFilters.",
            },
        },
    },
    validateResource: forTypes([REPOSITORY_TYPE], (view, args, report) => {
        const configured = policyConfig(args).allowedMutableTagFilters;
        const allowed = Array.isArray(configured) ? (configured as string[]) : DEFAULT_MUTABLE_TAG_FILTERS;
        const problem = tagMutabilityProblem(
            view.props.imageTagMutability,
            view.props.imageTagMutabilityExclusionFilters,
            allowed,
        );
        if (problem) {
            report(
                `Repository "${view.name}": ${problem}. Set imageTagMutability "IMMUTABLE_WITH_EXCLUSION" with ` +
                    `imageTagMutabilityExclusionFilters [{ filter: "latest*", filterType: "WILDCARD" }].`,
            );
        }
    }),
};

/**
 * Repositories with no lifecycle policy. A lifecycle policy belongs to a repository when its
 * `repository` names it, or, while that name is not known yet (a preview that creates both), when
 * its `repository` input depends on the repository resource (the engine records that dependency
 * for `repository: repo.name`); failing both, it is given to an uncovered repository, one under
 * the same parent component first: an unknown is not judged against the stack.
 */
export function repositoriesWithoutLifecycle(resources: readonly ResourceView[]): ResourceView[] {
    const repositories = resources.filter((r) => r.type === REPOSITORY_TYPE);
    const policies = resources.filter((r) => r.type === LIFECYCLE_POLICY_TYPE);
    const covered = new Set<string>();
    const unattributed: typeof policies = [];
    for (const policy of policies) {
        const target = knownString(policy.props.repository);
        const byName = target === undefined ? [] : repositories.filter((r) => knownString(r.props.name) === target);
        const byDependency = (policy.propertyDependencies?.repository ?? []).filter((urn) =>
            repositories.some((r) => r.urn === urn),
        );
        if (byName.length > 0) {
            byName.forEach((r) => covered.add(r.urn));
        } else if (byDependency.length > 0) {
            byDependency.forEach((urn) => covered.add(urn));
        } else if (target === undefined) {
            unattributed.push(policy);
        }
    }
    // A policy whose repository is not known yet covers one repository not otherwise covered:
    // preferably one that shares its parent component, else the first.
    for (const policy of unattributed) {
        const uncovered = repositories.filter((r) => !covered.has(r.urn));
        const sibling = uncovered.find((r) => r.parent !== undefined && r.parent === policy.parent) ?? uncovered[0];
        if (sibling) {
            covered.add(sibling.urn);
        }
    }
    return repositories.filter((r) => !covered.has(r.urn));
}

export const ecrLifecyclePolicy: StackValidationPolicy = {
    name: "ecr-lifecycle-policy",
    description: "Every ECR repository has a lifecycle policy with at least one rule.",
    enforcementLevel: "advisory",
    severity: "low",
    framework: fsbp("ECR.3", "ECR repositories should have at least one lifecycle policy configured"),
    url: fsbpUrl("ECR.3"),
    validateStack: stackCheck({ types: [REPOSITORY_TYPE, LIFECYCLE_POLICY_TYPE], requiredType: REPOSITORY_TYPE }, (resources, _args, report) => {
        for (const repository of repositoriesWithoutLifecycle(resources)) {
            report(
                `Repository "${repository.name}" has no lifecycle policy. Add an aws.ecr.LifecyclePolicy for it ` +
                    `(for example, expire untagged images after 14 days).`,
                repository.urn,
            );
        }
        for (const policy of resources.filter((r) => r.type === LIFECYCLE_POLICY_TYPE)) {
            const parsed = parseJsonDocument(policy.props.policy);
            const rules = parsed.state === "known" ? knownArray(at(parsed.value, "rules")) : undefined;
            if (parsed.state === "invalid" || (parsed.state === "known" && (!rules || rules.length === 0))) {
                report(`Lifecycle policy "${policy.name}" has no rules. Give it at least one rule.`, policy.urn);
            }
        }
    }),
};

export const ecrPolicies: Policies = [ecrScanOnPush, ecrTagImmutability, ecrLifecyclePolicy];
