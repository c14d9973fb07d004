// `npm run check`: a pass and a refusal as a person runs them (a child process, its output and its
// exit code); what else it prints through the same main() in this process.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../ops/project";
import { checkInProcess, npmCheck } from "./runCheck";


/** Plan rows keyed by role: the cells of the table under its header. */
function planRows(stdout: string): Record<string, string[]> {
    const lines = stdout.split("\n");
    const header = lines.findIndex((l) => l.startsWith("role "));
    assert.ok(header >= 0, stdout);
    return Object.fromEntries(lines.slice(header + 1, header + 5).map((l) => l.split(/\s{2,}/)).map((cells) => [cells[0], cells]));
}

/** The rows under the plan that say where the network, the repository and the queue come from. */
function sourceRows(stdout: string): Record<string, string> {
    return Object.fromEntries(
        stdout
            .split("\n")
            .filter((l) => /^(network|repository|queue) {2}/.test(l))
            .map((l) => [l.split(/\s{2,}/)[0], l.replace(/^\S+\s{2,}/, "")]),
    );
}

describe("npm run check", function () {
    this.timeout(120000);

    it("prints mastertest's plan, judges it and passes with exit 0", () => {
        const { status, stdout } = npmCheck("--stack", "mastertest");
        assert.strictEqual(status, 0, stdout);
        assert.deepStrictEqual(planRows(stdout), {
            wsgi: ["wsgi", "latest", "yes: built and pushed", "cgap-mastertest-wsgi", "2/2/2", "FARGATE_SPOT", "4096/8192"],
            indexer: ["indexer", "latest-indexer", "yes: built and pushed", "cgap-mastertest-indexer", "4/4/4", "FARGATE_SPOT", "256/512"],
            ingester: ["ingester", "latest-ingester", "yes: built and pushed", "cgap-mastertest-ingester", "1/1/1", "FARGATE", "512/1024"],
            deployment: ["deployment", "latest-deployment", "yes: built and pushed", "(one-shot task)", "-", "FARGATE", "1024/2048"],
        });
        assert.deepStrictEqual(sourceRows(stdout), {
            network:
                "exports of c4-network-main-stack (VPC, PublicSubnetA, PublicSubnetB, PrivateSubnetA, PrivateSubnetB, " +
                "ApplicationSecurityGroup, DBSecurityGroup)",
            repository: "exports of c4-ecr-main-stack (RepoURL)",
            queue: "exports of c4-datastore-cgap-mastertest-stack (ApplicationIngestionQueue)",
        });
        assert.match(stdout, /placeholders/);
        assert.match(stdout, /^Policy config: policy\/config\.example\.json \(levels and accepted exceptions\)\.\nPolicy pack cgap-rollout \S+ \(\d+ policies\) judged \d+ resources:\n {2}no violations\n/m);
        assert.match(stdout, /^Compliance: \d+ pass, 0 fail, \d+ excepted, \d+ unknown until the update/m);
        assert.match(stdout, /^ {2}excepted FSBP ELB\.1 cgap-alb: accepted exception/m);
        assert.match(stdout, /^PASS: no mandatory policy is violated\.$/m);
    });

    it("says where production's and sandbox's network, repository and queue come from, and passes both", async () => {
        const production = await checkInProcess("--stack", "production");
        assert.strictEqual(production.status, 0, production.stdout);
        assert.deepStrictEqual(sourceRows(production.stdout), {
            network:
                "exports of c4-network-prod-stack (VPC, PublicSubnetA, PublicSubnetB, PrivateSubnetA, PrivateSubnetB, " +
                "ApplicationSecurityGroup, DBSecurityGroup)",
            repository: "exports of c4-ecr-prod-stack (RepoURL)",
            queue: "exports of c4-datastore-cgap-production-stack (ApplicationIngestionQueue)",
        });
        const sandbox = await checkInProcess("--stack", "sandbox");
        assert.strictEqual(sandbox.status, 0, sandbox.stdout);
        assert.deepStrictEqual(sourceRows(sandbox.stdout), {
            network: "created: a VPC of two zones with one NAT gateway (aws.ec2.Vpc, a flow log, its default security group closed)",
            repository: "created: the repository cgap-sandbox (aws.ecr.Repository)",
            queue: "created: cgap-sandbox-ingestion-queue and its dead-letter queue (aws.sqs.Queue)",
        });
    });

    it("prints production's compliance report as JSON with --format json", async () => {
        const { status, stdout } = await checkInProcess("--stack", "production", "--format", "json");
        assert.strictEqual(status, 0, stdout);
        const report = JSON.parse(stdout);
        assert.strictEqual(report.stack, "production");
        assert.strictEqual(report.phase, "preview");
        assert.strictEqual(report.policyConfig, "policy/config.example.json");
        assert.deepStrictEqual(report.gates, { "indexer-deployment-bundle": "mandatory", "production-rollout-complete": "mandatory" });
        assert.deepStrictEqual(Object.keys(report.summary).sort(), ["disabled", "excepted", "fail", "mandatoryFailures", "mandatoryUnknown", "notApplicable", "pass", "staleExceptions", "unknown"]);
        const waf = report.results.find((r: { policy: string }) => r.policy === "alb-waf-web-acl");
        assert.deepStrictEqual(
            { control: waf.control, standard: waf.standard, level: waf.level, resource: waf.resource.name, verdict: waf.verdict },
            { control: "ELB.16", standard: "NIST 800-53", level: "advisory", resource: "cgap-alb", verdict: "excepted" },
        );
    });

    it("prints the failures and accepted exceptions as SARIF 2.1.0 with --format sarif, for code scanning", async () => {
        const { status, stdout } = await checkInProcess("--stack", "production", "--format", "sarif");
        assert.strictEqual(status, 0, stdout);
        const sarif = JSON.parse(stdout);
        assert.strictEqual(sarif.version, "2.1.0");
        const [run] = sarif.runs;
        assert.strictEqual(run.tool.driver.name, "cgap-rollout");
        assert.strictEqual(run.automationDetails.id, "cgap-check/production/preview/");
        const rule = run.tool.driver.rules.find((r: { id: string }) => r.id === "alb-waf-web-acl");
        assert.deepStrictEqual(rule.properties.tags, ["NIST 800-53 ELB.16"]);
        assert.match(rule.helpUri, /^https:\/\/docs\.aws\.amazon\.com\/securityhub\//);
        // Production passes every mandatory policy: what it reports are its accepted exceptions,
        // each suppressed with the reviewers' reason, none an error, and the verdicts a preview
        // cannot know yet, open. Each is located in a file of the repository, by its path from the root.
        assert.ok(run.results.length > 0);
        for (const result of run.results) {
            assert.strictEqual(run.tool.driver.rules[result.ruleIndex].id, result.ruleId);
            const { uri, uriBaseId } = result.locations[0].physicalLocation.artifactLocation;
            assert.strictEqual(uriBaseId, "PROJECTROOT");
            assert.ok(!path.isAbsolute(uri) && fs.existsSync(path.join(PROJECT_DIR, uri)), uri);
            assert.notStrictEqual(result.level, "error", JSON.stringify(result));
            if (result.kind === "open") {
                assert.strictEqual(result.level, "none", JSON.stringify(result));
            } else {
                assert.strictEqual(result.suppressions?.[0]?.kind, "external", JSON.stringify(result));
            }
        }
        const waf = run.results.find((r: { ruleId: string }) => r.ruleId === "alb-waf-web-acl");
        assert.strictEqual(waf.locations[0].logicalLocations[0].name, "cgap-alb");
        assert.match(waf.locations[0].logicalLocations[0].fullyQualifiedName, /^urn:pulumi:production::cgap::.*cgap-alb$/);
        // The reviewers' reason is the suppression's justification; the violation is the message.
        const reason = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policy", "config.example.json"), "utf8"))["alb-waf-web-acl"].exceptions[0].reason;
        assert.strictEqual(waf.suppressions[0].justification, reason);
        assert.match(waf.message.text, /^cgap-alb \(aws:lb\/loadBalancer:LoadBalancer\): Load balancer "cgap-alb" has no AWS WAF web ACL/);

        // A refused rollout: the gate is an error on the stack, not suppressed.
        const refused = JSON.parse((await checkInProcess("--stack", "mastertest", "--rollout", "indexer", "--format", "sarif")).stdout);
        const gate = refused.runs[0].results.filter((r: { ruleId: string }) => r.ruleId === "indexer-deployment-bundle");
        assert.strictEqual(gate.length, 1);
        assert.strictEqual(gate[0].level, "error");
        assert.strictEqual(gate[0].suppressions, undefined);
        assert.deepStrictEqual(gate[0].locations[0].logicalLocations, [{ name: "mastertest", kind: "stack" }]);
    });

    it("refuses an indexer rolled out without the deployment image, exit 1", () => {
        const { status, stdout } = npmCheck("--stack", "mastertest", "--rollout", "indexer");
        assert.strictEqual(status, 1, stdout);
        const rows = planRows(stdout);
        assert.strictEqual(rows.indexer[2], "yes: built and pushed");
        assert.strictEqual(rows.deployment[2], "no: keeps the image it runs");
        assert.match(stdout, /^ {2}\[mandatory\] indexer-deployment-bundle: [^[]*cgap:rollout/m);
        assert.match(stdout, /^REFUSED: 1 mandatory violation; pulumi preview would stop here\.$/m);
    });

    it("wraps policy messages to 100 columns, and warns about config in a namespace nothing reads", async () => {
        const file = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml"), "utf8");
        const stack = `check-typo-${process.pid}`;
        const typo = path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(typo, `${file}  cgpa:rollout: [indexer]\n`);
        try {
            const { status, stdout } = await checkInProcess("--stack", stack, "--rollout", "indexer");
            assert.strictEqual(status, 1, stdout);
            assert.match(stdout, /^warning: Config key cgpa:rollout is ignored: nothing in this stack reads the namespace "cgpa"[^]*Did you mean cgap:rollout\?$/m);
            const diagnostics = stdout.slice(stdout.indexOf("Policy pack"), stdout.indexOf("REFUSED"));
            assert.ok(diagnostics.split("\n").every((line) => line.length <= 100), diagnostics);
            assert.match(diagnostics, /\n {6}\S/, "a long message continues on indented lines");
        } finally {
            fs.rmSync(typo, { force: true });
        }
    });

    it("refuses a production --target that leaves the deployment image behind, exit 1", async () => {
        const { status, stdout } = await checkInProcess("--stack", "production", "--target", "wsgi", "--target", "indexer", "--target", "ingester");
        assert.strictEqual(status, 1, stdout);
        assert.strictEqual(planRows(stdout).deployment[2], "no: --target leaves it alone");
        // The plan shows production's capacity mix and how ECS splits the count by it.
        assert.strictEqual(planRows(stdout).wsgi[5], "FARGATE base 2 + FARGATE_SPOT weight 1 (2 FARGATE, 0 FARGATE_SPOT)");
        assert.match(stdout, /^ {2}\[mandatory\] production-rollout-complete: /m);
        assert.match(stdout, /^ {2}\[mandatory\] indexer-deployment-bundle: /m);
        // Every role is in cgap:rollout: --target is the cause, and the fix says so instead of
        // asking to add roles that are already there.
        const messages = stdout.replace(/\s+/g, " ");
        assert.match(messages, /production-rollout-complete: .*?Fix: drop --target\. "deployment" is already in cgap:rollout/);
        assert.match(messages, /indexer-deployment-bundle: .*?Fix: drop --target\. "deployment" is already in cgap:rollout/);
        assert.doesNotMatch(messages, /add "deployment" to cgap:rollout/);
    });
});
