"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ecrPolicies = exports.ecrLifecyclePolicy = exports.ecrTagImmutability = exports.ecrScanOnPush = exports.DEFAULT_MUTABLE_TAG_FILTERS = exports.LIFECYCLE_POLICY_TYPE = exports.REPOSITORY_TYPE = void 0;
exports.tagMutabilityProblem = tagMutabilityProblem;
exports.repositoriesWithoutLifecycle = repositoriesWithoutLifecycle;
const guard_1 = require("./guard");
const props_1 = require("./props");
exports.REPOSITORY_TYPE = "aws:ecr/repository:Repository";
exports.LIFECYCLE_POLICY_TYPE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";
exports.DEFAULT_MUTABLE_TAG_FILTERS = ["latest*"];
exports.ecrScanOnPush = {
    name: "ecr-scan-on-push",
    description: "ECR repositories scan every image on push.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECR.1", "ECR private repositories should have image scanning configured"),
    url: (0, guard_1.fsbpUrl)("ECR.1"),
    validateResource: (0, guard_1.forTypes)([exports.REPOSITORY_TYPE], (view, _args, report) => {
        const scanOnPush = (0, props_1.at)(view.props.imageScanningConfiguration, "scanOnPush");
        if ((0, props_1.isUnknown)(scanOnPush)) {
            return;
        }
        if ((0, props_1.knownBoolean)(scanOnPush) !== true) {
            report(`Repository "${view.name}" does not scan images on push. Set ` +
                `imageScanningConfiguration { scanOnPush: true }.`);
        }
    }),
};
/**
 * IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION whose exclusion filters are all allowed (by default only
 * `latest*`, the four role tags): a release tag can then be pushed once and never moved.
 */
function tagMutabilityProblem(mutability, filters, allowedFilters) {
    if ((0, props_1.isUnknown)(mutability)) {
        return undefined;
    }
    if (mutability === "IMMUTABLE") {
        return undefined;
    }
    if (mutability !== "IMMUTABLE_WITH_EXCLUSION") {
        return `its tags are mutable (imageTagMutability ${JSON.stringify(mutability ?? "MUTABLE")})`;
    }
    if ((0, props_1.isUnknown)(filters)) {
        return undefined;
    }
    const list = (0, props_1.knownArray)(filters) ?? [];
    const disallowed = [];
    for (const filter of list) {
        const value = (0, props_1.at)(filter, "filter");
        const type = (0, props_1.at)(filter, "filterType");
        if ((0, props_1.isUnknown)(value) || (0, props_1.isUnknown)(type)) {
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
exports.ecrTagImmutability = {
    name: "ecr-tag-immutability",
    description: "ECR repositories make tags immutable, except the movable role tags (latest*).",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: (0, guard_1.fsbp)("ECR.2", "ECR private repositories should have tag immutability configured"),
    url: (0, guard_1.fsbpUrl)("ECR.2"),
    configSchema: {
        properties: {
            allowedMutableTagFilters: {
                type: "array",
                items: { type: "string" },
                default: exports.DEFAULT_MUTABLE_TAG_FILTERS,
                description: "Wildcard filters allowed in imageTagMutabilityExclusionFilters.",
            },
        },
    },
    validateResource: (0, guard_1.forTypes)([exports.REPOSITORY_TYPE], (view, args, report) => {
        const configured = (0, guard_1.policyConfig)(args).allowedMutableTagFilters;
        const allowed = Array.isArray(configured) ? configured : exports.DEFAULT_MUTABLE_TAG_FILTERS;
        const problem = tagMutabilityProblem(view.props.imageTagMutability, view.props.imageTagMutabilityExclusionFilters, allowed);
        if (problem) {
            report(`Repository "${view.name}": ${problem}. Set imageTagMutability "IMMUTABLE_WITH_EXCLUSION" with ` +
                `imageTagMutabilityExclusionFilters [{ filter: "latest*", filterType: "WILDCARD" }].`);
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
function repositoriesWithoutLifecycle(resources) {
    const repositories = resources.filter((r) => r.type === exports.REPOSITORY_TYPE);
    const policies = resources.filter((r) => r.type === exports.LIFECYCLE_POLICY_TYPE);
    const covered = new Set();
    const unattributed = [];
    for (const policy of policies) {
        const target = (0, props_1.knownString)(policy.props.repository);
        const byName = target === undefined ? [] : repositories.filter((r) => (0, props_1.knownString)(r.props.name) === target);
        const byDependency = (policy.propertyDependencies?.repository ?? []).filter((urn) => repositories.some((r) => r.urn === urn));
        if (byName.length > 0) {
            byName.forEach((r) => covered.add(r.urn));
        }
        else if (byDependency.length > 0) {
            byDependency.forEach((urn) => covered.add(urn));
        }
        else if (target === undefined) {
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
exports.ecrLifecyclePolicy = {
    name: "ecr-lifecycle-policy",
    description: "Every ECR repository has a lifecycle policy with at least one rule.",
    enforcementLevel: "advisory",
    severity: "low",
    framework: (0, guard_1.fsbp)("ECR.3", "ECR repositories should have at least one lifecycle policy configured"),
    url: (0, guard_1.fsbpUrl)("ECR.3"),
    validateStack: (0, guard_1.stackCheck)({ types: [exports.REPOSITORY_TYPE, exports.LIFECYCLE_POLICY_TYPE], requiredType: exports.REPOSITORY_TYPE }, (resources, _args, report) => {
        for (const repository of repositoriesWithoutLifecycle(resources)) {
            report(`Repository "${repository.name}" has no lifecycle policy. Add an aws.ecr.LifecyclePolicy for it ` +
                `(for example, expire untagged images after 14 days).`, repository.urn);
        }
        for (const policy of resources.filter((r) => r.type === exports.LIFECYCLE_POLICY_TYPE)) {
            const parsed = (0, props_1.parseJsonDocument)(policy.props.policy);
            const rules = parsed.state === "known" ? (0, props_1.knownArray)((0, props_1.at)(parsed.value, "rules")) : undefined;
            if (parsed.state === "invalid" || (parsed.state === "known" && (!rules || rules.length === 0))) {
                report(`Lifecycle policy "${policy.name}" has no rules. Give it at least one rule.`, policy.urn);
            }
        }
    }),
};
exports.ecrPolicies = [exports.ecrScanOnPush, exports.ecrTagImmutability, exports.ecrLifecyclePolicy];
