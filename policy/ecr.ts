// ECR compliance policies: the repository the four role images are pushed to.
import { ComplianceCheck, excepted, fail, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { ResourceView } from "./images";
import { at, isMissing, isUnknown, knownArray, knownBoolean, knownString, parseJsonDocument } from "./props";
import { globToRegExp } from "./stack";

export const REPOSITORY_TYPE = "aws:ecr/repository:Repository";
export const LIFECYCLE_POLICY_TYPE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";
export const REGISTRY_SCANNING_TYPE = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration";

const SCANNING_FREQUENCIES = ["SCAN_ON_PUSH", "CONTINUOUS_SCAN"];

/** ECR's wildcard filters: `*` matches any run of characters, case-sensitive (like the globs elsewhere, bar case). */
function wildcardMatches(filter: string, name: string): boolean {
    return globToRegExp(filter).test(name);
}

/**
 * How a repository is scanned, by ECR's rules: with ENHANCED registry scanning only the registry's
 * rules count (the repository's own scanOnPush is ignored); with BASIC, a registry rule or the
 * repository's scanOnPush.
 */
function scanning(repository: ResourceView, registry: ResourceView | undefined, declaredFilters: readonly string[]) {
    const name = knownString(repository.props.name);
    const rules = registry ? registry.props.rules : undefined;
    if (isUnknown(rules) || (registry && isUnknown(registry.props.scanType)) || (name === undefined && isUnknown(repository.props.name))) {
        return { state: "unknown" as const };
    }
    const ruleFilters = (knownArray(rules) ?? [])
        .filter((rule) => SCANNING_FREQUENCIES.includes(String(at(rule, "scanFrequency"))))
        .flatMap((rule) => (knownArray(at(rule, "repositoryFilters")) ?? []).map((f) => knownString(at(f, "filter"))))
        .filter((f): f is string => f !== undefined);
    const byRegistry = ruleFilters.find((f) => name !== undefined && wildcardMatches(f, name));
    if (byRegistry) {
        return { state: "scanned" as const, how: `registry scanning rule "${byRegistry}"` };
    }
    if (registry && registry.props.scanType === "ENHANCED") {
        return { state: "not scanned" as const, why: "the registry uses enhanced scanning and no rule of it matches the repository" };
    }
    const scanOnPush = at(repository.props.imageScanningConfiguration, "scanOnPush");
    if (isUnknown(scanOnPush)) {
        return { state: "unknown" as const };
    }
    if (knownBoolean(scanOnPush) === true) {
        return { state: "scanned" as const, how: "scan on push" };
    }
    // A filter in policy config is a claim about a registry configuration the pack cannot see: it
    // may stand in for a real rule managed elsewhere, but it passes nothing on its own. What it lets
    // through is reported as excepted, naming the claim, so a reviewer sees it.
    const declared = registry ? undefined : declaredFilters.find((f) => name !== undefined && wildcardMatches(f, name));
    if (declared) {
        return { state: "declared" as const, filter: declared };
    }
    return { state: "not scanned" as const, why: "it does not scan on push and no registry scanning rule matches it" };
}

export const ecrImageScanning: ComplianceCheck = {
    name: "ecr-scan-on-push",
    control: CONTROLS["ECR.1"],
    description: "ECR repositories are scanned: scan on push, or a registry-level scanning rule (scan on push or continuous) that matches them.",
    severity: "high",
    remediation:
        "Set imageScanningConfiguration { scanOnPush: true } on the repository, or add a registry scanning rule " +
        "(aws.ecr.RegistryScanningConfiguration, scanFrequency SCAN_ON_PUSH or CONTINUOUS_SCAN) whose filter matches it.",
    types: [REPOSITORY_TYPE],
    reads: [REGISTRY_SCANNING_TYPE],
    scope: "stack",
    settings: {
        registryScanFilters: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [],
            description:
                "Repository filters (wildcards) of scanning rules (scan on push or continuous) in the account's registry " +
                "scanning configuration when it is managed outside this stack. The pack cannot see that configuration: a " +
                "repository scanned only by such a filter is reported as excepted, naming the filter, never as a pass.",
        },
    },
    judge: (resources, settings) => {
        const registry = resources.find((r) => r.type === REGISTRY_SCANNING_TYPE);
        return resources
            .filter((r) => r.type === REPOSITORY_TYPE)
            .map((repository) => {
                const result = scanning(repository, registry, settings.registryScanFilters as string[]);
                switch (result.state) {
                    case "unknown":
                        return unknown(repository, "its scanning configuration is not known yet; the update judges it");
                    case "scanned":
                        return pass(repository, `scanned by ${result.how}`);
                    case "declared":
                        return excepted(
                            repository,
                            `accepted exception (registryScanFilters): "${result.filter}" says a registry scanning rule managed ` +
                                `outside this stack scans it; the repository itself does not scan on push`,
                        );
                    case "not scanned":
                        return fail(repository, `Repository "${repository.name}" is not scanned: ${result.why}. Set imageScanningConfiguration { scanOnPush: true }, or add a registry scanning rule that matches it.`);
                }
            });
    },
};

/** The exclusion filters of an IMMUTABLE_WITH_EXCLUSION repository, or "unknown". */
function exclusionFilters(value: unknown): { filter: unknown; type: unknown }[] | "unknown" {
    if (isUnknown(value)) {
        return "unknown";
    }
    const list = (knownArray(value) ?? []).map((f) => ({ filter: at(f, "filter"), type: at(f, "filterType") }));
    return list.some((f) => isUnknown(f.filter) || isUnknown(f.type)) ? "unknown" : list;
}

/**
 * ECR.2 passes IMMUTABLE only. A repository whose tags are immutable except for exclusion filters
 * that are all accepted in `acceptedMutableTagFilters` is an accepted exception, reported as such.
 */
export const ecrTagImmutability: ComplianceCheck = {
    name: "ecr-tag-immutability",
    control: CONTROLS["ECR.2"],
    description:
        "ECR repositories have immutable tags (imageTagMutability IMMUTABLE). Movable tags a stack needs are an accepted " +
        "exception only when listed in acceptedMutableTagFilters.",
    severity: "medium",
    remediation:
        'Set imageTagMutability "IMMUTABLE". If some tags must move (this stack\'s latest* role tags), use ' +
        '"IMMUTABLE_WITH_EXCLUSION" with exactly those filters and list them in the policy\'s acceptedMutableTagFilters.',
    types: [REPOSITORY_TYPE],
    scope: "resource",
    settings: {
        acceptedMutableTagFilters: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: [],
            description:
                "Exclusion filters (WILDCARD) accepted as an exception to ECR.2: a repository whose only mutable tags match " +
                "these is reported as excepted, not passed.",
        },
    },
    judge: (resources, settings) =>
        resources.map((view) => {
            const accepted = settings.acceptedMutableTagFilters as string[];
            const mutability = view.props.imageTagMutability;
            if (isUnknown(mutability)) {
                return unknown(view, "imageTagMutability is not known yet; the update judges it");
            }
            if (mutability === "IMMUTABLE") {
                return pass(view);
            }
            if (mutability !== "IMMUTABLE_WITH_EXCLUSION") {
                return fail(view, `Repository "${view.name}" has mutable tags (imageTagMutability ${JSON.stringify(mutability ?? "MUTABLE")}). Set imageTagMutability "IMMUTABLE".`);
            }
            const filters = exclusionFilters(view.props.imageTagMutabilityExclusionFilters);
            if (filters === "unknown") {
                return unknown(view, "imageTagMutabilityExclusionFilters is not known yet; the update judges it");
            }
            const described = filters.map((f) => JSON.stringify(f.filter)).join(", ") || "(none)";
            const outside = filters.filter(
                (f) => typeof f.filter !== "string" || !accepted.includes(f.filter) || (f.type !== undefined && f.type !== "WILDCARD"),
            );
            if (filters.length > 0 && outside.length === 0) {
                return excepted(view, `accepted exception (acceptedMutableTagFilters): tags matching ${described} stay movable; every other tag is immutable`);
            }
            return fail(
                view,
                `Repository "${view.name}" is IMMUTABLE_WITH_EXCLUSION with movable tags ${described}, which ECR.2 does not pass` +
                    (accepted.length > 0 ? ` and ${outside.map((f) => JSON.stringify(f.filter)).join(", ")} is not in acceptedMutableTagFilters (${accepted.join(", ")})` : "") +
                    `. Set imageTagMutability "IMMUTABLE", or accept the filters in the policy's acceptedMutableTagFilters.`,
            );
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
        const byDependency = (policy.propertyDependencies?.repository ?? []).filter((urn) => repositories.some((r) => r.urn === urn));
        if (byName.length > 0) {
            byName.forEach((r) => covered.add(r.urn));
        } else if (byDependency.length > 0) {
            byDependency.forEach((urn) => covered.add(urn));
        } else if (target === undefined) {
            unattributed.push(policy);
        }
    }
    for (const policy of unattributed) {
        const uncovered = repositories.filter((r) => !covered.has(r.urn));
        const sibling = uncovered.find((r) => r.parent !== undefined && r.parent === policy.parent) ?? uncovered[0];
        if (sibling) {
            covered.add(sibling.urn);
        }
    }
    return repositories.filter((r) => !covered.has(r.urn));
}

export const ecrLifecyclePolicy: ComplianceCheck = {
    name: "ecr-lifecycle-policy",
    control: CONTROLS["ECR.3"],
    description: "Every ECR repository has a lifecycle policy with at least one rule.",
    severity: "medium",
    remediation: "Add an aws.ecr.LifecyclePolicy for the repository with at least one rule (for example, expire untagged images after 14 days).",
    types: [REPOSITORY_TYPE, LIFECYCLE_POLICY_TYPE],
    scope: "stack",
    judge: (resources) => {
        const uncovered = new Set(repositoriesWithoutLifecycle(resources).map((r) => r.urn));
        return resources.map((r) => {
            if (r.type === REPOSITORY_TYPE) {
                return uncovered.has(r.urn)
                    ? fail(r, `Repository "${r.name}" has no lifecycle policy. Add an aws.ecr.LifecyclePolicy for it (for example, expire untagged images after 14 days).`)
                    : pass(r);
            }
            const parsed = parseJsonDocument(r.props.policy);
            if (parsed.state === "unknown") {
                return unknown(r, "the lifecycle policy document is not known yet; the update judges it");
            }
            const rules = parsed.state === "known" ? knownArray(at(parsed.value, "rules")) : undefined;
            return rules && rules.length > 0 ? pass(r) : fail(r, `Lifecycle policy "${r.name}" has no rules. Give it at least one rule.`);
        });
    },
};

/** An AWS managed key (aws/ecr) is not a customer managed key. */
function isCustomerManagedKey(key: string): boolean {
    return key.trim() !== "" && !/alias\/aws\//.test(key);
}

export const ecrCustomerManagedKey: ComplianceCheck = {
    name: "ecr-customer-managed-kms-key",
    control: CONTROLS["ECR.5"],
    description: "ECR repositories are encrypted with a customer managed KMS key.",
    severity: "medium",
    remediation:
        'Create the repository with encryptionConfigurations [{ encryptionType: "KMS", kmsKey: <customer managed key ARN> }]. ' +
        "Encryption is fixed at creation: an existing repository must be recreated and its images copied.",
    types: [REPOSITORY_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const configs = view.props.encryptionConfigurations;
            if (isUnknown(configs)) {
                return unknown(view, "encryptionConfigurations is not known yet; the update judges it");
            }
            const first = (knownArray(configs) ?? [])[0];
            const type = at(first, "encryptionType");
            const key = at(first, "kmsKey");
            if (isUnknown(type) || isUnknown(key)) {
                return unknown(view, "the encryption configuration is not known yet; the update judges it");
            }
            // KMS_DSSE (dual-layer encryption with KMS) with a customer managed key meets ECR.5 as KMS does.
            if ((type === "KMS" || type === "KMS_DSSE") && typeof key === "string" && isCustomerManagedKey(key)) {
                return pass(view);
            }
            const now = isMissing(first) || type === "AES256" || isMissing(type) ? "AES256 (ECR's default)" : `${String(type)} with the AWS managed key aws/ecr`;
            return fail(view, `Repository "${view.name}" is encrypted with ${now}, not a customer managed KMS key. Recreate it with encryptionConfigurations [{ encryptionType: "KMS", kmsKey: <key ARN> }].`);
        }),
};

export const ecrChecks: ComplianceCheck[] = [ecrImageScanning, ecrTagImmutability, ecrLifecyclePolicy, ecrCustomerManagedKey];
