// The compliance report of `npm run check -- --format json`: every policy's verdict on every
// resource it judges (pass, fail, unknown until the update, excepted, or the policy disabled),
// with the control it cites and the level it runs at, for a reviewer to archive.
//
// A preview only prints failures. The verdicts come from the same pure judgements the pack runs
// (policy/compliance.ts), applied to the same resources with the same policy config; the failures
// are then checked against the diagnostics the running pack returned, so the report can never say
// something the pack did not.
import { Diagnostic, EnforcementLevel, PackInfo, PolicyPackConfig, reconcilePolicyConfig, StackResource } from "./analyzer";
import { ComplianceCheck, evaluateWithExceptions, Finding, StaleException, Verdict } from "../../policy/compliance";
import { ResourceView } from "../../policy/images";
import { GATE_LEVELS } from "../../policy/gates";
import { complianceChecks } from "../../policy/policies";
import { productionReason, productionStacksFromConfig } from "../../policy/stack";
import type { NotApplicable, Provenance } from "./provenance";

/**
 * A policy's verdict: a judgement (pass, fail, unknown until the update, excepted), "disabled" when
 * the policy config turns it off, "notApplicable" for a production-only rule on a stack that is not
 * production (it judges nothing there, which is not a pass).
 */
export type ReportVerdict = Verdict | "disabled" | "notApplicable";

/**
 * The levels that stop a run. A violation at "remediate" is one no remediation fixed, and the engine
 * reports it as mandatory (pulumi/pulumi pkg/resource/deploy/step_generator.go: `if
 * d.EnforcementLevel == apitype.Remediate { d.EnforcementLevel = apitype.Mandatory }`).
 */
export function stopsTheRun(level: EnforcementLevel): boolean {
    return level === "mandatory" || level === "remediate";
}

/** An exception of the policy config that accepts nothing on this stack. */
export interface StaleExceptionEntry {
    policy: string;
    resource: string;
    stack: string | null;
    reason: string;
    why: string;
}

export interface ReportEntry {
    policy: string;
    /** The control the policy mirrors (e.g. "ECS.8"), null for the pack's own rules. */
    control: string | null;
    standard: string | null;
    controlTitle: string | null;
    controlUrl: string | null;
    level: EnforcementLevel;
    /** The resource judged; null for a verdict on the whole stack (the rollout gates, a disabled policy). */
    resource: { urn: string; type: string; name: string } | null;
    verdict: ReportVerdict;
    /** Why: the violations of a failure, the exception's reason, what is not known yet. */
    reasons: string[];
}

export interface ComplianceReport {
    stack: string;
    phase: "preview" | "update";
    pack: { name: string; version: string };
    /** The policy config file the verdicts and levels come from, or null for the pack's defaults. */
    policyConfig: string | null;
    /** The rollout gates and the one level each runs at: no policy config can change it (policy/gates.ts). */
    gates: Record<string, "mandatory">;
    /**
     * mandatoryFailures: failures at a level that stops the run (mandatory, or remediate).
     * mandatoryUnknown: verdicts of such policies not known until the update, which judges them.
     */
    summary: Record<ReportVerdict, number> & { mandatoryFailures: number; mandatoryUnknown: number; staleExceptions: number };
    results: ReportEntry[];
    /** Exceptions that apply to this stack but accept nothing: remove them, or they accept a future failure unreviewed. */
    staleExceptions: StaleExceptionEntry[];
    /** Where the verdicts come from (see ./provenance.ts); set by the check that ran them. */
    provenance?: Provenance;
    /** Controls with no resource in scope and parts the estate owns: judged nowhere in this report, on purpose. */
    notApplicable?: NotApplicable[];
}

function resourceOf(r: ResourceView): ReportEntry["resource"] {
    return { urn: r.urn, type: r.type, name: r.name };
}

/** The view a policy gets of a resource: its inputs in Analyze (resource checks), its outputs in AnalyzeStack. */
function viewOf(resource: StackResource, scope: ComplianceCheck["scope"]): ResourceView {
    return {
        type: resource.type,
        urn: resource.urn!,
        name: resource.name,
        props: scope === "resource" ? (resource.inputs ?? resource.props) : resource.props,
        parent: resource.parent,
        propertyDependencies: resource.propertyDependencies,
    };
}

function checkFindings(
    check: ComplianceCheck,
    resources: readonly StackResource[],
    properties: Record<string, unknown>,
    stack: string,
): { findings: Finding[]; stale: StaleException[] } {
    const types = [...check.types, ...(check.reads ?? [])];
    const views = resources.filter((r) => types.includes(r.type)).map((r) => viewOf(r, check.scope));
    return evaluateWithExceptions(check, views, properties, stack);
}

/** Why a production-only policy judges nothing on this stack, or undefined when it applies (or is no such policy). */
function notProduction(properties: Record<string, unknown>, stack: string, environment: string | undefined): string | undefined {
    if (!("productionStacks" in properties)) {
        return undefined;
    }
    const globs = productionStacksFromConfig(properties.productionStacks);
    if (productionReason({ stackName: stack, tags: new Map(), environment }, globs) !== undefined) {
        return undefined;
    }
    return (
        `stack "${stack}" is not production (its name matches none of ${globs.map((g) => JSON.stringify(g)).join(", ")}` +
        `${environment === undefined ? "" : ` and its cgap:environment is ${environment}`}), so this production-only policy judges nothing here`
    );
}

export interface ReportInput {
    stack: string;
    /** The stack's cgap:environment, which also makes a stack production (undefined when unset). */
    environment: string | undefined;
    preview: boolean;
    info: PackInfo;
    /** The policy config the pack was configured with, and the file it came from. */
    policyConfig: PolicyPackConfig;
    policyConfigFile: string | null;
    /** The resources the pack judged (with URNs), and what it answered. */
    resources: readonly StackResource[];
    diagnostics: readonly Diagnostic[];
}

export function buildReport(input: ReportInput): ComplianceReport {
    const reconciled = reconcilePolicyConfig(input.info, input.policyConfig);
    const results: ReportEntry[] = [];
    const staleExceptions: StaleExceptionEntry[] = [];
    const disagreements: string[] = [];
    for (const policy of input.info.policies) {
        const level = reconciled[policy.name].enforcementLevel;
        const check = complianceChecks.find((c) => c.name === policy.name);
        const control = {
            control: check?.control?.id ?? null,
            standard: check?.control?.standard ?? null,
            controlTitle: check?.control?.title ?? null,
            controlUrl: check?.control?.url ?? null,
        };
        const reported = input.diagnostics.filter((d) => d.policyName === policy.name);
        if (level === "disabled") {
            results.push({ policy: policy.name, ...control, level, resource: null, verdict: "disabled", reasons: ["the policy config disables it"] });
            continue;
        }
        if (!check) {
            // A rollout gate: one verdict on the whole stack, straight from the pack.
            const elsewhere = notProduction(reconciled[policy.name].properties, input.stack, input.environment);
            results.push({
                policy: policy.name,
                ...control,
                level,
                resource: null,
                verdict: reported.length > 0 ? "fail" : elsewhere !== undefined ? "notApplicable" : "pass",
                reasons: reported.length > 0 ? reported.map((d) => d.message) : elsewhere !== undefined ? [elsewhere] : [],
            });
            continue;
        }
        const { findings, stale } = checkFindings(check, input.resources, reconciled[policy.name].properties, input.stack);
        staleExceptions.push(
            ...stale.map((s) => ({ policy: policy.name, resource: s.exception.resource, stack: s.exception.stack ?? null, reason: s.exception.reason, why: s.why })),
        );
        const failing = new Set(findings.filter((f) => f.verdict === "fail").map((f) => f.resource.urn));
        const flagged = new Set(reported.map((d) => d.urn ?? ""));
        if (failing.size !== flagged.size || [...failing].some((urn) => !flagged.has(urn))) {
            disagreements.push(`${policy.name}: the judgement fails [${[...failing].join(", ")}], the pack reported [${[...flagged].join(", ")}]`);
        }
        for (const finding of findings) {
            results.push({
                policy: policy.name,
                ...control,
                level,
                resource: resourceOf(finding.resource),
                verdict: finding.verdict,
                reasons: finding.verdict === "fail" ? reported.filter((d) => d.urn === finding.resource.urn).map((d) => d.message) : finding.reasons,
            });
        }
    }
    if (disagreements.length > 0) {
        throw new Error(`the report disagrees with the policy pack (a defect in the pack or the report): ${disagreements.join("; ")}`);
    }
    const count = (verdict: ReportVerdict) => results.filter((r) => r.verdict === verdict).length;
    return {
        stack: input.stack,
        phase: input.preview ? "preview" : "update",
        pack: { name: input.info.name, version: input.info.version },
        policyConfig: input.policyConfigFile,
        gates: { ...GATE_LEVELS },
        summary: {
            pass: count("pass"),
            fail: count("fail"),
            unknown: count("unknown"),
            excepted: count("excepted"),
            disabled: count("disabled"),
            notApplicable: count("notApplicable"),
            mandatoryFailures: results.filter((r) => r.verdict === "fail" && stopsTheRun(r.level)).length,
            mandatoryUnknown: results.filter((r) => r.verdict === "unknown" && stopsTheRun(r.level)).length,
            staleExceptions: staleExceptions.length,
        },
        results,
        staleExceptions,
    };
}

/** One line per verdict that is not a pass, and per exception that accepts nothing, for the text output. */
export function summarizeReport(report: ComplianceReport): string[] {
    const s = report.summary;
    const lines = [
        `Compliance: ${s.pass} pass, ${s.fail} fail, ${s.excepted} excepted, ${s.unknown} unknown until the update, ` +
            `${s.notApplicable} not applicable, ${s.disabled} disabled (--format json lists every result).`,
    ];
    for (const r of report.results.filter((x) => x.verdict === "excepted")) {
        lines.push(`  excepted ${r.control ? `${r.standard} ${r.control}` : r.policy} ${r.resource?.name ?? "(stack)"}: ${r.reasons[0]}`);
    }
    for (const r of report.results.filter((x) => x.verdict === "disabled")) {
        lines.push(`  disabled ${r.control ? `${r.standard} ${r.control} (${r.policy})` : r.policy}: the policy config turns it off`);
    }
    for (const e of report.staleExceptions) {
        lines.push(
            `  stale exception ${e.policy} "${e.resource}"${e.stack === null ? "" : ` (stack ${e.stack})`}: ${e.why}; ` +
                `remove it from ${report.policyConfig ?? "the policy config"}${e.stack === null ? " or name the stacks it is for" : ""}.`,
        );
    }
    return lines;
}

/** What a PASS does not cover: the verdicts of run-stopping policies that only the update can give. */
export function unknownMandatoryNote(report: ComplianceReport): string | undefined {
    const unknown = report.results.filter((r) => r.verdict === "unknown" && stopsTheRun(r.level));
    if (unknown.length === 0) {
        return undefined;
    }
    const policies = [...new Set(unknown.map((r) => r.policy))];
    return (
        `${unknown.length} verdict${unknown.length === 1 ? "" : "s"} of mandatory policies (${policies.join(", ")}) ` +
        `${unknown.length === 1 ? "is" : "are"} not known until the update, which judges ${unknown.length === 1 ? "it" : "them"} and stops on a failure; ` +
        `this PASS does not cover ${unknown.length === 1 ? "it" : "them"}.`
    );
}
