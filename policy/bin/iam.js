"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.iamPolicies = exports.iamNoFullAdmin = exports.ROLE_TYPE = exports.POLICY_DOCUMENT_TYPES = void 0;
exports.fullAdminStatements = fullAdminStatements;
const guard_1 = require("./guard");
const props_1 = require("./props");
/** Resources whose `policy` property is a policy document. */
exports.POLICY_DOCUMENT_TYPES = [
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
];
/** Roles carry inline policies as `inlinePolicies: [{ name, policy }]`. */
exports.ROLE_TYPE = "aws:iam/role:Role";
function isWildcard(value) {
    return value === "*" || value === "*:*";
}
/**
 * The statements of a policy document that allow `*` on `*`. Statement, Action and Resource may
 * each be one value or a list; a statement whose Action or Resource is not known yet is skipped.
 */
function fullAdminStatements(document) {
    return (0, props_1.oneOrMany)((0, props_1.at)(document, "Statement")).filter((statement) => {
        if ((0, props_1.at)(statement, "Effect") !== "Allow") {
            return false;
        }
        const actions = (0, props_1.at)(statement, "Action");
        const resources = (0, props_1.at)(statement, "Resource");
        if ((0, props_1.isUnknown)(actions) || (0, props_1.isUnknown)(resources)) {
            return false;
        }
        return (0, props_1.oneOrMany)(actions).some(isWildcard) && (0, props_1.oneOrMany)(resources).some((r) => r === "*");
    });
}
function documentsOf(view) {
    if (view.type === exports.ROLE_TYPE) {
        return ((0, props_1.knownArray)(view.props.inlinePolicies) ?? []).map((inline, i) => ({
            label: `inline policy ${JSON.stringify((0, props_1.at)(inline, "name") ?? `#${i + 1}`)} of role "${view.name}"`,
            parsed: (0, props_1.parseJsonDocument)((0, props_1.at)(inline, "policy")),
        }));
    }
    return [{ label: `policy "${view.name}"`, parsed: (0, props_1.parseJsonDocument)(view.props.policy) }];
}
exports.iamNoFullAdmin = {
    name: "iam-no-full-admin",
    description: 'IAM policies grant no "*" action on "*" resources.',
    enforcementLevel: "advisory",
    severity: "critical",
    framework: (0, guard_1.fsbp)("IAM.1", 'IAM policies should not allow full "*" administrative privileges'),
    url: (0, guard_1.fsbpUrl)("IAM.1"),
    validateResource: (0, guard_1.forTypes)([...exports.POLICY_DOCUMENT_TYPES, exports.ROLE_TYPE], (view, _args, report) => {
        for (const { label, parsed } of documentsOf(view)) {
            if (parsed.state === "invalid") {
                report(`The ${label} is not valid JSON: ${parsed.error}.`);
            }
            else if (parsed.state === "known" && fullAdminStatements(parsed.value).length > 0) {
                report(`The ${label} allows every action ("*") on every resource ("*"). Grant the actions the role ` +
                    `needs on the resources it uses (the identity secret, the environment's queues, its log group).`);
            }
        }
    }),
};
exports.iamPolicies = [exports.iamNoFullAdmin];
