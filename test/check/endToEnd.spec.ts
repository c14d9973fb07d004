// The real program under mocks, judged by the running policy pack: what `pulumi preview
// --policy-pack policy` does, without the CLI; then the compliance report (`npm run check --
// --format json`) built from the same judgement of every stack file. One file, so that both share
// a pack per stack and phase.
import * as assert from "assert";
import { Diagnostic, PolicyPackProcess, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { foreignImages } from "../policy/fixtures";
import { sharedPack } from "../policy/packs";
import { analyzerResources } from "../../ops/offline/plan";
import { placeholderRegistry, readStackConfig, runProgram, RunOptions } from "../../ops/offline/program";
import { Role } from "../../components/roles";
import { DEFAULT_POLICY_CONFIG, readPolicyConfig } from "../../ops/offline/check";
import { buildReport, ComplianceReport } from "../../ops/offline/report";
import { complianceChecks } from "../../policy/policies";
import { vpcChecks } from "../../policy/vpc";
import { notApplicableRows } from "../../ops/offline/provenance";

interface Judgement {
    diagnostics: Diagnostic[];
    mandatory: string[];
}

/**
 * One pack per stack and phase, as the CLI starts one per preview; cgap:rollout is not the pack's
 * business. Judged with the reviewers' policy config (docs/compliance.md's --policy-pack-config): its
 * levels, and its accepted exceptions for the stack's deliberate deviations.
 */
function packFor(stack: string, preview: boolean): Promise<PolicyPackProcess> {
    return sharedPack({ stack, dryRun: preview, config: readStackConfig(stack), policyConfig: readPolicyConfig(DEFAULT_POLICY_CONFIG) });
}

async function judge(run: RunOptions & { untouched?: Role[]; extra?: StackResource[] }): Promise<Judgement> {
    const registry = placeholderRegistry();
    const result = await runProgram({ ...run, registry });
    const pack = await packFor(run.stack, run.preview);
    const diagnostics = await pack.judge([...analyzerResources(result, { registry, untouched: run.untouched }), ...(run.extra ?? [])]);
    return {
        diagnostics,
        mandatory: [...new Set(diagnostics.filter((d) => d.enforcementLevel === "mandatory").map((d) => d.policyName))].sort(),
    };
}

function noViolations(judgement: Judgement): void {
    assert.deepStrictEqual(
        judgement.diagnostics.map((d) => `[${d.enforcementLevel}] ${d.policyName}: ${d.message}`),
        [],
    );
}

describe("the program judged by the policy pack", function () {
    this.timeout(120000);

    for (const stack of ["mastertest", "production", "sandbox"]) {
        it(`a full rollout of ${stack} passes every policy, advisory ones included, in the preview`, async () => {
            noViolations(await judge({ stack, preview: true }));
        });

        it(`a full rollout of ${stack} passes every policy in the update`, async () => {
            noViolations(await judge({ stack, preview: false }));
        });
    }

    it("a first rollout, where nothing the cloud computes is known yet, passes every policy", async () => {
        noViolations(await judge({ stack: "mastertest", preview: true, firstRollout: true }));
    });

    it("a front-end-only rollout on mastertest passes", async () => {
        noViolations(await judge({ stack: "mastertest", preview: true, config: { "cgap:rollout": "wsgi" } }));
    });

    it("a back-end phase-in (indexer and deployment) on mastertest passes", async () => {
        noViolations(await judge({ stack: "mastertest", preview: true, config: { "cgap:rollout": "indexer,deployment" } }));
    });

    it("the indexer without the deployment image is refused by indexer-deployment-bundle", async () => {
        const { mandatory } = await judge({ stack: "mastertest", preview: true, config: { "cgap:rollout": "indexer" } });
        assert.deepStrictEqual(mandatory, ["indexer-deployment-bundle"]);
    });

    it("a --target of the indexer image alone is refused by indexer-deployment-bundle", async () => {
        const { mandatory } = await judge({ stack: "mastertest", preview: true, untouched: ["wsgi", "ingester", "deployment"] });
        assert.deepStrictEqual(mandatory, ["indexer-deployment-bundle"]);
    });

    it("a front-end-only rollout on production is refused by production-rollout-complete", async () => {
        const { mandatory } = await judge({ stack: "production", preview: true, config: { "cgap:rollout": "wsgi" } });
        assert.deepStrictEqual(mandatory, ["production-rollout-complete"]);
    });

    for (const stack of ["mastertest", "production"]) {
        it(`${stack}: the program's rollout next to foreign images (helper, untagged sidecar, a second app's four tags) passes`, async () => {
            // The task definitions wait on the push: the pack learns the portal's repository from their dependencies.
            noViolations(await judge({ stack, preview: true, extra: foreignImages(stack, "pushed") }));
        });
    }

    it("mastertest: a front-end-only rollout next to a second app whose indexer image changes passes", async () => {
        noViolations(await judge({ stack: "mastertest", preview: true, extra: foreignImages("mastertest", "changing"), config: { "cgap:rollout": "wsgi" } }));
    });

    it("a production --target that leaves the deployment image alone is refused by both", async () => {
        const { mandatory } = await judge({ stack: "production", preview: true, untouched: ["deployment"] });
        assert.deepStrictEqual(mandatory, ["indexer-deployment-bundle", "production-rollout-complete"]);
    });

    it("ECS Exec on in production draws the ecs-exec-off-in-production advisory for each such service, and nothing mandatory", async () => {
        const { diagnostics, mandatory } = await judge({ stack: "production", preview: true, config: { "cgap:exec": "wsgi,ingester" } });
        assert.deepStrictEqual(mandatory, []);
        const exec = diagnostics.filter((d) => d.policyName === "ecs-exec-off-in-production");
        assert.deepStrictEqual(exec.map((d) => d.enforcementLevel), ["advisory", "advisory"]);
        assert.deepStrictEqual(exec.map((d) => /Service "([^"]+)"/.exec(d.message)?.[1]).sort(), ["cgap-ingester", "cgap-wsgi"]);
        assert.match(exec[0].message, /production stack \(.*\)\. Turn cgap:exec off/);
    });

    it("ECS Exec on a development stack draws no advisory", async () => {
        noViolations(await judge({ stack: "mastertest", preview: true, config: { "cgap:exec": "true" } }));
    });
});

const VERDICTS = ["pass", "fail", "unknown", "excepted", "disabled", "notApplicable"];

// The compliance report: its shape, and the stack's own resources against every policy, with the
// accepted exceptions listed.

/** The report of one update of the stack, with the reviewers' config and with every policy at its default. */
async function reports(stack: string): Promise<{ reviewed: ComplianceReport; defaults: ComplianceReport }> {
    const registry = placeholderRegistry();
    const result = await runProgram({ stack, preview: false, registry });
    const resources = analyzerResources(result, { registry });
    const reviewedConfig = readPolicyConfig(DEFAULT_POLICY_CONFIG);
    const config = readStackConfig(stack);
    const environment = typeof config["cgap:environment"] === "string" ? config["cgap:environment"] : undefined;
    const pack = await sharedPack({ stack, dryRun: false, config, policyConfig: reviewedConfig });
    const info = await pack.info();
    const reviewed = buildReport({ stack, environment, preview: false, info, policyConfig: reviewedConfig, policyConfigFile: "policy/config.example.json", resources, diagnostics: await pack.judge(resources) });
    await pack.reconfigure({});
    const defaults = buildReport({ stack, environment, preview: false, info, policyConfig: {}, policyConfigFile: null, resources, diagnostics: await pack.judge(resources) });
    return { reviewed, defaults };
}

const key = (r: ComplianceReport["results"][number]) => `${r.policy} ${r.resource?.name ?? "(stack)"}`;

/** Policies on resources only a stack without an estate owns: the ECR repository and the ingestion queues. */
const ON_OWNED_STORES = ["ecr-scan-on-push", "ecr-tag-immutability", "ecr-lifecycle-policy", "ecr-customer-managed-kms-key", "sqs-encrypted-at-rest"];

for (const stack of ["mastertest", "production", "sandbox"]) {
    // mastertest and production use the estate's repository and queue; sandbox creates its own.
    const ownsStores = stack === "sandbox";
    describe(`the compliance report of ${stack}`, function () {
        this.timeout(240000);
        let reviewed: ComplianceReport;
        let defaults: ComplianceReport;
        before(async () => {
            ({ reviewed, defaults } = await reports(stack));
        });

        it("lists every policy with its control id, level and a verdict per resource", () => {
            assert.strictEqual(reviewed.stack, stack);
            assert.strictEqual(reviewed.phase, "update");
            assert.deepStrictEqual(reviewed.pack, { name: "cgap-rollout", version: reviewed.pack.version });
            assert.strictEqual(reviewed.policyConfig, "policy/config.example.json");
            // The gates' fixed levels, from the pack's table, and each gate's verdict at that level.
            assert.deepStrictEqual(reviewed.gates, { "indexer-deployment-bundle": "mandatory", "production-rollout-complete": "mandatory" });
            for (const [gate, level] of Object.entries(reviewed.gates)) {
                assert.deepStrictEqual([...new Set(reviewed.results.filter((r) => r.policy === gate).map((r) => r.level))], [level], gate);
            }
            for (const r of reviewed.results) {
                assert.ok(VERDICTS.includes(r.verdict), JSON.stringify(r));
                assert.ok(["advisory", "mandatory"].includes(r.level), JSON.stringify(r));
                assert.ok(r.resource === null || (r.resource.urn.startsWith(`urn:pulumi:${stack}::`) && r.resource.type && r.resource.name), JSON.stringify(r));
                assert.ok(r.verdict === "pass" || r.reasons.length > 0, `a ${r.verdict} without a reason: ${JSON.stringify(r)}`);
                const check = complianceChecks.find((c) => c.name === r.policy);
                assert.strictEqual(r.control, check?.control?.id ?? null);
                assert.strictEqual(r.controlUrl, check?.control?.url ?? null);
            }
            const listed = new Set(reviewed.results.map((r) => r.policy));
            // The VPC controls judge the VPC sandbox creates (aws.ec2 resources, every one visible);
            // the other stacks run in the estate's network, so there each is listed as not applicable.
            const vpcPolicies = vpcChecks.map((c) => c.name);
            const notApplicable = notApplicableRows(complianceChecks, reviewed.results, {});
            for (const name of vpcPolicies) {
                if (ownsStores) {
                    assert.ok(listed.has(name), `${name} judged nothing on the stack that creates its VPC`);
                } else {
                    assert.ok(!listed.has(name), `${name} judged something`);
                    assert.ok(notApplicable.some((n) => n.subject === name), `${name} is neither judged nor listed as not applicable`);
                }
            }
            // IAM.1 judges customer managed policies, and the stack grants through inline role policies only.
            const judgedNowhere = ["ecs-task-set-no-public-ip", "iam-no-full-admin"];
            for (const name of judgedNowhere) {
                assert.ok(!listed.has(name), `${name} judged something`);
                assert.ok(notApplicable.some((n) => n.subject === name), `${name} is neither judged nor listed as not applicable`);
            }
            const expected = complianceChecks.map((c) => c.name).filter((name) => !judgedNowhere.includes(name) && (ownsStores || !vpcPolicies.includes(name)));
            for (const name of ["indexer-deployment-bundle", "production-rollout-complete", ...expected]) {
                if (!ownsStores && ON_OWNED_STORES.includes(name)) {
                    assert.ok(!listed.has(name), `${name} judged a repository or queue the estate owns`);
                } else {
                    assert.ok(listed.has(name), `${name} is not in the report`);
                }
            }
            const s = reviewed.summary;
            assert.strictEqual(s.pass + s.fail + s.unknown + s.excepted + s.disabled + s.notApplicable, reviewed.results.length);
        });

        it("says a production-only rule judges nothing off production, rather than passing it", () => {
            const gate = reviewed.results.find((r) => r.policy === "production-rollout-complete")!;
            if (stack === "production") {
                assert.strictEqual(gate.verdict, "pass");
            } else {
                assert.strictEqual(gate.verdict, "notApplicable");
                assert.match(gate.reasons[0], new RegExp(`stack "${stack}" is not production .*and its cgap:environment is development`));
            }
        });

        it("keeps no exception that accepts nothing: every exception the reviewers' config applies here names a failing resource", () => {
            assert.deepStrictEqual(reviewed.staleExceptions, []);
            assert.strictEqual(reviewed.summary.staleExceptions, 0);
        });

        it("judges the stack's own resources against every new policy: met where the stack can, excepted where it cannot", () => {
            const verdicts = (policy: string) => reviewed.results.filter((r) => r.policy === policy).map((r) => `${r.resource?.name}:${r.verdict}`).sort();
            assert.deepStrictEqual(verdicts("ecs-container-non-root-user"), ["cgap-deployment:pass", "cgap-indexer:pass", "cgap-ingester:pass", "cgap-wsgi:pass"]);
            assert.deepStrictEqual(verdicts("lb-deletion-protection"), ["cgap-alb:pass"]);
            assert.deepStrictEqual(verdicts("sqs-encrypted-at-rest"), ownsStores ? ["cgap-ingestion-dlq:pass", "cgap-ingestion-queue:pass"] : []);
            // Every stack file runs WSGI tasks on Spot, so each has the Spot drain function's log group too.
            // sandbox's VPC has the flow log group besides.
            const flowLogs = ownsStores ? ["cgap-flow-logs"] : [];
            assert.deepStrictEqual(verdicts("log-group-retention"), [...flowLogs, "cgap-logs", "cgap-spot-drain-logs"].map((n) => `${n}:pass`));
            assert.deepStrictEqual(verdicts("vpc-default-security-group-closed"), ownsStores ? ["cgap-vpc:pass"] : []);
            assert.deepStrictEqual(verdicts("vpc-flow-logs"), ownsStores ? ["cgap-vpc:pass"] : []);
            assert.deepStrictEqual(verdicts("subnet-no-public-ip-on-launch"), ownsStores ? ["cgap-private-1", "cgap-private-2", "cgap-public-1", "cgap-public-2"].map((n) => `${n}:pass`) : []);
            for (const policy of ["sg-unrestricted-ingress-authorized-ports", "sg-no-unrestricted-high-risk-ports"]) {
                const found = verdicts(policy);
                assert.ok(found.length >= 2 && found.every((v) => v.endsWith(":pass")), `${policy}: ${found.join(", ")}`);
            }
            assert.deepStrictEqual(verdicts("ecs-container-read-only-root"), ["cgap-deployment:excepted", "cgap-indexer:excepted", "cgap-ingester:excepted", "cgap-wsgi:excepted"]);
            assert.deepStrictEqual(verdicts("alb-waf-web-acl"), ["cgap-alb:excepted"]);
            assert.deepStrictEqual(verdicts("ecr-customer-managed-kms-key"), ownsStores ? ["cgap-repository:excepted"] : []);
            // The flow log group has a key of its own; the services' and the drain function's are excepted.
            assert.deepStrictEqual(verdicts("log-group-kms-encrypted"), [...flowLogs.map((n) => `${n}:pass`), "cgap-logs:excepted", "cgap-spot-drain-logs:excepted"]);
            assert.deepStrictEqual(verdicts("ecr-tag-immutability"), ownsStores ? ["cgap-repository:excepted"] : []);
            assert.deepStrictEqual(verdicts("alb-http-redirects-to-https"), stack === "production" ? ["cgap-alb:pass"] : ["cgap-alb:excepted"]);
            assert.deepStrictEqual(verdicts("iam-no-admin-grant"), [
                ...(ownsStores ? ["cgap-flow-logs:pass", "cgap-flow-logs:pass"] : []),
                "cgap-roles-execution-policy:pass",
                "cgap-roles-execution:pass",
                "cgap-roles-task-policy:pass",
                "cgap-roles-task:pass",
                "cgap-spot-drain-policy:pass",
                "cgap-spot-drain:pass",
            ]);
        });

        it("has no failure with the reviewers' config, and every exception is a failure Security Hub would report", () => {
            assert.deepStrictEqual(reviewed.results.filter((r) => r.verdict === "fail").map(key), []);
            assert.deepStrictEqual(reviewed.results.filter((r) => r.verdict === "unknown").map(key), [], "after the update every value is known");
            const excepted = reviewed.results.filter((r) => r.verdict === "excepted");
            for (const r of excepted) {
                assert.match(r.reasons[0], /accepted exception/);
            }
            // Without the config, every exception is a plain failure: never a silent pass.
            assert.deepStrictEqual(defaults.results.filter((r) => r.verdict === "fail").map(key).sort(), excepted.map(key).sort());
            assert.strictEqual(defaults.summary.excepted, 0);
        });
    });
}

describe("the VPC sandbox creates, before AWS has made it", function () {
    this.timeout(120000);

    it("is judged in its first preview by what each value is made from, though no id is known yet", async () => {
        const stack = "sandbox";
        const registry = placeholderRegistry();
        const result = await runProgram({ stack, preview: true, firstRollout: true, registry });
        const resources = analyzerResources(result, { registry });
        const pack = await sharedPack({ stack, dryRun: true, config: readStackConfig(stack), policyConfig: readPolicyConfig(DEFAULT_POLICY_CONFIG) });
        const info = await pack.info();
        const report = buildReport({
            stack,
            environment: "development",
            preview: true,
            info,
            policyConfig: readPolicyConfig(DEFAULT_POLICY_CONFIG),
            policyConfigFile: "policy/config.example.json",
            resources,
            diagnostics: await pack.judge(resources),
        });
        const verdicts = (policy: string) => report.results.filter((r) => r.policy === policy).map((r) => `${r.resource?.name}:${r.verdict}`);
        assert.ok(resources.filter((r) => r.type === "aws:ec2/vpc:Vpc").every((r) => r.props.id === UNKNOWN));
        assert.deepStrictEqual(verdicts("vpc-default-security-group-closed"), ["cgap-vpc:pass"]);
        assert.deepStrictEqual(verdicts("vpc-flow-logs"), ["cgap-vpc:pass"]);
        // mapPublicIpOnLaunch is the program's own input: known even now.
        assert.ok(verdicts("subnet-no-public-ip-on-launch").every((v) => v.endsWith(":pass")));
    });
});
