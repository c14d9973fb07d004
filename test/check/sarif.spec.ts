// The SARIF of the compliance report, made as the check makes it: the real program under mocks
// (which records where each resource is declared), the real pack through its analyzer protocol,
// the report, then SARIF with the judged resources. Each log is validated against SARIF 2.1.0, and
// its locations are read back in the files they name.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PackInfo, PolicyPackConfig, StackResource } from "../../ops/offline/analyzer";
import { DEFAULT_POLICY_CONFIG, readPolicyConfig } from "../../ops/offline/check";
import { analyzerResources } from "../../ops/offline/plan";
import { locationOf, placeholderRegistry, readStackConfig, repositoryLocation, runProgram } from "../../ops/offline/program";
import { buildReport, ComplianceReport, ReportEntry } from "../../ops/offline/report";
import { dispositionOf, PROJECT_ROOT, toSarif, writtenExceptions } from "../../ops/offline/sarif";
import { PROJECT_DIR } from "../../ops/project";
import { sharedPack } from "../policy/packs";
import { validateSarif } from "./sarifSchema";

const CONFIG_FILE = path.relative(process.cwd(), DEFAULT_POLICY_CONFIG);

interface Judged {
    report: ComplianceReport;
    info: PackInfo;
    resources: StackResource[];
    log: SarifLog;
}

interface SarifLocation {
    physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } };
    logicalLocations?: { name: string; fullyQualifiedName?: string; kind: string }[];
}

interface SarifResult {
    ruleId: string;
    ruleIndex?: number;
    kind: string;
    level: string;
    message: { text: string };
    locations: SarifLocation[];
    relatedLocations?: SarifLocation[];
    suppressions?: { kind: string; status?: string; justification?: string; location?: SarifLocation }[];
}

interface SarifLog {
    runs: {
        tool: { driver: { rules: { id: string; defaultConfiguration: { level?: string; enabled?: boolean } }[] } };
        originalUriBaseIds: Record<string, unknown>;
        results: SarifResult[];
        invocations: { ruleConfigurationOverrides: { descriptor: { id: string; index: number }; configuration: { enabled?: boolean; level?: string } }[]; properties: Record<string, unknown> }[];
        properties: { passes: unknown[] };
    }[];
}

async function judged(stack: string, preview: boolean, policyConfig: PolicyPackConfig = readPolicyConfig(DEFAULT_POLICY_CONFIG)): Promise<Judged> {
    const registry = placeholderRegistry();
    const result = await runProgram({ stack, preview, registry });
    const resources = analyzerResources(result, { registry });
    const config = readStackConfig(stack);
    const pack = await sharedPack({ stack, dryRun: preview, config, policyConfig });
    const info = await pack.info();
    // The stack's cgap:environment also makes a stack production, for the report's production-only rules.
    const input = { stack, environment: config["cgap:environment"], preview, info, policyConfig, policyConfigFile: CONFIG_FILE, resources, diagnostics: await pack.judge(resources) };
    const report = buildReport(input);
    return { report, info, resources, log: toSarif(report, info, { resources }) as unknown as SarifLog };
}

/** The text of a location's line, from its column on. */
function textAt(location: SarifLocation): string {
    const { artifactLocation, region } = location.physicalLocation;
    const lines = fs.readFileSync(path.join(PROJECT_DIR, artifactLocation.uri), "utf8").split("\n");
    return lines[region.startLine - 1].slice((region.startColumn ?? 1) - 1);
}

/** The class a type token's constructor is called by: `aws:lb/loadBalancer:LoadBalancer` -> LoadBalancer, `cgap:ecs:PortalServices` -> PortalServices. */
const className = (type: string) => type.split(":").pop()!;

for (const stack of ["production", "mastertest", "sandbox"]) {
    describe(`the SARIF of ${stack}'s compliance report`, function () {
        this.timeout(120000);
        let preview: Judged;
        before(async () => {
            preview = await judged(stack, true);
        });

        it("validates against the SARIF 2.1.0 schema, and names no path of this machine", () => {
            assert.deepStrictEqual(validateSarif(preview.log), []);
            assert.ok(!JSON.stringify(preview.log).includes(PROJECT_DIR), "a machine path in the log");
            assert.ok(PROJECT_ROOT in preview.log.runs[0].originalUriBaseIds);
        });

        it("locates each result about a resource at the constructor call that declares it", () => {
            const results = preview.log.runs[0].results.filter((r) => r.locations[0].logicalLocations?.[0].kind === "resource");
            assert.ok(results.length >= 10, `${results.length} results about resources`);
            for (const result of results) {
                const location = result.locations[0];
                const urn = location.logicalLocations![0].fullyQualifiedName!;
                const type = urn.split("::")[2].split("$").pop()!;
                assert.strictEqual(location.physicalLocation.artifactLocation.uriBaseId, PROJECT_ROOT);
                assert.match(location.physicalLocation.artifactLocation.uri, /^(components\/[\w.]+\.ts|index\.ts)$/, JSON.stringify(location));
                // The line, from the column the SDK sent, is the `new <Class>(` of the resource's own type.
                const text = textAt(location);
                assert.match(text, new RegExp(`^new [\\w.]*\\b${className(type)}\\(`), `${urn}: ${location.physicalLocation.artifactLocation.uri}:${location.physicalLocation.region.startLine} reads "${text}"`);
            }
        });

        it("gives each finding its own fingerprint, from the policy and the resource, though a loop declares several on one line", () => {
            const results = preview.log.runs[0].results as (SarifResult & { partialFingerprints: Record<string, string> })[];
            const hashes = results.map((r) => r.partialFingerprints.primaryLocationLineHash);
            assert.ok(hashes.every((h) => /^[0-9a-f]{16}:1$/.test(h)), hashes.join(" "));
            assert.strictEqual(new Set(hashes).size, results.length);
            const lines = results.map((r) => `${r.ruleId} ${r.locations[0].physicalLocation.artifactLocation.uri}:${r.locations[0].physicalLocation.region.startLine}`);
            assert.ok(new Set(lines).size < results.length, "no two findings share a rule and a line: the fingerprint is not put to the test");
        });

        it("marks each accepted exception with the policy config line of its entry, and its reason", () => {
            const written = writtenExceptions(DEFAULT_POLICY_CONFIG);
            const excepted = preview.log.runs[0].results.filter((r) => r.suppressions);
            assert.strictEqual(excepted.length, preview.report.summary.excepted);
            assert.ok(excepted.length > 0);
            for (const result of excepted) {
                const [suppression] = result.suppressions!;
                assert.deepStrictEqual([suppression.kind, suppression.status], ["external", "accepted"]);
                const at = suppression.location!.physicalLocation;
                assert.strictEqual(at.artifactLocation.uri, "policy/config.example.json");
                assert.deepStrictEqual(result.relatedLocations?.[0].physicalLocation, at);
                const config = fs.readFileSync(DEFAULT_POLICY_CONFIG, "utf8").split("\n");
                const text = config[at.region.startLine - 1].slice(at.region.startColumn! - 1);
                const setting = /^accepted exception \(([\w-]+)\)/.exec(preview.report.results.find((r) => r.policy === result.ruleId && r.resource?.urn === result.locations[0].logicalLocations![0].fullyQualifiedName)!.reasons[0]);
                if (setting) {
                    // A setting that widens the control: the line of its key, under the result's policy.
                    assert.ok(text.startsWith(`"${setting[1]}":`), text);
                    continue;
                }
                // That line opens the exception whose reason is the justification, under the result's policy.
                const entry = written.find((e) => e.line === at.region.startLine);
                assert.ok(entry, `no exception starts on line ${at.region.startLine}`);
                assert.deepStrictEqual([entry.policy, entry.reason], [result.ruleId, suppression.justification]);
                assert.match(text, /^\{/);
                assert.ok(config.slice(at.region.startLine - 1, at.region.startLine + 4).join("\n").includes(JSON.stringify(entry.reason)));
            }
        });

        if (stack === "production") {
            it("is what docs/compliance.md's SARIF excerpt shows: each rule and result it shows is the run's", () => {
                const markdown = fs.readFileSync(path.join(PROJECT_DIR, "docs", "compliance.md"), "utf8");
                const start = markdown.indexOf("```\n", markdown.indexOf("An excerpt of production's preview"));
                const body = markdown.slice(start + 4, markdown.indexOf("\n```", start + 4));
                const shown = JSON.parse(body.split("\n").filter((l) => l.trim() !== "...").join("\n").replace(/,(\s*[}\]])/g, "$1")) as SarifLog;
                const [run] = preview.log.runs;
                const same = (a: unknown) => (b: unknown) => JSON.stringify(a) === JSON.stringify(b);
                for (const rule of shown.runs[0].tool.driver.rules) {
                    assert.ok(run.tool.driver.rules.some(same(rule)), `a rule the guide shows is not the run's: ${JSON.stringify(rule)}`);
                }
                assert.ok(shown.runs[0].results.length >= 2);
                for (const result of shown.runs[0].results) {
                    assert.ok(run.results.some(same(result)), `a result the guide shows is not the run's: ${JSON.stringify(result)}`);
                }
                assert.deepStrictEqual(shown.runs[0].originalUriBaseIds, run.originalUriBaseIds);
            });
        }

        it("gives each verdict unknown until the update as an open result of level none, and lists the passes apart", () => {
            const open = preview.log.runs[0].results.filter((r) => r.kind === "open");
            assert.strictEqual(open.length, preview.report.summary.unknown);
            assert.ok(open.length > 0, "a preview has verdicts not known yet");
            assert.ok(open.every((r) => r.level === "none" && !r.suppressions));
            // A fail is the only kind with a level besides none (SARIF §3.27.10).
            for (const r of preview.log.runs[0].results) {
                assert.ok(r.kind === "fail" ? r.level !== "none" : r.level === "none", JSON.stringify(r));
            }
            assert.ok(!preview.log.runs[0].results.some((r) => r.kind === "pass"));
            assert.strictEqual(preview.log.runs[0].properties.passes.length, preview.report.summary.pass);
        });
    });
}

describe("the SARIF of a run whose policy config disables a policy", function () {
    this.timeout(120000);

    it("disables the policy's rule for the run, and reports nothing of it", async () => {
        const config = { ...readPolicyConfig(DEFAULT_POLICY_CONFIG), "alb-waf-web-acl": "disabled" } as PolicyPackConfig;
        const { log, info, report } = await judged("production", false, config);
        assert.deepStrictEqual(validateSarif(log), []);
        const [run] = log.runs;
        const index = run.tool.driver.rules.findIndex((r) => r.id === "alb-waf-web-acl");
        // The pack's default stays the rule's default configuration; this run's config overrides it.
        assert.strictEqual(info.policies[index].enforcementLevel, "advisory");
        assert.deepStrictEqual(run.tool.driver.rules[index].defaultConfiguration, { level: "warning" });
        const overrides = run.invocations[0].ruleConfigurationOverrides.filter((o) => o.descriptor.id === "alb-waf-web-acl");
        assert.deepStrictEqual(overrides, [{ descriptor: { id: "alb-waf-web-acl", index }, configuration: { enabled: false } }]);
        assert.deepStrictEqual(run.invocations[0].properties.disabled, ["alb-waf-web-acl"]);
        assert.ok(!run.results.some((r) => r.ruleId === "alb-waf-web-acl"));
        assert.strictEqual(report.summary.disabled, 1);
        // Every other override is a level the config really changed.
        for (const o of run.invocations[0].ruleConfigurationOverrides) {
            const configured = report.results.find((r) => r.policy === o.descriptor.id)!.level;
            assert.notStrictEqual(configured, info.policies[o.descriptor.index].enforcementLevel, JSON.stringify(o));
        }
    });
});

describe("SARIF of the verdicts the report may add", () => {
    const info: PackInfo = { name: "cgap-rollout", version: "1.0.0", policies: [{ name: "alb-waf-web-acl", description: "d", enforcementLevel: "advisory", type: "resource" }] };
    const written = writtenExceptions(DEFAULT_POLICY_CONFIG).find((e) => e.policy === "alb-waf-web-acl")!;
    const entry = (verdict: string, reasons: string[]): ReportEntry =>
        ({ policy: "alb-waf-web-acl", control: "ELB.16", standard: "NIST 800-53", controlTitle: null, controlUrl: null, level: "advisory", resource: null, verdict, reasons }) as unknown as ReportEntry;
    const reportOf = (...results: ReportEntry[]) =>
        ({ stack: "production", phase: "preview", pack: { name: "cgap-rollout", version: "1.0.0" }, policyConfig: CONFIG_FILE, gates: {}, summary: {}, results }) as unknown as ComplianceReport;

    it("an exception that accepts nothing (the report's staleExceptions) is a note at its entry in the policy config", () => {
        const stale = { policy: written.policy, resource: written.resource, stack: written.stack ?? null, reason: written.reason, why: `no resource named "${written.resource}" is judged by this policy on this stack` };
        const log = toSarif({ ...reportOf(), staleExceptions: [stale] } as ComplianceReport, info) as unknown as SarifLog;
        assert.deepStrictEqual(validateSarif(log), []);
        const [result] = log.runs[0].results;
        assert.deepStrictEqual([result.ruleId, result.kind, result.level], ["alb-waf-web-acl", "fail", "note"]);
        assert.match(result.message.text, /^stale exception for "cgap-alb": no resource named "cgap-alb" is judged/);
        assert.deepStrictEqual(result.locations[0].physicalLocation, {
            artifactLocation: { uri: "policy/config.example.json", uriBaseId: PROJECT_ROOT },
            region: { startLine: written.line, startColumn: written.column },
        });
    });

    it("a verdict the mapping does not know is a result for review, named in its message, never dropped", () => {
        assert.deepStrictEqual(dispositionOf({ verdict: "brand-new" as never, level: "mandatory" }), { result: { kind: "review", level: "none" } });
        const log = toSarif(reportOf(entry("brand-new", ["why"])), info) as unknown as SarifLog;
        assert.deepStrictEqual(validateSarif(log), []);
        assert.strictEqual(log.runs[0].results.length, 1);
        assert.match(log.runs[0].results[0].message.text, /verdict "brand-new": why/);
        // A not-applicable verdict is listed in the invocation, not raised as a result.
        const listed = toSarif(reportOf(entry("notApplicable", ["production-only"])), info) as unknown as SarifLog;
        assert.deepStrictEqual(listed.runs[0].results, []);
        assert.deepStrictEqual(listed.runs[0].invocations[0].properties.notApplicable, [{ subject: "alb-waf-web-acl", control: "ELB.16", resource: null, reason: "production-only" }]);
    });
});

describe("a registration's source position as a location in the repository", () => {
    const at = (uri: string, line = 12, column = 5) => ({ getUri: () => uri, getLine: () => line, getColumn: () => column });
    const root = path.join(path.sep, "srv", "cgap");

    it("is the file's path from the project's root, with line and column", () => {
        assert.deepStrictEqual(repositoryLocation(at(`file://${root}/components/services.ts`), root), { file: "components/services.ts", line: 12, column: 5 });
    });

    it("is, for every resource the production program declares, the `new` call of its own class", async function () {
        this.timeout(60000);
        const { resources } = await runProgram({ stack: "production", preview: true, registry: placeholderRegistry() });
        // The stack itself is made by the SDK's runInPulumiStack, not by the program: it has none.
        assert.deepStrictEqual(resources.filter((r) => !r.location).map((r) => r.type), ["pulumi:pulumi:Stack"]);
        for (const r of resources.filter((x) => x.location)) {
            const { file, line, column } = r.location!;
            const text = fs.readFileSync(path.join(PROJECT_DIR, file), "utf8").split("\n")[line - 1].slice(column! - 1);
            assert.match(text, new RegExp(`^new [\\w.]*\\b${className(r.type)}\\(`), `${r.type} ${r.name}: ${file}:${line}:${column} reads "${text}"`);
        }
    });

    it("of a resource with none is its nearest ancestor's, and none when no ancestor has one", () => {
        const component = { urn: "urn:c", location: { file: "components/services.ts", line: 9, column: 5 } };
        const middle = { urn: "urn:m", parent: "urn:c" };
        const made = { urn: "urn:r", parent: "urn:m" };
        const orphan = { urn: "urn:o", parent: "urn:gone" };
        const looped = { urn: "urn:l", parent: "urn:l" };
        const byUrn = new Map([component, middle, made, orphan, looped].map((r) => [r.urn, r]));
        assert.deepStrictEqual(locationOf(made, byUrn), component.location);
        assert.deepStrictEqual(locationOf({ ...made, location: { file: "index.ts", line: 3 } }, byUrn), { file: "index.ts", line: 3 });
        assert.strictEqual(locationOf(orphan, byUrn), undefined);
        assert.strictEqual(locationOf(looped, byUrn), undefined);
    });

    it("is none for a provider SDK's file, a file outside the project, or no position", () => {
        assert.strictEqual(repositoryLocation(at(`file://${root}/node_modules/@pulumi/aws/ecs/service.js`), root), undefined);
        assert.strictEqual(repositoryLocation(at("file:///elsewhere/index.ts"), root), undefined);
        assert.strictEqual(repositoryLocation(at(`file://${root}/../cgap-other/index.ts`), root), undefined);
        assert.strictEqual(repositoryLocation(undefined, root), undefined);
    });
});
