import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { readStackConfig } from "../../ops/offline/stackFiles";
import {
    ConfigError,
    groupPolicyConfig,
    parsePlatformConfig,
    PLATFORM_NAMESPACE,
    POLICY_CONFIG_FILE,
    PortalStack,
    ROLLOUT_GATES,
} from "../../platform/components/config";
import { packManifest, packSourceHash, packVersionTag } from "../../platform/components/packVersion";
import { ownKeys } from "../../components/config";
import { PLATFORM_DIR, PLATFORM_STACK } from "./run";
import { tempDir } from "../tempDirs";
import { POLICY_PACK_DIR, PROJECT_DIR } from "../../ops/project";

const PORTAL: Record<string, PortalStack> = { mastertest: { environment: "development" }, production: { environment: "production" } };
const MASTERTEST_ROLE = "arn:aws:iam::123456789012:role/cgap-mastertest-pulumi-deployments";
const PRODUCTION_ROLE = "arn:aws:iam::123456789012:role/cgap-production-pulumi-deployments";
const MINIMAL = {
    organization: "dbmi-bgm",
    repository: "dbmi-bgm/cgap-rollout-stack",
    stacks: JSON.stringify({ mastertest: { awsRoleArn: MASTERTEST_ROLE, deployOnMerge: true }, production: { awsRoleArn: PRODUCTION_ROLE } }),
};

function problems(raw: Record<string, string | undefined>, portal = PORTAL): string[] {
    try {
        parsePlatformConfig(raw, portal);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        return err.problems;
    }
    assert.fail("the config was accepted");
}

/** Parses, expecting exactly one problem, and returns its text. */
function problemWith(overrides: Record<string, string | undefined>): string {
    const found = problems({ ...MINIMAL, ...overrides });
    assert.strictEqual(found.length, 1, found.join("\n"));
    return found[0];
}

function stacksWith(stacks: Record<string, unknown>): string {
    return JSON.stringify(stacks);
}

describe("platform config", () => {
    it("reads the platform's own stack file: every portal stack, push-to-deploy for mastertest only", () => {
        const raw = ownKeys(readStackConfig(PLATFORM_STACK, PLATFORM_DIR, PLATFORM_NAMESPACE), PLATFORM_NAMESPACE);
        const config = parsePlatformConfig(raw, { ...PORTAL, sandbox: { environment: "development" } });
        assert.strictEqual(config.organization, "dbmi-bgm");
        assert.strictEqual(config.repository, "dbmi-bgm/cgap-rollout-stack");
        assert.strictEqual(config.branch, "main");
        assert.deepStrictEqual(config.stacks, [
            { name: "mastertest", awsRoleArn: MASTERTEST_ROLE, deployOnMerge: true, production: false },
            { name: "production", awsRoleArn: PRODUCTION_ROLE, deployOnMerge: false, production: true },
            {
                name: "sandbox",
                awsRoleArn: "arn:aws:iam::123456789012:role/cgap-sandbox-pulumi-deployments",
                deployOnMerge: false,
                production: false,
            },
        ]);
    });

    it("defaults the branch to main and push-to-deploy to off", () => {
        const config = parsePlatformConfig(
            { ...MINIMAL, stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE }, production: { awsRoleArn: PRODUCTION_ROLE } }) },
            PORTAL,
        );
        assert.strictEqual(config.branch, "main");
        assert.deepStrictEqual(config.stacks.map((s) => s.deployOnMerge), [false, false]);
    });

    it("refuses a stack the portal does not have, naming the portal's stacks", () => {
        const problem = problemWith({
            stacks: stacksWith({ ...JSON.parse(MINIMAL.stacks), staging: { awsRoleArn: MASTERTEST_ROLE } }),
        });
        assert.strictEqual(
            problem,
            'cgap-platform:stacks.staging: the portal has no stack "staging" (no Pulumi.staging.yaml); its stacks are mastertest, production.',
        );
    });

    it("refuses a stack without its AWS role ARN", () => {
        const problem = problemWith({ stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE }, production: {} }) });
        assert.match(problem, /^cgap-platform:stacks\.production\.awsRoleArn is required: the IAM role Pulumi Deployments assumes through OIDC/);
    });

    it("refuses a role ARN that is not an IAM role", () => {
        const problem = problemWith({
            stacks: stacksWith({ mastertest: { awsRoleArn: "arn:aws:iam::123456789012:user/deployer" }, production: { awsRoleArn: PRODUCTION_ROLE } }),
        });
        assert.match(problem, /^cgap-platform:stacks\.mastertest\.awsRoleArn is "arn:aws:iam::123456789012:user\/deployer"; it must be an IAM role ARN/);
    });

    it("refuses to leave a portal stack out (it would escape the policy group)", () => {
        const problem = problemWith({ stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE } }) });
        assert.match(problem, /^cgap-platform:stacks\.production is missing: every portal stack needs Deployments settings and the policy gate/);
    });

    it("refuses push-to-deploy on a production stack", () => {
        const problem = problemWith({
            stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE }, production: { awsRoleArn: PRODUCTION_ROLE, deployOnMerge: true } }),
        });
        assert.match(problem, /production is a production stack \(cgap:environment: production\): production is deployed only by an explicit trigger/);
    });

    it("recognizes production by the portal stack's environment, not its name", () => {
        const portal: Record<string, PortalStack> = { mastertest: { environment: "development" }, live: { environment: "production" } };
        const found = problems(
            { ...MINIMAL, stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE }, live: { awsRoleArn: PRODUCTION_ROLE, deployOnMerge: true } }) },
            portal,
        );
        assert.strictEqual(found.length, 1);
        assert.match(found[0], /^cgap-platform:stacks\.live\.deployOnMerge is true, but live is a production stack/);
    });

    it("refuses stored AWS keys and any other unknown stack setting", () => {
        const problem = problemWith({
            stacks: stacksWith({
                mastertest: { awsRoleArn: MASTERTEST_ROLE, awsAccessKeyId: "AKIAIOSFODNN7EXAMPLE" },
                production: { awsRoleArn: PRODUCTION_ROLE },
            }),
        });
        assert.match(problem, /^cgap-platform:stacks\.mastertest\.awsAccessKeyId is not a stack setting; settings are awsRoleArn, deployOnMerge \(AWS access is OIDC only\)\.$/);
    });

    it("refuses deployOnMerge that is not a boolean", () => {
        const problem = problemWith({
            stacks: stacksWith({ mastertest: { awsRoleArn: MASTERTEST_ROLE, deployOnMerge: "yes" }, production: { awsRoleArn: PRODUCTION_ROLE } }),
        });
        assert.strictEqual(problem, 'cgap-platform:stacks.mastertest.deployOnMerge is "yes"; it must be true or false.');
    });

    it("requires the organization, the repository and the stacks", () => {
        const found = problems({});
        assert.deepStrictEqual(
            found.map((p) => p.split(" is required")[0]),
            ["cgap-platform:organization", "cgap-platform:repository", "cgap-platform:stacks"],
        );
    });

    it("refuses a repository that is not owner/name and an unknown key", () => {
        assert.strictEqual(
            problemWith({ repository: "https://github.com/dbmi-bgm/cgap-rollout-stack" }),
            'cgap-platform:repository is "https://github.com/dbmi-bgm/cgap-rollout-stack"; it must be the GitHub repository as owner/name, e.g. dbmi-bgm/cgap-rollout-stack.',
        );
        assert.match(problemWith({ organisation: "dbmi-bgm" }), /^cgap-platform:organisation is not a setting of the platform; known keys: organization, repository, branch, stacks\.$/);
    });

    it("refuses stacks that are not a map", () => {
        assert.match(problemWith({ stacks: '["mastertest"]' }), /^cgap-platform:stacks must be a map of portal stack name to settings/);
    });

    it("lists every problem at once", () => {
        const found = problems({ ...MINIMAL, organization: "", stacks: stacksWith({ mastertest: {}, staging: {} }) });
        assert.strictEqual(found.length, 4, found.join("\n"));
    });
});

describe("the policy group's config", () => {
    const file = path.join(PROJECT_DIR, POLICY_CONFIG_FILE);
    const content = () => JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;

    it("is the reviewers' file as written, with both rollout gates mandatory", () => {
        const config = groupPolicyConfig(POLICY_CONFIG_FILE, content());
        const { [ROLLOUT_GATES[0]]: first, [ROLLOUT_GATES[1]]: second, ...compliance } = config;
        const { [ROLLOUT_GATES[0]]: _a, [ROLLOUT_GATES[1]]: _b, ...fileCompliance } = content();
        assert.deepStrictEqual(compliance, fileCompliance);
        for (const gate of [first, second]) {
            assert.strictEqual(typeof gate === "string" ? gate : (gate as Record<string, unknown>).enforcementLevel, "mandatory");
        }
    });

    it("keeps a gate's own settings", () => {
        const config = groupPolicyConfig("f.json", { "production-rollout-complete": { productionStacks: ["live"] } });
        assert.deepStrictEqual(config["production-rollout-complete"], { productionStacks: ["live"], enforcementLevel: "mandatory" });
        assert.strictEqual(config["indexer-deployment-bundle"], "mandatory");
    });

    it("refuses a file that lowers a rollout gate", () => {
        for (const lowered of ["advisory", "disabled", { enforcementLevel: "advisory" }]) {
            assert.throws(
                () => groupPolicyConfig("f.json", { ...content(), "indexer-deployment-bundle": lowered }),
                (err: unknown) =>
                    err instanceof ConfigError &&
                    err.problems.length === 1 &&
                    /^f\.json: "indexer-deployment-bundle" is a rollout gate and stays mandatory; the config asks for "(advisory|disabled)"/.test(err.problems[0]),
            );
        }
    });

    it("refuses a file that lowers the gates through \"all\", and accepts it when the gates are named mandatory", () => {
        assert.throws(
            () => groupPolicyConfig("f.json", { all: "advisory" }),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.problems.length === ROLLOUT_GATES.length &&
                err.problems.every((p) => /is a rollout gate and stays mandatory; the config asks for "advisory" \(through "all": "advisory"\)/.test(p)),
        );
        const config = groupPolicyConfig("f.json", { all: "advisory", [ROLLOUT_GATES[0]]: "mandatory", [ROLLOUT_GATES[1]]: { enforcementLevel: "mandatory" } });
        assert.strictEqual(config.all, "advisory");
        assert.strictEqual(config[ROLLOUT_GATES[0]], "mandatory");
        assert.deepStrictEqual(config[ROLLOUT_GATES[1]], { enforcementLevel: "mandatory" });
    });

    it("refuses an unknown level and a file that is not an object", () => {
        assert.throws(() => groupPolicyConfig("f.json", { "ecr-scan-on-push": "required" }), /f\.json: "ecr-scan-on-push" sets enforcement level "required"; levels are advisory, mandatory, remediate, disabled\./);
        assert.throws(() => groupPolicyConfig("f.json", ["mandatory"]), /f\.json must be a JSON object/);
    });

    it("comes from the file the docs' policy previews pass as --policy-pack-config", () => {
        const docs = path.join(PROJECT_DIR, "docs");
        const readme = ["README.md", ...fs.readdirSync(docs).filter((f) => f.endsWith(".md")).map((f) => path.join("docs", f))]
            .map((f) => fs.readFileSync(path.join(PROJECT_DIR, f), "utf8"))
            .join("\n");
        const used = [...readme.matchAll(/--policy-pack-config\s+([^\s`)]+)/g)].map((m) => m[1]);
        assert.ok(used.length > 0, "neither the README nor docs/ shows a --policy-pack-config");
        assert.deepStrictEqual([...new Set(used)], [POLICY_CONFIG_FILE]);
    });
});

describe("the pack the platform publishes", () => {
    it("agrees with the pack on its name and rollout gates", async () => {
        const { POLICY_PACK_NAME, rolloutPolicies } = await import("../../policy/policies");
        assert.strictEqual(packManifest(POLICY_PACK_DIR).name, POLICY_PACK_NAME);
        assert.deepStrictEqual(rolloutPolicies.map((p) => p.name), [...ROLLOUT_GATES]);
        assert.deepStrictEqual(rolloutPolicies.map((p) => p.enforcementLevel), ROLLOUT_GATES.map(() => "mandatory"));
    });

    describe("version tag", () => {
        let scratch: string;
        beforeEach(() => {
            scratch = tempDir("pack-version");
            fs.cpSync(POLICY_PACK_DIR, scratch, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
        });

        it("is package.json's version and the source hash, a tag Pulumi Cloud and semver accept", () => {
            const tag = packVersionTag(POLICY_PACK_DIR);
            assert.match(tag, /^1\.0\.0-h[0-9a-f]{12}$/);
            assert.match(tag, /^[a-zA-Z0-9-_.]{1,100}$/);
            assert.strictEqual(tag, `1.0.0-h${packSourceHash(POLICY_PACK_DIR).slice(0, 12)}`);
        });

        it("ignores node_modules, as the provider does", () => {
            assert.strictEqual(packVersionTag(scratch), packVersionTag(POLICY_PACK_DIR));
            fs.mkdirSync(path.join(scratch, "node_modules", "x"), { recursive: true });
            fs.writeFileSync(path.join(scratch, "node_modules", "x", "index.js"), "changed");
            assert.strictEqual(packVersionTag(scratch), packVersionTag(POLICY_PACK_DIR));
        });

        it("changes with any change the provider would publish: content, a new file, a mode", () => {
            const before = packVersionTag(scratch);
            fs.appendFileSync(path.join(scratch, "rollout.ts"), "\n// a comment is a change\n");
            const edited = packVersionTag(scratch);
            assert.notStrictEqual(edited, before);
            fs.writeFileSync(path.join(scratch, "notes.txt"), "new");
            const added = packVersionTag(scratch);
            assert.notStrictEqual(added, edited);
            fs.chmodSync(path.join(scratch, "notes.txt"), 0o755);
            assert.notStrictEqual(packVersionTag(scratch), added);
        });

        it("stays the same when the pack is rebuilt from unchanged sources (npm ci, npm pack)", () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { stampBuild } = require(path.join(scratch, "entry.js")) as { stampBuild(dir: string): void };
            fs.mkdirSync(path.join(scratch, "bin"), { recursive: true });
            stampBuild(scratch);
            const built = packVersionTag(scratch);
            stampBuild(scratch);
            assert.strictEqual(packVersionTag(scratch), built);
        });

        it("refuses a package.json without an x.y.z version", () => {
            const manifest = JSON.parse(fs.readFileSync(path.join(scratch, "package.json"), "utf8"));
            fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ ...manifest, version: "latest" }));
            assert.throws(() => packVersionTag(scratch), /"version" must be x\.y\.z, got "latest"/);
        });
    });
});
