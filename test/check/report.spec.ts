// What `npm run check` says beyond the verdict: the roles a partial rollout leaves alone, tags moved
// in ECR outside the stack, and what the update phase cannot see. Runs check() in-process.
import * as assert from "assert";
import { check as runCheck, CheckArgs, OfflineCloud, UPDATE_PHASE_NOTE } from "../../ops/offline/check";
import { mockDigest, PLACEHOLDER_ACCOUNT, placeholderRegistry } from "../../ops/offline/program";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { configHash, packHash } from "../../ops/offline/provenance";
import { PROJECT_DIR } from "../../ops/project";
import { complianceChecks } from "../../policy/policies";
import { tempDir } from "../tempDirs";
import { checkInProcess, SHARED_PACKS } from "./runCheck";

/** check() with the packs the tests share: each policy config starts its pack once per file, not once per call. */
const check = (args: CheckArgs, cloud?: OfflineCloud) => runCheck(args, cloud, SHARED_PACKS);
import { validateSarif } from "./sarifSchema";

function planRow(text: string, role: string): string[] {
    const line = text.split("\n").find((l) => l.startsWith(`${role} `));
    assert.ok(line, text);
    return line.split(/\s{2,}/);
}

describe("npm run check's report", function () {
    this.timeout(120000);

    it("a front-end-only rollout: the left-out roles keep the image they run, and a hand-pushed tag is a warning", async () => {
        const registry = { ...placeholderRegistry(), "latest-indexer": mockDigest("pushed by hand") };
        const running = { indexer: mockDigest("what the indexer runs") };
        const { text, exitCode } = await check({ stack: "mastertest", rollout: "wsgi", targets: [], update: false }, { registry, running });
        assert.strictEqual(exitCode, 0, text);
        assert.strictEqual(planRow(text, "wsgi")[2], "yes: built and pushed");
        for (const role of ["indexer", "ingester", "deployment"]) {
            assert.strictEqual(planRow(text, role)[2], "no: keeps the image it runs", text);
        }
        assert.match(text, /^Left out of cgap:rollout: indexer, ingester, deployment\. Each keeps the image this stack last recorded for it/m);
        // Wrapped to the terminal: a continued line is indented by four spaces.
        const warnings = text.replace(/\n {4}/g, " ").split("\n").filter((l) => l.startsWith("warning: "));
        assert.deepStrictEqual(warnings, [
            `warning: latest-indexer in ECR is ${registry["latest-indexer"].slice(0, 19)} but indexer runs ${running.indexer.slice(0, 19)}: ` +
                `the tag moved outside this stack. Left out of cgap:rollout, indexer keeps running ${running.indexer.slice(0, 19)}; ` +
                "a rollout that includes indexer builds cgap:appVersion anew and pushes it over latest-indexer, so indexer would " +
                `run that new build, never ${registry["latest-indexer"].slice(0, 19)}.`,
        ]);
        assert.ok(!text.replace(/\n {4}/g, " ").includes(UPDATE_PHASE_NOTE));
    });

    it("--update says that its PASS approves no partial rollout", async () => {
        // The indexer pushed while the deployment image stays: refused in the preview, unseen in the update.
        const args = { stack: "mastertest", rollout: "indexer,deployment", targets: ["indexer" as const] };
        assert.strictEqual((await check({ ...args, update: false })).exitCode, 1);
        const { text, exitCode } = await check({ ...args, update: true });
        assert.strictEqual(exitCode, 0, text);
        assert.ok(text.replace(/\n {4}/g, " ").includes(`\n${UPDATE_PHASE_NOTE}\n\nPASS: `), text);
        assert.match(UPDATE_PHASE_NOTE, /cannot see which images changed/);
        assert.match(UPDATE_PHASE_NOTE, /approves no partial rollout/);
        // The verdict line itself says it, where a reader of the last line meets it.
        assert.match(text.replace(/\n {4}/g, " "), /^PASS: no mandatory policy is violated; the update phase cannot see which roles changed, so this approves no partial rollout\.$/m);
    });

    it("refuses bad config as the program would, before the program or the pack starts", async () => {
        // A ConfigError, not a ProgramError: the stack's cgap: config was judged before the program
        // ran under mocks (a run would wrap the same problem in a ProgramError). Told by class name:
        // each run under mocks loads components/ afresh, so the class object is not always this file's.
        await assert.rejects(check({ stack: "mastertest", rollout: "wsgi,web", targets: [], update: false }), (err: Error) => {
            assert.strictEqual(err.constructor.name, "ConfigError", err.message);
            assert.match(err.message, /cgap:rollout is "wsgi,web"; it names "web"/);
            return true;
        });
        await assert.rejects(check({ stack: "mastertest", rollout: "wsgi", targets: ["indexer"], update: false }), /--target indexer: not in cgap:rollout \(wsgi\)/);
    });
});

describe("the compliance report's provenance", function () {
    this.timeout(120000);

    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT_DIR, encoding: "utf8" }).trim();
    const configPath = path.join(PROJECT_DIR, "policy", "config.example.json");

    it("names each exception that accepts nothing as stale, in the text and the JSON, and still passes", async () => {
        const config = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "policy", "config.example.json"), "utf8"));
        config["lb-deletion-protection"] = {
            enforcementLevel: "advisory",
            exceptions: [
                { resource: "cgap-alb", reason: "kept from when deletion protection was off" },
                { resource: "cgap-old-alb", stack: "mastertest", reason: "the load balancer mastertest had before" },
            ],
        };
        const file = path.join(tempDir("stale"), "policy-config.json");
        fs.writeFileSync(file, JSON.stringify(config));
        const { text, exitCode } = await check({ stack: "mastertest", targets: [], update: false, policyConfig: file, width: 1000 });
        assert.strictEqual(exitCode, 0, text);
        const stale = text.split("\n").filter((l) => l.trimStart().startsWith("stale exception"));
        assert.deepStrictEqual(stale, [
            `  stale exception lb-deletion-protection "cgap-alb": "cgap-alb" passes, so the exception accepts nothing; remove it from ${path.relative(process.cwd(), file)} or name the stacks it is for.`,
            `  stale exception lb-deletion-protection "cgap-old-alb" (stack mastertest): no resource named "cgap-old-alb" is judged by this policy on this stack; remove it from ${path.relative(process.cwd(), file)}.`,
        ]);
        const { report } = await check({ stack: "mastertest", targets: [], update: false, policyConfig: file, format: "json" });
        assert.deepStrictEqual(
            report.staleExceptions.map((e) => [e.policy, e.resource, e.stack]),
            [
                ["lb-deletion-protection", "cgap-alb", null],
                ["lb-deletion-protection", "cgap-old-alb", "mastertest"],
            ],
        );
        assert.strictEqual(report.summary.staleExceptions, 2);
    });

    it("lists a disabled policy as disabled, in the text and the JSON, never as a pass", async () => {
        const file = path.join(tempDir("disabled"), "policy-config.json");
        fs.writeFileSync(file, JSON.stringify({ "alb-waf-web-acl": "disabled" }));
        const { text, exitCode, report } = await check({ stack: "production", targets: [], update: false, policyConfig: file, format: "json", width: 1000 });
        assert.strictEqual(exitCode, 0, text);
        assert.deepStrictEqual(
            report.results.filter((r) => r.policy === "alb-waf-web-acl").map((r) => [r.verdict, r.level, r.resource]),
            [["disabled", "disabled", null]],
        );
        assert.strictEqual(report.summary.disabled, 1);
        const lines = (await check({ stack: "production", targets: [], update: false, policyConfig: file, width: 1000 })).text.split("\n");
        assert.ok(lines.includes("  disabled NIST 800-53 ELB.16 (alb-waf-web-acl): the policy config turns it off"), lines.join("\n"));
    });

    it("counts a failure at remediate as mandatory, as the engine does: the check refuses and the report says so", async () => {
        // Without its exception, production's ALB fails ELB.16; "remediate" on a validation policy
        // stops the run like "mandatory" (pulumi/pulumi step_generator.go).
        const file = path.join(tempDir("remediate"), "policy-config.json");
        fs.writeFileSync(file, JSON.stringify({ "alb-waf-web-acl": "remediate" }));
        const { text, exitCode, report } = await check({ stack: "production", targets: [], update: false, policyConfig: file, format: "json" });
        assert.strictEqual(exitCode, 1, text);
        assert.deepStrictEqual(
            report.results.filter((r) => r.verdict === "fail" && r.level === "remediate").map((r) => `${r.policy} ${r.resource?.name}`),
            ["alb-waf-web-acl cgap-alb"],
        );
        assert.strictEqual(report.summary.mandatoryFailures, 1);
    });

    it("says what a preview's PASS leaves to the update: the mandatory verdicts it cannot know yet", async () => {
        const { text, exitCode, report } = await check({ stack: "production", targets: [], update: false, width: 1000 });
        assert.strictEqual(exitCode, 0, text);
        const unknown = report.results.filter((r) => r.verdict === "unknown" && r.level === "mandatory");
        assert.ok(unknown.length > 0, "a preview of production has mandatory verdicts it cannot know");
        assert.strictEqual(report.summary.mandatoryUnknown, unknown.length);
        const after = text.split("\n").slice(text.split("\n").findIndex((l) => l.startsWith("PASS: ")));
        assert.match(after[1], new RegExp(`^${unknown.length} verdicts of mandatory policies \\(.*ecs-task-image-pinned-by-digest.*\\) are not known until the update, which judges them and stops on a failure; this PASS does not cover them\\.$`));
        // The update knows them all, and its PASS needs no such line.
        const update = await check({ stack: "production", targets: [], update: true, width: 1000 });
        assert.strictEqual(update.report.summary.mandatoryUnknown, 0);
        assert.doesNotMatch(update.text, /not known until the update/);
    });

    it("--format json carries date, commit, pack and config hashes, the arguments, the offline flag and not-applicable rows", async () => {
        const before = Date.now();
        const { status, stdout } = await checkInProcess("--stack", "mastertest", "--rollout", "wsgi,indexer,deployment", "--target", "indexer", "--target", "deployment", "--format", "json");
        assert.ok(status === 0 || status === 1, stdout);
        const report = JSON.parse(stdout);
        const p = report.provenance;
        assert.ok(Date.parse(p.generatedAt) >= before - 1000 && Date.parse(p.generatedAt) <= Date.now(), p.generatedAt);
        assert.strictEqual(p.git.commit, commit);
        assert.strictEqual(typeof p.git.dirty, "boolean");
        assert.strictEqual(p.pack.version, report.pack.version);
        assert.strictEqual(p.pack.sha256, packHash(path.join(PROJECT_DIR, "policy")));
        assert.match(p.policyConfig.sha256, /^[0-9a-f]{64}$/);
        assert.deepStrictEqual(p.arguments, { stack: "mastertest", rollout: "wsgi,indexer,deployment", targets: ["indexer", "deployment"], update: false, format: "json" });
        assert.deepStrictEqual(p.offline, { underMocks: true, placeholderAccount: PLACEHOLDER_ACCOUNT, registry: "placeholder" });
        // mastertest takes its network, repository and queue from the estate: judged there, listed here.
        const parts = report.notApplicable.filter((r: { control: string | null }) => r.control === null).map((r: { subject: string }) => r.subject);
        assert.ok(parts.includes("network"), JSON.stringify(report.notApplicable));
        // Every compliance policy either judged something, was disabled, or is listed as not applicable.
        for (const check of complianceChecks) {
            const judged = report.results.some((r: { policy: string }) => r.policy === check.name);
            const listed = report.notApplicable.some((r: { subject: string }) => r.subject === check.name);
            assert.ok(judged !== listed, `${check.name}: judged ${judged}, listed not applicable ${listed}`);
        }
    });

    it("the config hash follows the config's content, not its file name or layout", () => {
        const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
        const reordered = Object.fromEntries(Object.entries(config).reverse());
        assert.strictEqual(configHash(reordered), configHash(config));
        const first = Object.keys(config)[0];
        assert.notStrictEqual(configHash({ ...config, [first]: "disabled" }), configHash(config));
    });

    it("--format sarif carries the invocation and the commit, and validates against the SARIF 2.1.0 schema", async () => {
        const saved = { server: process.env.GITHUB_SERVER_URL, repo: process.env.GITHUB_REPOSITORY };
        process.env.GITHUB_SERVER_URL = "https://github.com";
        process.env.GITHUB_REPOSITORY = "dbmi-bgm/cgap-rollout";
        let stdout: string;
        try {
            ({ stdout } = await checkInProcess("--stack", "mastertest", "--rollout", "indexer", "--format", "sarif"));
        } finally {
            for (const [key, value] of [["GITHUB_SERVER_URL", saved.server], ["GITHUB_REPOSITORY", saved.repo]] as const) {
                if (value === undefined) delete process.env[key];
                else process.env[key] = value;
            }
        }
        const log = JSON.parse(stdout);
        assert.deepStrictEqual(validateSarif(log), []);
        const run = log.runs[0];
        assert.deepStrictEqual(run.invocations[0].arguments, ["--stack", "mastertest", "--rollout", "indexer", "--format", "sarif"]);
        assert.strictEqual(run.invocations[0].properties.offline.placeholderAccount, PLACEHOLDER_ACCOUNT);
        assert.deepStrictEqual(
            run.versionControlProvenance.map((v: { repositoryUri: string; revisionId: string }) => [v.repositoryUri, v.revisionId]),
            [["https://github.com/dbmi-bgm/cgap-rollout", commit]],
        );
        // The validator is not a rubber stamp: a result without its message is refused.
        const broken = JSON.parse(stdout);
        delete broken.runs[0].results[0].message;
        assert.notDeepStrictEqual(validateSarif(broken), []);
    });
});
