// IAM policies: no statement grants every action on every resource.
//
// Security Hub's IAM.1 judges customer managed policies only (aws.iam.Policy): not inline policies,
// not roles, not AWS managed policies. The pack mirrors it as it is (iam-no-full-admin), and judges
// what IAM.1 leaves out under a rule of its own (iam-no-admin-grant, citing no control): an inline
// policy allowing "*" on "*", and an attachment of AWS's AdministratorAccess, which is that
// statement under another name and the way around IAM.1 a determined colleague would take.
import { ComplianceCheck, fail, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { ResourceView } from "./images";
import { at, isUnknown, knownArray, oneOrMany, parseJsonDocument, Parsed } from "./props";

/** Resources whose `policy` property is a policy document. */
export const POLICY_DOCUMENT_TYPES = [
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
];
/** Roles carry inline policies as `inlinePolicies: [{ name, policy }]`, and managed ones as `managedPolicyArns`. */
export const ROLE_TYPE = "aws:iam/role:Role";
/** Resources that attach one managed policy (`policyArn`) to a role, user or group. */
export const POLICY_ATTACHMENT_TYPES = [
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
];
/** Resources that attach a list of managed policies (`policyArns`), exclusively. */
export const POLICY_ATTACHMENTS_TYPES = [
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
];

/** AWS's managed AdministratorAccess, in any partition: `"Action": "*"` on `"Resource": "*"`. */
export function isAdministratorAccess(arn: unknown): boolean {
    return typeof arn === "string" && /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/.test(arn);
}

function isWildcard(value: unknown): boolean {
    return value === "*" || value === "*:*";
}

/**
 * The statements of a policy document that allow `*` on `*`. Statement, Action and Resource may
 * each be one value or a list; a statement whose Action or Resource is not known yet is skipped.
 */
export function fullAdminStatements(document: unknown): unknown[] {
    return oneOrMany(at(document, "Statement")).filter((statement) => {
        if (at(statement, "Effect") !== "Allow") {
            return false;
        }
        const actions = at(statement, "Action");
        const resources = at(statement, "Resource");
        if (isUnknown(actions) || isUnknown(resources)) {
            return false;
        }
        return oneOrMany(actions).some(isWildcard) && oneOrMany(resources).some((r) => r === "*");
    });
}

/** The managed policy ARNs a resource attaches, and whether any of them is not known yet. */
function attachedArns(view: ResourceView): { arns: unknown[]; unknown: boolean } {
    if (POLICY_ATTACHMENT_TYPES.includes(view.type)) {
        return { arns: [view.props.policyArn], unknown: isUnknown(view.props.policyArn) };
    }
    const list = view.type === ROLE_TYPE ? view.props.managedPolicyArns : POLICY_ATTACHMENTS_TYPES.includes(view.type) ? view.props.policyArns : [];
    if (isUnknown(list)) {
        return { arns: [], unknown: true };
    }
    const arns = knownArray(list) ?? [];
    return { arns, unknown: arns.some(isUnknown) };
}

function documentsOf(view: ResourceView): { label: string; parsed: Parsed<unknown> }[] {
    if (POLICY_ATTACHMENT_TYPES.includes(view.type) || POLICY_ATTACHMENTS_TYPES.includes(view.type)) {
        return [];
    }
    if (view.type === ROLE_TYPE) {
        return (knownArray(view.props.inlinePolicies) ?? []).map((inline, i) => ({
            label: `inline policy ${JSON.stringify(at(inline, "name") ?? `#${i + 1}`)} of role "${view.name}"`,
            parsed: parseJsonDocument(at(inline, "policy")),
        }));
    }
    return [{ label: `policy "${view.name}"`, parsed: parseJsonDocument(view.props.policy) }];
}

/**
 * The problems of a resource's own documents and attachments, and whether any of them is not known
 * yet. `adminPolicies` are the stack's customer managed policies that allow "*" on "*" (by ARN and
 * URN): attaching one is the same grant as attaching AWS's AdministratorAccess.
 */
function adminGrants(view: ResourceView, adminPolicies: readonly ResourceView[] = []): { problems: string[]; unknownSeen: boolean } {
    const problems: string[] = [];
    const attached = attachedArns(view);
    let unknownSeen = attached.unknown;
    if (attached.arns.some(isAdministratorAccess)) {
        problems.push(
            `"${view.name}" attaches AWS's AdministratorAccess policy, which allows every action ("*") on every ` +
                "resource (\"*\"). Attach a policy granting the actions the role needs on the resources it uses instead.",
        );
    }
    const dependedOn = new Set(Object.values(view.propertyDependencies ?? {}).flat());
    for (const policy of adminPolicies.filter((p) => attached.arns.includes(p.props.arn) || (attached.unknown && dependedOn.has(p.urn)))) {
        problems.push(
            `"${view.name}" attaches policy "${policy.name}", which allows every action ("*") on every resource ("*"). ` +
                "Attach a policy granting the actions the role needs on the resources it uses instead.",
        );
    }
    for (const { label, parsed } of documentsOf(view)) {
        if (parsed.state === "unknown") {
            unknownSeen = true;
        } else if (parsed.state === "invalid") {
            problems.push(`The ${label} is not valid JSON: ${parsed.error}.`);
        } else if (parsed.state === "known" && fullAdminStatements(parsed.value).length > 0) {
            problems.push(
                `The ${label} allows every action ("*") on every resource ("*"). Grant the actions the role needs on ` +
                    `the resources it uses (the identity secret, the environment's queues, its log group).`,
            );
        }
    }
    return { problems, unknownSeen };
}

function judgeAdminGrants(resources: readonly ResourceView[], adminPolicies: readonly ResourceView[] = []) {
    return resources.map((view) => {
        const { problems, unknownSeen } = adminGrants(view, adminPolicies);
        if (problems.length > 0) {
            return fail(view, ...problems);
        }
        return unknownSeen ? unknown(view, "a policy document is not known yet; the update judges it") : pass(view);
    });
}

const REMEDIATION =
    "Grant the actions the role needs on the resources it uses (the identity secret, the environment's queues, its log group), " +
    'never "Action": "*" on "Resource": "*".';

/** The customer managed policy type: what IAM.1 evaluates. */
export const MANAGED_POLICY_TYPE = "aws:iam/policy:Policy";
/** What can name a managed policy as its permissions boundary. */
const BOUNDED_TYPES = [ROLE_TYPE, "aws:iam/user:User"];

/**
 * The managed policies some role or user of the stack uses as its permissions boundary: by ARN, or
 * by the permissionsBoundary input's dependency on the policy while its ARN is not known yet.
 */
function boundaryPolicies(resources: readonly ResourceView[]): Set<string> {
    const policies = resources.filter((r) => r.type === MANAGED_POLICY_TYPE);
    const used = new Set<string>();
    for (const bounded of resources.filter((r) => BOUNDED_TYPES.includes(r.type))) {
        const arn = bounded.props.permissionsBoundary;
        for (const policy of policies) {
            if ((typeof arn === "string" && arn === policy.props.arn) || (bounded.propertyDependencies?.permissionsBoundary ?? []).includes(policy.urn)) {
                used.add(policy.urn);
            }
        }
    }
    return used;
}

/**
 * IAM.1 as Security Hub runs it (https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-1):
 * the default version of each customer managed policy, with `excludePermissionBoundaryPolicy: true`
 * (not customizable): a policy used as a permissions boundary limits what others grant, so one that
 * allows "*" on "*" is excluded, not failed.
 */
export const iamNoFullAdmin: ComplianceCheck = {
    name: "iam-no-full-admin",
    control: CONTROLS["IAM.1"],
    description: 'Customer managed IAM policies grant no "*" action on "*" resources (a policy used as a permissions boundary is excluded, as IAM.1 excludes it).',
    severity: "high",
    remediation: REMEDIATION,
    types: [MANAGED_POLICY_TYPE],
    reads: BOUNDED_TYPES,
    scope: "stack",
    judge: (resources) => {
        const boundaries = boundaryPolicies(resources);
        const policies = resources.filter((r) => r.type === MANAGED_POLICY_TYPE);
        return judgeAdminGrants(policies).map((finding) =>
            finding.verdict === "fail" && boundaries.has(finding.resource.urn)
                ? pass(finding.resource, "used as a permissions boundary, which IAM.1 excludes (excludePermissionBoundaryPolicy: true)")
                : finding,
        );
    },
};

/** The project's own rule: what IAM.1 does not look at, where the same grant hides. */
export const iamNoAdminGrant: ComplianceCheck = {
    name: "iam-no-admin-grant",
    description:
        'No inline policy (of a role, user or group) grants "*" on "*", and nothing attaches AWS\'s AdministratorAccess or a ' +
        'policy of the stack that grants "*" on "*". The project\'s own rule: IAM.1 judges customer managed policies only.',
    severity: "critical",
    remediation: REMEDIATION,
    types: POLICY_DOCUMENT_TYPES.filter((t) => t !== MANAGED_POLICY_TYPE).concat(ROLE_TYPE, ...POLICY_ATTACHMENT_TYPES, ...POLICY_ATTACHMENTS_TYPES),
    // The stack's own customer managed policies: attaching one that allows "*" on "*" is the grant
    // IAM.1 would not see when that policy is also some role's permissions boundary.
    reads: [MANAGED_POLICY_TYPE],
    scope: "stack",
    judge: (resources) => {
        const policies = resources.filter((r) => r.type === MANAGED_POLICY_TYPE);
        const adminPolicies = judgeAdminGrants(policies)
            .filter((f) => f.verdict === "fail")
            .map((f) => f.resource);
        return judgeAdminGrants(
            resources.filter((r) => r.type !== MANAGED_POLICY_TYPE),
            adminPolicies,
        );
    },
};

export const iamChecks: ComplianceCheck[] = [iamNoFullAdmin, iamNoAdminGrant];
