// The compliance report as SARIF 2.1.0 (`npm run check -- --format sarif`), the format code
// scanning tools read. One rule per policy of the pack; one result per verdict that needs a reader:
// a failure, an accepted exception (suppressed, with the reviewers' reason and where the exception
// is written), a verdict not known until the update, an exception that accepts nothing (stale,
// at its entry in the policy config). Each result is located
// where the program declares the resource (its constructor call, `components/*.ts` or `index.ts`),
// else in the stack's file (`Pulumi.<stack>.yaml`), and names its resource by URN.
//
// What GitHub code scanning does with it (github/docs, content/code-security/code-scanning/
// integrating-with-code-scanning/sarif-support-for-code-scanning.md, "Supported SARIF output file
// properties"): it "will only use" the properties it lists, and lists neither `result.kind` nor
// `result.suppressions`; every uploaded result becomes an alert (github/codeql-action#1230:
// suppressed results are ingested as open alerts). So a pass or a not-applicable control is never
// a result here, whatever its `kind` would say: it would be a false alert. They are kept in the
// run's properties instead (passes, and the invocation's notApplicable). An accepted exception,
// and a preview's open verdict, do raise alerts there: upload the `--update` run, which has no open
// verdict, and dismiss an accepted exception once (GitHub matches alerts across runs by their line).
// Relative URIs are read "as relative to the root of the repository analyzed" (same page,
// "Specifying the root for source files"): the project's root is the repository's.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { PackInfo, SourceLocation, StackResource } from "./analyzer";
import type { ComplianceReport, ReportEntry } from "./report";
import { PROJECT_DIR } from "../project";
import { globToRegExp } from "../../policy/stack";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** The base every artifact URI is relative to (SARIF §3.4.4, §3.14.14): the project's (and its repository's) root. */
export const PROJECT_ROOT = "PROJECTROOT";

type SarifLevel = "error" | "warning" | "note" | "none";
/** SARIF §3.27.9. */
type SarifKind = "fail" | "open" | "review" | "pass" | "notApplicable" | "informational";

/**
 * A policy that stops the run is an error, an advisory one warns. "remediate" stops it too: a
 * violation no remediation fixed is reported as mandatory (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go turns Remediate into Mandatory).
 */
function levelOf(level: string): SarifLevel {
    return level === "mandatory" || level === "remediate" ? "error" : "warning";
}

/** What becomes of a report verdict in SARIF: a result of some kind, or a line in the run's properties. */
export type Disposition = { result: { kind: SarifKind; level: SarifLevel } } | { listed: "passes" | "notApplicable" | "disabled" };

/**
 * Every verdict the report can give, and what SARIF makes of it (§3.27.9 kind). Total: a verdict
 * this table does not know yet is a result of kind "review" (a human has to decide whether it is a
 * problem), so a new verdict shows up rather than vanishing. §3.27.10: a kind other than "fail"
 * has level "none". A disabled policy is no result: the spec has a rule's configuration say it
 * (§3.50 reportingConfiguration `enabled`), and as the policy config disables it for this run,
 * not the pack, it is the invocation's override (§3.20.5), the rule's default staying the pack's.
 */
export function dispositionOf(entry: Pick<ReportEntry, "verdict" | "level">): Disposition {
    const verdict: string = entry.verdict;
    switch (verdict) {
        case "fail":
        case "excepted":
            return { result: { kind: "fail", level: levelOf(entry.level) } };
        case "unknown":
            // Not known until the update: open, too little information yet to decide whether there is a problem.
            return { result: { kind: "open", level: "none" } };
        case "pass":
            return { listed: "passes" };
        case "notApplicable":
            return { listed: "notApplicable" };
        case "disabled":
            // Configuration, not a finding: the invocation's ruleConfigurationOverrides say it (see toSarif).
            return { listed: "disabled" };
        default:
            return { result: { kind: "review", level: "none" } };
    }
}

/**
 * How the pack words the reason of an accepted deviation, first among an excepted verdict's
 * reasons: `accepted exception: <reason>` for an entry of the policy's `exceptions`, `accepted
 * exception (<setting>): <what it lets through>` for a setting that widens the control.
 */
const EXCEPTION_REASON = /^accepted exception(?: \(([\w-]+)\))?: /;

/** The violation; for an excepted verdict, the reviewers' reason apart from it, and the setting it comes from. */
function explain(entry: ReportEntry, known: boolean): { message: string; justification?: string; setting?: string } {
    const about = entry.resource ? `${entry.resource.name} (${entry.resource.type})` : "the stack";
    const exception = entry.reasons.find((r) => EXCEPTION_REASON.test(r));
    const violations = entry.reasons.filter((r) => r !== exception);
    const verdict = known ? "" : `verdict "${entry.verdict}": `;
    const prefix = exception === undefined ? undefined : EXCEPTION_REASON.exec(exception)!;
    return {
        message: `${about}: ${verdict}${violations.length > 0 ? violations.join(" ") : entry.verdict}`,
        justification: prefix ? exception!.slice(prefix[0].length) : undefined,
        setting: prefix?.[1],
    };
}

/** An exception entry of the policy config file, with the line it starts on. */
interface WrittenException {
    policy: string;
    resource: string;
    stack?: string;
    reason: string;
    line: number;
    column: number;
}

/** A setting of a policy in the policy config file, with the line its key is on. */
interface WrittenSetting {
    policy: string;
    setting: string;
    line: number;
    column: number;
}

/**
 * A policy config file (JSON, as check's --policy-config reads it; parsed as YAML, of which JSON is
 * a subset, for the positions JSON.parse does not give): each policy's settings and exceptions,
 * with where each starts. A file that cannot be read or parsed has none: the check refused it
 * before the report was made.
 */
function writtenConfig(file: string): { exceptions: WrittenException[]; settings: WrittenSetting[] } {
    const found = { exceptions: [] as WrittenException[], settings: [] as WrittenSetting[] };
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return found;
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    if (doc.errors.length > 0 || !isMap(doc.contents)) {
        return found;
    }
    for (const pair of doc.contents.items) {
        if (!isScalar(pair.key) || !isMap(pair.value)) {
            continue;
        }
        const policy = String(pair.key.value);
        for (const setting of pair.value.items) {
            if (isScalar(setting.key) && setting.key.range) {
                const { line, col } = lines.linePos(setting.key.range[0]);
                found.settings.push({ policy, setting: String(setting.key.value), line, column: col });
            }
        }
        const exceptions = pair.value.get("exceptions", true);
        if (!isSeq(exceptions)) {
            continue;
        }
        for (const item of exceptions.items) {
            if (!isMap(item) || !item.range) {
                continue;
            }
            const value = item.toJSON() as Record<string, unknown>;
            if (typeof value.resource !== "string" || typeof value.reason !== "string") {
                continue;
            }
            const { line, col } = lines.linePos(item.range[0]);
            found.exceptions.push({
                policy,
                resource: value.resource,
                ...(typeof value.stack === "string" ? { stack: value.stack } : {}),
                reason: value.reason,
                line,
                column: col,
            });
        }
    }
    return found;
}

/** The exceptions of a policy config file, each with the line and column its entry starts at. */
export function writtenExceptions(file: string): WrittenException[] {
    return writtenConfig(file).exceptions;
}

/**
 * The exception an entry's verdict came from: of its policy, naming its reason, and (as
 * policy/compliance.ts picks it) the first whose resource and stack patterns match.
 */
function exceptionOf(entry: ReportEntry, stack: string, written: readonly WrittenException[]): WrittenException | undefined {
    return written.find(
        (e) =>
            e.policy === entry.policy &&
            entry.reasons.some((r) => r.includes(e.reason)) &&
            (entry.resource === null || globToRegExp(e.resource).test(entry.resource.name)) &&
            (e.stack === undefined || globToRegExp(e.stack).test(stack)),
    );
}

function physical(location: SourceLocation): Record<string, unknown> {
    return {
        artifactLocation: { uri: location.file, uriBaseId: PROJECT_ROOT },
        region: { startLine: location.line, ...(location.column ? { startColumn: location.column } : {}) },
    };
}

/** A file of the project as a location: its path from the project's root, or none for a file outside it (no machine path in the log). */
function inProject(file: string, line: number, column?: number): SourceLocation | undefined {
    const relative = path.relative(PROJECT_DIR, path.resolve(file));
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
        return undefined;
    }
    return { file: relative.split(path.sep).join("/"), line, ...(column ? { column } : {}) };
}

export interface SarifSources {
    /**
     * The resources the pack judged, with where the program declares each (StackResource.location);
     * a result about a resource found here is located at its constructor call.
     */
    resources?: readonly Pick<StackResource, "urn" | "location">[];
}

export function toSarif(report: ComplianceReport, info: PackInfo, sources: SarifSources = {}): Record<string, unknown> {
    const stackFile: SourceLocation = { file: `Pulumi.${report.stack}.yaml`, line: 1 };
    const declared = new Map((sources.resources ?? []).filter((r) => r.urn && r.location).map((r) => [r.urn!, r.location!]));
    // report.ts may carry the location on the report's own resource; read it if it does.
    const locationOf = (entry: ReportEntry): SourceLocation | undefined =>
        entry.resource ? (declared.get(entry.resource.urn) ?? (entry.resource as { location?: SourceLocation }).location) : undefined;
    // The policy config file is named relative to the directory the check ran in (check.ts).
    const configFile = report.policyConfig === null ? null : path.resolve(report.policyConfig);
    const written = configFile === null ? { exceptions: [], settings: [] } : writtenConfig(configFile);

    const rules = info.policies.map((policy) => ({
        id: policy.name,
        name: policy.name,
        shortDescription: { text: policy.description },
        ...(policy.url ? { helpUri: policy.url } : {}),
        ...(policy.remediationSteps ? { help: { text: policy.remediationSteps } } : {}),
        // The pack's own default for the policy (§3.49.14); this run's policy config is the invocation's override.
        defaultConfiguration: policy.enforcementLevel === "disabled" ? { enabled: false } : { level: levelOf(policy.enforcementLevel) },
        properties: { tags: tagsOf(report.results.find((r) => r.policy === policy.name)) },
    }));
    const ruleIndex = (policy: string) => rules.findIndex((rule) => rule.id === policy);

    const listed: Record<"passes" | "notApplicable" | "disabled", ReportEntry[]> = { passes: [], notApplicable: [], disabled: [] };
    const results: Record<string, unknown>[] = [];
    for (const entry of report.results) {
        const disposition = dispositionOf(entry);
        if ("listed" in disposition) {
            listed[disposition.listed].push(entry);
            continue;
        }
        const { kind, level } = disposition.result;
        const { message, justification, setting } = explain(entry, kindKnows(entry.verdict));
        // Where the deviation is accepted: the exception's entry, or the widening setting's key.
        const accepted = setting
            ? written.settings.find((s) => s.policy === entry.policy && s.setting === setting)
            : exceptionOf(entry, report.stack, written.exceptions);
        const exceptionAt = accepted && configFile ? inProject(configFile, accepted.line, accepted.column) : undefined;
        const primary = locationOf(entry) ?? (entry.resource === null && exceptionAt ? exceptionAt : stackFile);
        results.push({
            ruleId: entry.policy,
            ...(ruleIndex(entry.policy) >= 0 ? { ruleIndex: ruleIndex(entry.policy) } : {}),
            kind,
            level,
            message: { text: message },
            locations: [
                {
                    physicalLocation: physical(primary),
                    logicalLocations: [
                        entry.resource
                            ? { name: entry.resource.name, fullyQualifiedName: entry.resource.urn, kind: "resource" }
                            : { name: report.stack, kind: "stack" },
                    ],
                },
            ],
            partialFingerprints: fingerprintsOf(`${entry.policy}:${entry.resource?.urn ?? report.stack}`),
            ...(exceptionAt && primary !== exceptionAt
                ? { relatedLocations: [{ id: 1, physicalLocation: physical(exceptionAt), message: { text: "the accepted exception, in the policy config" } }] }
                : {}),
            ...(entry.verdict === "excepted"
                ? {
                      suppressions: [
                          {
                              kind: "external",
                              status: "accepted",
                              justification: justification ?? "accepted exception",
                              // §3.35.5: where the suppression is persisted, the exception's entry.
                              ...(exceptionAt ? { location: { physicalLocation: physical(exceptionAt) } } : {}),
                          },
                      ],
                  }
                : {}),
        });
    }
    results.push(...staleResults(report, written.exceptions, configFile, stackFile, ruleIndex));
    return {
        $schema: SCHEMA,
        version: "2.1.0",
        runs: [
            {
                tool: { driver: { name: info.name, version: info.version, rules } },
                // One category per stack and phase, so that uploads of several stacks do not close each other's alerts.
                automationDetails: { id: `cgap-check/${report.stack}/${report.phase}/` },
                originalUriBaseIds: {
                    [PROJECT_ROOT]: { description: { text: "The root of the repository: the Pulumi project's directory, holding Pulumi.yaml and the stack files." } },
                },
                results,
                invocations: [invocationOf(report, info, listed)],
                ...versionControlOf(report),
                properties: {
                    summary: report.summary,
                    // The passes, which a result would turn into alerts (see the top of this file).
                    passes: listed.passes.map((e) => ({ ruleId: e.policy, resource: e.resource?.urn ?? report.stack })),
                },
            },
        ],
    };
}

/**
 * What identifies a finding from one run to the next: the policy and what it is about, not the
 * line. GitHub "only uses the primaryLocationLineHash" of partialFingerprints and computes it from
 * the located line when it is missing (sarif-support-for-code-scanning.md, `result` object); the
 * four task definitions (or services) one loop declares share that line, and would share one alert
 * (same rule and location: toshtag/fairux-linter docs/sarif-upload-canary.md, v2 stage D). So it is
 * given here, in its `<hex>:<occurrence>` form, from the policy and the URN; a moved line keeps it.
 */
function fingerprintsOf(finding: string): Record<string, string> {
    return { "cgapFinding/v1": finding, primaryLocationLineHash: `${createHash("sha256").update(finding).digest("hex").slice(0, 16)}:1` };
}

/** An exception of the policy config that accepts nothing on this stack, as the report lists it. */
interface StaleException {
    policy: string;
    resource: string;
    stack: string | null;
    reason: string;
    why: string;
}

/**
 * Each exception that accepts nothing (the report's `staleExceptions`, where the report carries
 * them): a problem of the policy config, not of a resource, so a note (kind fail) at the
 * exception's own entry, to be removed or corrected there.
 */
function staleResults(
    report: ComplianceReport,
    written: readonly WrittenException[],
    configFile: string | null,
    stackFile: SourceLocation,
    ruleIndex: (policy: string) => number,
): Record<string, unknown>[] {
    const stale = (report as { staleExceptions?: StaleException[] }).staleExceptions ?? [];
    return stale.map((e) => {
        const entry = written.find((w) => w.policy === e.policy && w.resource === e.resource && w.reason === e.reason && (w.stack ?? null) === e.stack);
        const at = (entry && configFile ? inProject(configFile, entry.line, entry.column) : undefined) ?? stackFile;
        return {
            ruleId: e.policy,
            ...(ruleIndex(e.policy) >= 0 ? { ruleIndex: ruleIndex(e.policy) } : {}),
            kind: "fail",
            level: "note",
            message: { text: `stale exception for "${e.resource}"${e.stack === null ? "" : ` (stack ${e.stack})`}: ${e.why}. Remove it from the policy config, or name the resource it was meant for.` },
            locations: [{ physicalLocation: physical(at), logicalLocations: [{ name: report.stack, kind: "stack" }] }],
            partialFingerprints: fingerprintsOf(`${e.policy}:stale:${e.resource}:${e.stack ?? "*"}`),
        };
    });
}

/** The verdicts dispositionOf maps by name; any other is shown with its name in the message. */
function kindKnows(verdict: string): boolean {
    return ["fail", "excepted", "unknown"].includes(verdict);
}

function tagsOf(entry: ReportEntry | undefined): string[] {
    return entry?.control ? [`${entry.standard} ${entry.control}`] : ["rollout gate"];
}

/**
 * The run's invocation: how this run's policy config set each policy against the pack's default
 * (§3.20.5 ruleConfigurationOverrides: a disabled policy is `enabled: false`, a level changed is
 * its level), and, from the report's provenance, its arguments, when, that it ran offline under
 * placeholder account values, the policy config file and content hash (§3.20).
 */
function invocationOf(report: ComplianceReport, info: PackInfo, listed: Record<"passes" | "notApplicable" | "disabled", ReportEntry[]>): Record<string, unknown> {
    // The level each policy ran at (one per policy: the report's entries of a policy share it), against the pack's default.
    const configured = new Map(report.results.map((entry) => [entry.policy, entry.level as string]));
    const overrides = info.policies.flatMap((policy, index) => {
        const level = configured.get(policy.name);
        if (level === undefined || level === policy.enforcementLevel || (level !== "disabled" && policy.enforcementLevel !== "disabled" && levelOf(level) === levelOf(policy.enforcementLevel))) {
            return [];
        }
        return [{ descriptor: { id: policy.name, index }, configuration: level === "disabled" ? { enabled: false } : { enabled: true, level: levelOf(level) } }];
    });
    const p = report.provenance;
    const args = p
        ? [
              "--stack", p.arguments.stack,
              ...(p.arguments.rollout === null ? [] : ["--rollout", p.arguments.rollout]),
              ...p.arguments.targets.flatMap((t) => ["--target", t]),
              ...(p.arguments.update ? ["--update"] : []),
              "--format", "sarif",
          ]
        : undefined;
    return {
        executionSuccessful: true,
        ...(args ? { commandLine: `npm run check -- ${args.join(" ")}`, arguments: args, endTimeUtc: p!.generatedAt } : {}),
        ruleConfigurationOverrides: overrides,
        properties: {
            ...(p ? { offline: p.offline, pack: p.pack, policyConfig: p.policyConfig, git: p.git } : { policyConfig: { file: report.policyConfig } }),
            disabled: listed.disabled.map((e) => e.policy),
            // Controls with no resource in scope and parts the estate owns, then verdicts of "not applicable".
            notApplicable: [
                ...(report.notApplicable ?? []),
                ...listed.notApplicable.map((e) => ({ subject: e.policy, control: e.control, resource: e.resource?.urn ?? null, reason: e.reasons.join(" ") })),
            ],
        },
    };
}

/**
 * The commit judged (§3.23 versionControlDetails; repositoryUri is required, so a checkout without
 * an https remote records the commit in the invocation's properties only), with the repository's
 * root mapped to the base the locations are relative to (§3.23.7 mappedTo).
 */
function versionControlOf(report: ComplianceReport): Record<string, unknown> {
    const git = report.provenance?.git;
    return git?.repositoryUri
        ? { versionControlProvenance: [{ repositoryUri: git.repositoryUri, revisionId: git.commit, mappedTo: { uriBaseId: PROJECT_ROOT }, properties: { dirty: git.dirty } }] }
        : {};
}
