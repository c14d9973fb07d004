// The compliance report as SARIF 2.1.0 (`npm run check -- --format sarif`), the format code
// scanning tools read: GitHub's upload-sarif action turns each result into an alert. One rule per
// policy of the pack, one result per failing or excepted verdict. An excepted verdict is a result
// with a suppression carrying the exception's reason, so an accepted deviation stays on record
// without raising an alert. Every result is located in the stack's file (`Pulumi.<stack>.yaml`,
// whose config the stack is judged with) and names the resource it is about by URN.
import type { PackInfo } from "./analyzer";
import type { ComplianceReport, ReportEntry } from "./report";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

type SarifLevel = "error" | "warning" | "note";

/** A mandatory policy stops the preview: an error; an advisory one warns. */
function levelOf(entry: Pick<ReportEntry, "level">): SarifLevel {
    return entry.level === "mandatory" ? "error" : "warning";
}

/** How policy/compliance.ts words the reason of an accepted exception, first among an excepted verdict's reasons. */
const EXCEPTION_PREFIX = "accepted exception: ";

/** The violation, and for an excepted verdict the reviewers' reason apart from it. */
function explain(entry: ReportEntry): { message: string; justification?: string } {
    const about = entry.resource ? `${entry.resource.name} (${entry.resource.type})` : "the stack";
    const exception = entry.reasons.find((r) => r.startsWith(EXCEPTION_PREFIX));
    const violations = entry.reasons.filter((r) => r !== exception);
    return {
        message: `${about}: ${violations.length > 0 ? violations.join(" ") : entry.verdict}`,
        justification: exception?.slice(EXCEPTION_PREFIX.length),
    };
}

export function toSarif(report: ComplianceReport, info: PackInfo): Record<string, unknown> {
    const stackFile = `Pulumi.${report.stack}.yaml`;
    const rules = info.policies.map((policy) => {
        const entry = report.results.find((r) => r.policy === policy.name);
        return {
            id: policy.name,
            name: policy.name,
            shortDescription: { text: policy.description },
            ...(policy.url ? { helpUri: policy.url } : {}),
            ...(policy.remediationSteps ? { help: { text: policy.remediationSteps } } : {}),
            defaultConfiguration: { level: entry ? levelOf(entry) : "warning" },
            properties: {
                tags: entry?.control ? [`${entry.standard} ${entry.control}`] : ["rollout gate"],
            },
        };
    });
    const results = report.results
        .filter((entry) => entry.verdict === "fail" || entry.verdict === "excepted")
        .map((entry) => {
            const { message, justification } = explain(entry);
            return {
                ruleId: entry.policy,
                ruleIndex: rules.findIndex((rule) => rule.id === entry.policy),
                level: levelOf(entry),
                message: { text: message },
                locations: [
                    {
                        physicalLocation: { artifactLocation: { uri: stackFile }, region: { startLine: 1 } },
                        logicalLocations: [
                            entry.resource
                                ? { name: entry.resource.name, fullyQualifiedName: entry.resource.urn, kind: "resource" }
                                : { name: report.stack, kind: "stack" },
                        ],
                    },
                ],
                // What identifies the finding from one run to the next: the policy and what it is about.
                partialFingerprints: { "cgapFinding/v1": `${entry.policy}:${entry.resource?.urn ?? report.stack}` },
                ...(entry.verdict === "excepted" ? { suppressions: [{ kind: "external", justification: justification ?? "accepted exception" }] } : {}),
            };
        });
    return {
        $schema: SCHEMA,
        version: "2.1.0",
        runs: [
            {
                tool: { driver: { name: info.name, version: info.version, rules } },
                // One category per stack and phase, so that uploads of several stacks do not close each other's alerts.
                automationDetails: { id: `cgap-check/${report.stack}/${report.phase}/` },
                results,
                ...provenanceOf(report),
            },
        ],
    };
}

/**
 * The run's invocation (its arguments, when, that it ran offline under placeholder account values)
 * (the policy config file and content hash are in its properties) and the commit it judged (versionControlProvenance), from the report's provenance. SARIF 2.1.0
 * §3.20 (invocation) and §3.23 (versionControlDetails: repositoryUri is required, so a checkout
 * without an https remote records the commit in the invocation's properties only).
 */
function provenanceOf(report: ComplianceReport): Record<string, unknown> {
    const p = report.provenance;
    if (!p) {
        return {};
    }
    const a = p.arguments;
    const args = [
        "--stack", a.stack,
        ...(a.rollout === null ? [] : ["--rollout", a.rollout]),
        ...a.targets.flatMap((t) => ["--target", t]),
        ...(a.update ? ["--update"] : []),
        "--format", "sarif",
    ];
    return {
        invocations: [
            {
                executionSuccessful: true,
                commandLine: `npm run check -- ${args.join(" ")}`,
                arguments: args,
                endTimeUtc: p.generatedAt,
                properties: { offline: p.offline, pack: p.pack, policyConfig: p.policyConfig, git: p.git, notApplicable: report.notApplicable ?? [] },
            },
        ],
        ...(p.git?.repositoryUri
            ? { versionControlProvenance: [{ repositoryUri: p.git.repositoryUri, revisionId: p.git.commit, properties: { dirty: p.git.dirty } }] }
            : {}),
    };
}
