// IAM compliance policy: no statement grants every action on every resource.
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
/** Roles carry inline policies as `inlinePolicies: [{ name, policy }]`. */
export const ROLE_TYPE = "aws:iam/role:Role";

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

function documentsOf(view: ResourceView): { label: string; parsed: Parsed<unknown> }[] {
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
    description: 'IAM policies grant no "*" action on "*" resources.',
    severity: "critical",
    remediation:
        "Grant the actions the role needs on the resources it uses (the identity secret, the environment's queues, its log group), " +
        'never "Action": "*" on "Resource": "*".',
    types: [...POLICY_DOCUMENT_TYPES, ROLE_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const documents = documentsOf(view);
            const problems: string[] = [];
            let unknownSeen = false;
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
