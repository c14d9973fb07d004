// The compliance report (`npm run check -- --format json`) for every stack file: its shape, and
// the stack's own resources against every policy, with the accepted exceptions listed.
import * as assert from "assert";

import { sharedPack } from "../policy/packs";
import { DEFAULT_POLICY_CONFIG, readPolicyConfig } from "../../ops/offline/check";
import { analyzerResources } from "../../ops/offline/plan";
import { placeholderRegistry, readStackConfig, runProgram } from "../../ops/offline/program";
import { buildReport, ComplianceReport } from "../../ops/offline/report";
import { complianceChecks } from "../../policy/policies";

const VERDICTS = ["pass", "fail", "unknown", "excepted", "disabled"];

/** The report of one update of the stack, with the reviewers' config and with every policy at its default. */
async function reports(stack: string): Promise<{ reviewed: ComplianceReport; defaults: ComplianceReport }> {
    const registry = placeholderRegistry();
    const result = await runProgram({ stack, preview: false, registry });
    const resources = analyzerResources(result, { registry });
    const reviewedConfig = readPolicyConfig(DEFAULT_POLICY_CONFIG);
    const pack = await sharedPack({ stack, dryRun: false, config: readStackConfig(stack), policyConfig: reviewedConfig });
    const info = await pack.info();
    const reviewed = buildReport({ stack, preview: false, info, policyConfig: reviewedConfig, policyConfigFile: "policy/config.example.json", resources, diagnostics: await pack.judge(resources) });
    await pack.reconfigure({});
    const defaults = buildReport({ stack, preview: false, info, policyConfig: {}, policyConfigFile: null, resources, diagnostics: await pack.judge(resources) });
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
            const expected = complianceChecks.map((c) => c.name).filter((name) => name !== "ecs-task-set-no-public-ip");
            for (const name of ["indexer-deployment-bundle", "production-rollout-complete", ...expected]) {
                if (!ownsStores && ON_OWNED_STORES.includes(name)) {
                    assert.ok(!listed.has(name), `${name} judged a repository or queue the estate owns`);
                } else {
                    assert.ok(listed.has(name), `${name} is not in the report`);
                }
            }
            const s = reviewed.summary;
            assert.strictEqual(s.pass + s.fail + s.unknown + s.excepted + s.disabled, reviewed.results.length);
        });

        it("judges the stack's own resources against every new policy: met where the stack can, excepted where it cannot", () => {
            const verdicts = (policy: string) => reviewed.results.filter((r) => r.policy === policy).map((r) => `${r.resource?.name}:${r.verdict}`).sort();
            assert.deepStrictEqual(verdicts("ecs-container-non-root-user"), ["cgap-deployment:pass", "cgap-indexer:pass", "cgap-ingester:pass", "cgap-wsgi:pass"]);
            assert.deepStrictEqual(verdicts("lb-deletion-protection"), ["cgap-alb:pass"]);
            assert.deepStrictEqual(verdicts("sqs-encrypted-at-rest"), ownsStores ? ["cgap-ingestion-dlq:pass", "cgap-ingestion-queue:pass"] : []);
            assert.deepStrictEqual(verdicts("log-group-retention"), ["cgap-logs:pass"]);
            for (const policy of ["sg-unrestricted-ingress-authorized-ports", "sg-no-unrestricted-high-risk-ports"]) {
                const found = verdicts(policy);
                assert.ok(found.length >= 2 && found.every((v) => v.endsWith(":pass")), `${policy}: ${found.join(", ")}`);
            }
            assert.deepStrictEqual(verdicts("ecs-container-read-only-root"), ["cgap-deployment:excepted", "cgap-indexer:excepted", "cgap-ingester:excepted", "cgap-wsgi:excepted"]);
            assert.deepStrictEqual(verdicts("alb-waf-web-acl"), ["cgap-alb:excepted"]);
            assert.deepStrictEqual(verdicts("ecr-customer-managed-kms-key"), ownsStores ? ["cgap-repository:excepted"] : []);
            assert.deepStrictEqual(verdicts("log-group-kms-encrypted"), ["cgap-logs:excepted"]);
            assert.deepStrictEqual(verdicts("ecr-tag-immutability"), ownsStores ? ["cgap-repository:excepted"] : []);
            assert.deepStrictEqual(verdicts("alb-http-redirects-to-https"), stack === "production" ? ["cgap-http:pass", "cgap-https:pass"] : ["cgap-http:excepted"]);
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
