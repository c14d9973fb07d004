// IAM compliance policy: no statement grants every action on every resource, and no resource
// attaches AWS's AdministratorAccess, which is that statement under another name. Security Hub's
// IAM.1 looks at customer managed policies only; attaching the AWS managed one is the way around it
// a determined colleague would take, so the pack judges it under the same policy.
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

export const iamNoFullAdmin: ComplianceCheck = {
    name: "iam-no-full-admin",
    control: CONTROLS["IAM.1"],
    description: 'IAM policies grant no "*" action on "*" resources, and nothing attaches AWS\'s AdministratorAccess.',
    severity: "critical",
    remediation:
        "Grant the actions the role needs on the resources it uses (the identity secret, the environment's queues, its log group), " +
        'never "Action": "*" on "Resource": "*".',
    types: [...POLICY_DOCUMENT_TYPES, ROLE_TYPE, ...POLICY_ATTACHMENT_TYPES, ...POLICY_ATTACHMENTS_TYPES],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const documents = documentsOf(view);
            const problems: string[] = [];
            const attached = attachedArns(view);
            let unknownSeen = attached.unknown;
            if (attached.arns.some(isAdministratorAccess)) {
                problems.push(
                    `"${view.name}" attaches AWS's AdministratorAccess policy, which allows every action ("*") on every ` +
                        "resource (\"*\"). Attach a policy granting the actions the role needs on the resources it uses instead.",
                );
            }
            for (const { label, parsed } of documents) {
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
            if (problems.length > 0) {
                return fail(view, ...problems);
            }
            return unknownSeen ? unknown(view, "a policy document is not known yet; the update judges it") : pass(view);
        }),
};

export const iamChecks: ComplianceCheck[] = [iamNoFullAdmin];
