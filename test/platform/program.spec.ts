import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ProgramError, ProgramResult, RegisteredResource } from "../../ops/offline/program";
import { committedStackNames } from "../../ops/offline/stackFiles";
import { groupPolicyConfig, POLICY_CONFIG_FILE, ROLLOUT_GATES } from "../../platform/components/config";
import { packVersionTag } from "../../platform/components/packVersion";
import { deploymentPaths } from "../../platform/components/stackDeployments";
import { inputs, ofType, one } from "../program/helpers";
import { PT, runPlatform } from "./run";
import { tempDir } from "../tempDirs";
import { POLICY_PACK_DIR, PROJECT_DIR } from "../../ops/project";

const ROLES: Record<string, string> = {
    mastertest: "arn:aws:iam::123456789012:role/cgap-mastertest-pulumi-deployments",
    production: "arn:aws:iam::123456789012:role/cgap-production-pulumi-deployments",
};

function settingsOf(run: ProgramResult, stack: string): Record<string, any> {
    return inputs(one(run.resources, PT.deploymentSettings, `${stack}-settings`));
}

/** Whether a Pulumi path filter list lets a push that changes `file` start a deployment. */
function triggers(paths: string[], file: string): boolean {
    const includes = paths.filter((p) => !p.startsWith("!"));
    const excludes = paths.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
    return includes.some((p) => path.matchesGlob(file, p)) && !excludes.some((p) => path.matchesGlob(file, p));
}

describe("the platform project (pulumi up of platform/ with Pulumi.platform.yaml)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runPlatform();
    });

    describe("the cgap-rollout pack", () => {
        it("is published from policy/ under the version tag of its current sources, and kept when replaced", () => {
            const pack = one(run.resources, PT.policyPack, "cgap-pack");
            assert.deepStrictEqual(inputs(pack), {
                organization: "dbmi-bgm",
                name: "cgap-rollout",
                versionTag: packVersionTag(POLICY_PACK_DIR),
                sourcePath: POLICY_PACK_DIR,
            });
            assert.ok(fs.existsSync(path.join(inputs(pack).sourcePath, "PulumiPolicy.yaml")));
            assert.strictEqual(pack.retainOnDelete, true, "a replaced version is kept");
        });
    });

    describe("the policy group", () => {
        let group: RegisteredResource;
        before(() => {
            group = one(run.resources, PT.policyGroup, "cgap-group");
        });

        it("is preventative, over stacks", () => {
            assert.strictEqual(inputs(group).mode, "preventative");
            assert.strictEqual(inputs(group).entityType, "stacks");
            assert.strictEqual(inputs(group).organizationName, "dbmi-bgm");
        });

        it("gates every portal stack of the cgap project", () => {
            assert.deepStrictEqual(
                inputs(group).stacks,
                committedStackNames(PROJECT_DIR).map((name) => ({ name, routingProject: "cgap" })),
            );
            assert.deepStrictEqual(committedStackNames(PROJECT_DIR), ["mastertest", "production", "sandbox"]);
        });

        it("counts the stack files git tracks, not one only written locally", () => {
            const repo = tempDir("stack-files");
            for (const file of ["Pulumi.yaml", "Pulumi.alpha.yaml", "Pulumi.beta.yaml", "Pulumi.local.yaml"]) {
                fs.writeFileSync(path.join(repo, file), "config: {}\n");
            }
            const git = (...args: string[]) => spawnSync("git", args, { cwd: repo, encoding: "utf8" });
            assert.throws(() => committedStackNames(repo), /cannot list the committed stack files in .* \(run from a git checkout\)/);
            git("init", "-q");
            git("add", "Pulumi.yaml", "Pulumi.alpha.yaml", "Pulumi.beta.yaml");
            assert.deepStrictEqual(committedStackNames(repo), ["alpha", "beta"]);
        });

        it("runs the published version of the pack with the reviewers' levels and mandatory gates", () => {
            const pack = one(run.resources, PT.policyPack, "cgap-pack");
            const file = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, POLICY_CONFIG_FILE), "utf8"));
            assert.deepStrictEqual(inputs(group).policyPacks, [
                { name: "cgap-rollout", versionTag: packVersionTag(POLICY_PACK_DIR), config: groupPolicyConfig(POLICY_CONFIG_FILE, file) },
            ]);
            const config = inputs(group).policyPacks[0].config;
            for (const gate of ROLLOUT_GATES) {
                const level = typeof config[gate] === "string" ? config[gate] : config[gate].enforcementLevel;
                assert.strictEqual(level, "mandatory", gate);
            }
            assert.ok(group.dependencies.includes(pack.urn), "the group waits for the pack version it names");
        });
    });

    describe("Deployments settings", () => {
        it("exist for every portal stack, deploying the cgap project from the repository's main branch", () => {
            assert.deepStrictEqual(
                ofType(run.resources, PT.deploymentSettings).map((r) => r.name).sort(),
                ["mastertest-settings", "production-settings", "sandbox-settings"],
            );
            for (const stack of ["mastertest", "production"]) {
                const s = settingsOf(run, stack);
                assert.deepStrictEqual([s.organization, s.project, s.stack], ["dbmi-bgm", "cgap", stack]);
                assert.deepStrictEqual(s.sourceContext, { git: { branch: "refs/heads/main", repoDir: "." } });
                assert.strictEqual(s.vcs.provider, "github");
                assert.strictEqual(s.vcs.repository, "dbmi-bgm/cgap-rollout-stack");
                assert.strictEqual(s.github, undefined, "the deprecated github block is not used");
            }
        });

        it("preview every pull request on every stack", () => {
            for (const stack of ["mastertest", "production"]) {
                assert.strictEqual(settingsOf(run, stack).vcs.previewPullRequests, true, stack);
                assert.strictEqual(settingsOf(run, stack).vcs.pullRequestTemplate, false, stack);
            }
        });

        it("deploy on merge for mastertest only: production waits for an explicit trigger", () => {
            assert.strictEqual(settingsOf(run, "mastertest").vcs.deployCommits, true);
            assert.strictEqual(settingsOf(run, "production").vcs.deployCommits, false);
        });

        it("start only for changes to the program, the images, the policy pack or the stack's own file", () => {
            for (const stack of ["mastertest", "production"]) {
                const paths: string[] = settingsOf(run, stack).vcs.paths;
                assert.deepStrictEqual(paths, deploymentPaths(stack));
                const other = stack === "mastertest" ? "production" : "mastertest";
                for (const file of ["index.ts", "components/services.ts", "images/Dockerfile", "images/ini/any.ini", "policy/rollout.ts", "Pulumi.yaml", `Pulumi.${stack}.yaml`, "package-lock.json"]) {
                    assert.ok(triggers(paths, file), `${stack}: a change to ${file} should deploy`);
                }
                for (const file of ["README.md", "test/program/stack.spec.ts", "ops/aws/info.ts", ".github/workflows/deploy.yml", "platform/index.ts", "platform/Pulumi.platform.yaml", `Pulumi.${other}.yaml`]) {
                    assert.ok(!triggers(paths, file), `${stack}: a change to ${file} should not deploy`);
                }
            }
        });

        it("skip intermediate deployments and install dependencies themselves", () => {
            for (const stack of ["mastertest", "production"]) {
                assert.deepStrictEqual(settingsOf(run, stack).operationContext.options, {
                    skipIntermediateDeployments: true,
                    skipInstallDependencies: true,
                });
            }
        });

        it("get AWS credentials through OIDC with the stack's own role", () => {
            for (const stack of ["mastertest", "production"]) {
                const oidc = settingsOf(run, stack).operationContext.oidc;
                assert.deepStrictEqual(Object.keys(oidc), ["aws"]);
                assert.strictEqual(oidc.aws.roleARN, ROLES[stack]);
                assert.match(oidc.aws.sessionName, /^cgap-\$\{stack\.name\}-\$\{operation\}-\$\{deployment\.version\}$/);
            }
        });

        it("hold no secret and no long-lived credential, in plain text or otherwise", () => {
            for (const stack of ["mastertest", "production"]) {
                const s = settingsOf(run, stack);
                assert.strictEqual(s.operationContext.environmentVariables, undefined);
                assert.strictEqual(s.sourceContext.git.gitAuth, undefined);
                assert.strictEqual(s.executorContext, undefined);
                const text = JSON.stringify(s);
                for (const forbidden of [/AKIA[0-9A-Z]{16}/, /AWS_SECRET_ACCESS_KEY/i, /aws_access_key_id/i, /password/i, /sshPrivateKey/i, /token/i]) {
                    assert.doesNotMatch(text, forbidden, stack);
                }
            }
        });
    });

    describe("the preview that gates an update", () => {
        let bin: string;
        let log: string;
        before(() => {
            // Stand-ins for npm and pulumi that log their arguments; PREVIEW_EXIT is pulumi's exit code.
            bin = tempDir("pre-run");
            log = path.join(bin, "calls.log");
            for (const tool of ["npm", "pulumi"]) {
                fs.writeFileSync(
                    path.join(bin, tool),
                    `#!/bin/sh\necho "${tool} $*" >> "${log}"\n[ "${tool}" = pulumi ] && exit "\${PREVIEW_EXIT:-0}"\nexit 0\n`,
                    { mode: 0o755 },
                );
            }
        });

        /** Runs the stack's pre-run commands as Deployments does: each line in its own bash, stopping at the first failure. */
        function preRun(stack: string, env: Record<string, string>): { status: number; calls: string[] } {
            fs.rmSync(log, { force: true });
            let status = 0;
            for (const line of settingsOf(run, stack).operationContext.preRunCommands as string[]) {
                const result = spawnSync("bash", ["-c", line], {
                    env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
                    encoding: "utf8",
                });
                status = result.status ?? 1;
                if (status !== 0) {
                    break;
                }
            }
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            return { status, calls };
        }

        it("installs the dependencies, then previews the stack with its policy group before an update", () => {
            for (const stack of ["mastertest", "production"]) {
                for (const operation of ["update", "remediate-drift"]) {
                    assert.deepStrictEqual(preRun(stack, { PULUMI_CI_OPERATION: operation }), {
                        status: 0,
                        calls: ["npm ci --no-audit --no-fund", `pulumi preview --stack dbmi-bgm/cgap/${stack} --non-interactive`],
                    });
                }
            }
        });

        it("previews when the operation is not known (fails closed)", () => {
            assert.deepStrictEqual(preRun("mastertest", {}).calls.at(-1), "pulumi preview --stack dbmi-bgm/cgap/mastertest --non-interactive");
        });

        it("does not preview twice for a pull-request preview, nor for refresh or destroy", () => {
            for (const operation of ["preview", "refresh", "destroy", "detect-drift"]) {
                assert.deepStrictEqual(preRun("mastertest", { PULUMI_CI_OPERATION: operation }).calls, ["npm ci --no-audit --no-fund"]);
            }
        });

        it("fails the deployment when the policy group refuses the preview", () => {
            const { status } = preRun("production", { PULUMI_CI_OPERATION: "update", PREVIEW_EXIT: "255" });
            assert.strictEqual(status, 255);
        });
    });

    describe("stack tags", () => {
        it("tag production environment=production, and nothing else", () => {
            const tags = ofType(run.resources, PT.stackTag);
            assert.deepStrictEqual(
                tags.map((t) => inputs(t)),
                [{ organization: "dbmi-bgm", project: "cgap", stack: "production", name: "environment", value: "production" }],
            );
        });
    });

    describe("components", () => {
        it("one policy gate and one StackDeployments per stack, every resource their child", () => {
            const gate = one(run.resources, PT.policyGate, "cgap");
            const byStack = ["mastertest", "production"].map((s) => one(run.resources, PT.stackDeployments, s));
            for (const r of ofType(run.resources, PT.policyPack).concat(ofType(run.resources, PT.policyGroup))) {
                assert.strictEqual(r.parent, gate.urn);
            }
            for (const [i, stack] of ["mastertest", "production"].entries()) {
                assert.strictEqual(one(run.resources, PT.deploymentSettings, `${stack}-settings`).parent, byStack[i].urn);
            }
            assert.strictEqual(one(run.resources, PT.stackTag, "production-environment").parent, byStack[1].urn);
        });

        it("exports the pack version, the group and how each stack deploys", () => {
            assert.deepStrictEqual(run.outputs.policyPack, { name: "cgap-rollout", versionTag: packVersionTag(POLICY_PACK_DIR) });
            assert.strictEqual(run.outputs.policyGroup, "cgap-portal");
            assert.deepStrictEqual(run.outputs.deployments, {
                mastertest: "on merge to main",
                production: "on demand only",
                sandbox: "on demand only",
            });
        });
    });
});

describe("the platform project with a bad config", () => {
    async function failure(config: Record<string, string>): Promise<ProgramError> {
        try {
            await runPlatform(config);
        } catch (err) {
            assert.ok(err instanceof ProgramError, `expected a ProgramError, got ${err}`);
            return err;
        }
        assert.fail("the platform accepted the config");
    }

    it("fails on a stack the portal does not have, declaring nothing", async () => {
        const err = await failure({
            "cgap-platform:stacks": JSON.stringify({
                mastertest: { awsRoleArn: ROLES.mastertest },
                production: { awsRoleArn: ROLES.production },
                staging: { awsRoleArn: ROLES.mastertest },
            }),
        });
        assert.strictEqual(err.name, "ConfigError");
        assert.match(err.message, /cgap-platform:stacks\.staging: the portal has no stack "staging" \(no Pulumi\.staging\.yaml\); its stacks are mastertest, production, sandbox\./);
        assert.deepStrictEqual(err.resources.filter((r) => r.type.startsWith("pulumiservice:")), []);
    });

    it("fails on a stack without its role ARN, declaring nothing", async () => {
        const err = await failure({ "cgap-platform:stacks": JSON.stringify({ mastertest: { deployOnMerge: true }, production: { awsRoleArn: ROLES.production } }) });
        assert.strictEqual(err.name, "ConfigError");
        assert.match(err.message, /cgap-platform:stacks\.mastertest\.awsRoleArn is required/);
        assert.deepStrictEqual(err.resources.filter((r) => r.type.startsWith("pulumiservice:")), []);
    });
});
