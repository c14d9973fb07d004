// How a compliance policy is built: a pure judgement per resource (pass, fail, unknown or
// excepted, with the reasons), and a thin wrapper that turns the failures into violations citing
// the control. The offline report (ops/offline/report.ts) calls the same judgements to list every
// verdict, not only the failures a preview prints.
import {
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";

import { citation, Control } from "./controls";
import { forTypes, policyConfig, stackCheck } from "./guard";
import { ResourceView } from "./images";
import { globToRegExp, readStackIdentity, shortStackName } from "./stack";

export type Verdict = "pass" | "fail" | "unknown" | "excepted";

export interface Finding {
    resource: ResourceView;
    verdict: Verdict;
    /** fail: one line per root cause, each saying what to change; otherwise why (unknown, excepted). */
    reasons: string[];
}

/** A JSON-schema fragment for one policy setting, as the engine validates it (configSchema). */
export interface SettingSchema {
    type: "array" | "string" | "integer" | "boolean" | "object";
    items?: SettingSchema;
    enum?: readonly string[];
    minimum?: number;
    maximum?: number;
    maxItems?: number;
    uniqueItems?: boolean;
    minLength?: number;
    /** A JSON Schema (ECMA 262) pattern the text must contain; the engine checks it at Configure too. */
    pattern?: string;
    /** What `pattern` demands, in words, for the error message. */
    patternMeans?: string;
    properties?: Record<string, SettingSchema>;
    required?: readonly string[];
    additionalProperties?: boolean;
    default?: unknown;
    description?: string;
}

export interface ComplianceCheck {
    name: string;
    /** The control the policy mirrors; undefined for the pack's own rules (no control says it). */
    control?: Control;
    description: string;
    severity: "low" | "medium" | "high" | "critical";
    /** How to fix a violation: the policy's remediationSteps. */
    remediation: string;
    /** The resource types the policy judges. */
    types: readonly string[];
    /**
     * "resource": each resource is judged on its own inputs (Analyze). "stack": the judgement needs
     * other resources too (listeners of a load balancer, rules of a security group, account
     * settings), so it runs on every resource's outputs at the end (AnalyzeStack).
     */
    scope: "resource" | "stack";
    /** Further types a stack judgement reads without judging them. */
    reads?: readonly string[];
    /** The policy's own settings (besides `exceptions`, which every compliance policy takes). */
    settings?: Record<string, SettingSchema>;
    /** The judgement of the resources of `types` (plus those of `reads`, for a stack check). */
    judge(resources: readonly ResourceView[], settings: Record<string, unknown>): Finding[];
}

/** An accepted exception: one resource (by its exact name), optionally on some stacks only, and why. */
export interface Exception {
    resource: string;
    stack?: string;
    reason: string;
}

export const EXCEPTIONS_SCHEMA: SettingSchema = {
    type: "array",
    description:
        "Accepted exceptions: a failing resource named exactly `resource`, on a stack matching `stack` (a glob, default " +
        "every stack), is reported as excepted with `reason` instead of as a violation.",
    items: {
        type: "object",
        properties: {
            // Every resource of a stack is named `cgap-...`, so a pattern such as "cgap-*" or "*-*"
            // would except every failure of the control, including those of resources added later,
            // with nothing recording which were accepted. An exception names its resource exactly.
            resource: {
                type: "string",
                minLength: 1,
                pattern: "^[^*?]+$",
                patternMeans: "name one resource exactly, without * or ? (one exception per resource: it accepts what it names, not whatever a pattern matches later)",
            },
            stack: { type: "string", minLength: 1 },
            // A reason is the record a reviewer archives: " " or "-" says nothing, so it needs a word.
            reason: { type: "string", minLength: 1, pattern: "[A-Za-z]{3,}", patternMeans: "give the reason in words" },
        },
        required: ["resource", "reason"],
        additionalProperties: false,
    },
    default: [],
};

/** The config schema the engine validates and the CLI fills defaults from. */
export function configSchemaOf(check: ComplianceCheck): PolicyConfigSchema {
    return { properties: { ...(check.settings ?? {}), exceptions: EXCEPTIONS_SCHEMA } as PolicyConfigSchema["properties"] };
}

/** The problems of `value` against `schema`, each naming `path`; [] when it conforms. */
export function schemaProblems(path: string, value: unknown, schema: SettingSchema): string[] {
    const got = JSON.stringify(value);
    switch (schema.type) {
        case "array": {
            if (!Array.isArray(value)) {
                return [`${path} must be a list, got ${got}`];
            }
            if (schema.maxItems !== undefined && value.length > schema.maxItems) {
                return [`${path} must list at most ${schema.maxItems} items, got ${value.length}`];
            }
            if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
                return [`${path} must not list an item twice`];
            }
            return schema.items ? value.flatMap((item, i) => schemaProblems(`${path}[${i}]`, item, schema.items!)) : [];
        }
        case "string":
            if (typeof value !== "string") {
                return [`${path} must be text, got ${got}`];
            }
            if (schema.minLength !== undefined && value.length < schema.minLength) {
                return [`${path} must not be empty`];
            }
            if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
                return [`${path} must ${schema.patternMeans ?? `match ${schema.pattern}`}, got ${got}`];
            }
            if (schema.enum && !schema.enum.includes(value)) {
                return [`${path} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${got}`];
            }
            return [];
        case "integer":
            if (typeof value !== "number" || !Number.isInteger(value)) {
                return [`${path} must be a whole number, got ${got}`];
            }
            if (schema.minimum !== undefined && value < schema.minimum) {
                return [`${path} must be at least ${schema.minimum}, got ${got}`];
            }
            return schema.maximum !== undefined && value > schema.maximum ? [`${path} must be at most ${schema.maximum}, got ${got}`] : [];
        case "boolean":
            return typeof value === "boolean" ? [] : [`${path} must be true or false, got ${got}`];
        case "object": {
            if (value === null || typeof value !== "object" || Array.isArray(value)) {
                return [`${path} must be an object, got ${got}`];
            }
            const record = value as Record<string, unknown>;
            const problems: string[] = [];
            for (const key of schema.required ?? []) {
                if (record[key] === undefined) {
                    problems.push(`${path}.${key} is required`);
                }
            }
            for (const [key, item] of Object.entries(record)) {
                const property = schema.properties?.[key];
                if (property) {
                    problems.push(...schemaProblems(`${path}.${key}`, item, property));
                } else if (schema.additionalProperties === false) {
                    problems.push(`${path}.${key} is not a setting (settings: ${Object.keys(schema.properties ?? {}).join(", ")})`);
                }
            }
            return problems;
        }
    }
}

/** The settings with their defaults; throws on a value the schema refuses (the pack refuses it at Configure first). */
export function settingsOf(check: ComplianceCheck, config: Record<string, unknown>): Record<string, unknown> {
    const schema: SettingSchema = {
        type: "object",
        properties: { ...(check.settings ?? {}), exceptions: EXCEPTIONS_SCHEMA },
        additionalProperties: false,
    };
    const problems = schemaProblems(check.name, config, schema);
    if (problems.length > 0) {
        throw new Error(`policy config ${problems.join("; ")}`);
    }
    const defaults = Object.fromEntries(
        Object.entries(schema.properties ?? {}).flatMap(([k, s]) => (s.default === undefined ? [] : [[k, s.default]])),
    );
    return { ...defaults, ...config };
}

function appliesTo(exception: Exception, stack: string | undefined): boolean {
    return exception.stack === undefined || (stack !== undefined && globToRegExp(exception.stack).test(shortStackName(stack)));
}

/** An exception that accepts nothing on this stack: what it names is not judged here, or does not fail. */
export interface StaleException {
    exception: Exception;
    why: string;
}

/**
 * The findings with the accepted exceptions applied (a failure an exception names is "excepted",
 * its reason first; exceptions never touch a pass or an unknown), and the exceptions that apply to
 * this stack but accept nothing: kept silently, they would accept a failure nobody reviewed the day
 * a resource of that name fails for another reason.
 */
function applyExceptions(
    judged: readonly Finding[],
    exceptions: readonly Exception[],
    stack: string | undefined,
): { findings: Finding[]; stale: StaleException[] } {
    const here = exceptions.filter((e) => appliesTo(e, stack));
    const findings = judged.map((f): Finding => {
        const exception = f.verdict === "fail" ? here.find((e) => e.resource === f.resource.name) : undefined;
        return exception ? { resource: f.resource, verdict: "excepted", reasons: [`accepted exception: ${exception.reason}`, ...f.reasons] } : f;
    });
    const stale = here.flatMap((exception): StaleException[] => {
        const named = judged.filter((f) => f.resource.name === exception.resource);
        if (named.length === 0) {
            return [{ exception, why: `no resource named "${exception.resource}" is judged by this policy on this stack` }];
        }
        if (named.every((f) => f.verdict === "pass")) {
            return [{ exception, why: `"${exception.resource}" passes, so the exception accepts nothing` }];
        }
        return [];
    });
    return { findings, stale };
}

/** What the check judges, before exceptions: each resource alone (Analyze) or all together (AnalyzeStack). */
function judgeAll(check: ComplianceCheck, resources: readonly ResourceView[], settings: Record<string, unknown>): Finding[] {
    return check.scope === "resource" ? resources.flatMap((r) => check.judge([r], settings)) : check.judge(resources, settings);
}

/** The check's findings, with the accepted exceptions applied, and the exceptions that accept nothing. */
export function evaluateWithExceptions(
    check: ComplianceCheck,
    resources: readonly ResourceView[],
    config: Record<string, unknown>,
    stack: string | undefined,
): { findings: Finding[]; stale: StaleException[] } {
    const settings = settingsOf(check, config);
    const judged = judgeAll(check, resources, settings).filter((f) => check.types.includes(f.resource.type));
    return applyExceptions(judged, (settings.exceptions ?? []) as Exception[], stack);
}

/** The check's findings with the accepted exceptions applied. */
export function evaluate(
    check: ComplianceCheck,
    resources: readonly ResourceView[],
    config: Record<string, unknown>,
    stack: string | undefined,
): Finding[] {
    return evaluateWithExceptions(check, resources, config, stack).findings;
}

/** A violation's message: the citation, the problem, and where the control is documented. */
export function violationMessage(check: ComplianceCheck, reason: string): string {
    return check.control ? `${citation(check.control)} ${reason} (${check.control.url})` : reason;
}

function report(check: ComplianceCheck, findings: Finding[], reportViolation: ReportViolation, withUrn: boolean): void {
    for (const finding of findings) {
        if (finding.verdict === "fail") {
            for (const reason of finding.reasons) {
                reportViolation(violationMessage(check, reason), withUrn ? finding.resource.urn : undefined);
            }
        }
    }
}

/** The policy the pack serves for a check: advisory by default, citing its control. */
export function toPolicy(check: ComplianceCheck): ResourceValidationPolicy | StackValidationPolicy {
    const base = {
        name: check.name,
        description: check.description,
        enforcementLevel: "advisory" as const,
        severity: check.severity,
        remediationSteps: check.remediation,
        configSchema: configSchemaOf(check),
        ...(check.control
            ? {
                  url: check.control.url,
                  framework: {
                      name: check.control.standard === "FSBP" ? "AWS Foundational Security Best Practices" : check.control.standard,
                      version: check.control.standard === "FSBP" ? "1.0.0" : "",
                      reference: check.control.id,
                      specification: check.control.title,
                  },
              }
            : {}),
    };
    if (check.scope === "resource") {
        return {
            ...base,
            validateResource: forTypes(check.types, (view, args, reportViolation) => {
                const findings = evaluate(check, [view], policyConfig(args), readStackIdentity(new Map()).stackName);
                report(check, findings, reportViolation, false);
            }),
        };
    }
    return {
        ...base,
        validateStack: stackCheck({ types: [...check.types, ...(check.reads ?? [])] }, (resources, args, reportViolation) => {
            const findings = evaluate(check, resources, policyConfig(args), readStackIdentity(new Map()).stackName);
            report(check, findings, reportViolation, true);
        }),
    };
}

/** A finding for one resource. */
export function pass(resource: ResourceView, ...reasons: string[]): Finding {
    return { resource, verdict: "pass", reasons };
}
export function fail(resource: ResourceView, ...reasons: string[]): Finding {
    return { resource, verdict: "fail", reasons };
}
export function unknown(resource: ResourceView, why: string): Finding {
    return { resource, verdict: "unknown", reasons: [why] };
}
export function excepted(resource: ResourceView, why: string): Finding {
    return { resource, verdict: "excepted", reasons: [why] };
}

/** The worst of several verdicts on one resource: fail, then unknown, then excepted, then pass. */
export function combine(resource: ResourceView, findings: readonly Finding[]): Finding {
    for (const verdict of ["fail", "unknown", "excepted"] as const) {
        const matching = findings.filter((f) => f.verdict === verdict);
        if (matching.length > 0) {
            return { resource, verdict, reasons: matching.flatMap((f) => f.reasons) };
        }
    }
    return pass(resource, ...findings.flatMap((f) => f.reasons));
}
