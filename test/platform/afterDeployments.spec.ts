// The deployment task after a rollout that Pulumi Deployments did: after-deployments.yml waits for
// the Deployments update of the pushed commit, then runs the task; deploy.yml stands aside.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { readStackConfig } from "../../ops/offline/stackFiles";
import { ownKeys } from "../../components/config";
import { parsePlatformConfig, PLATFORM_NAMESPACE } from "../../platform/components/config";
import { deploymentPaths } from "../../platform/components/stackDeployments";
import { PLATFORM_DIR, PLATFORM_STACK } from "./run";
import { PROJECT_DIR } from "../../ops/project";

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
}
interface Job {
    if?: string;
    needs?: string | string[];
    environment?: string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    steps: Step[];
}
interface Workflow {
    on: { push?: { branches?: string[]; paths?: string[] } };
    jobs: Record<string, Job>;
}

const WORKFLOWS = path.join(PROJECT_DIR, ".github", "workflows");
const load = (file: string) => parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
const BY_DEPLOYMENTS = "vars.ROLLOUT_RUNNER == 'pulumi-deployments'";

function index(job: Job, what: string, predicate: (s: Step) => boolean): number {
    const i = job.steps.findIndex(predicate);
    assert.ok(i >= 0, `missing step: ${what}`);
    return i;
}
const runs = (command: string) => (s: Step) => (s.run ?? "").trim() === command;
const uses = (action: string) => (s: Step) => s.uses?.split("@")[0] === action;

describe("the deployment task after a Pulumi Deployments rollout", () => {
    const wf = load("after-deployments.yml");

    it("runs for the pushes that start a Deployments update of the stack that deploys on merge", () => {
        const raw = ownKeys(readStackConfig(PLATFORM_STACK, PLATFORM_DIR, PLATFORM_NAMESPACE), PLATFORM_NAMESPACE);
        const onMerge = parsePlatformConfig(raw, {
            mastertest: { environment: "development" },
            production: { environment: "production" },
            sandbox: { environment: "development" },
        })
            .stacks.filter((s) => s.deployOnMerge)
            .map((s) => s.name);
        assert.deepStrictEqual(onMerge, ["mastertest"]);
        assert.deepStrictEqual(wf.on.push?.branches, ["main"]);
        assert.deepStrictEqual(wf.on.push?.paths, deploymentPaths("mastertest"));
    });

    it("waits for the update of the pushed commit, giving way to a newer merge", () => {
        const job = wf.jobs.wait;
        assert.strictEqual(job.if, BY_DEPLOYMENTS);
        assert.deepStrictEqual(job.concurrency, { group: "await-deployments-mastertest", "cancel-in-progress": true });
        assert.match(String(job.env?.PULUMI_ACCESS_TOKEN), /^\$\{\{ secrets\.PULUMI_ACCESS_TOKEN \}\}$/);
        const ci = index(job, "npm ci", runs("npm ci"));
        const cli = index(job, "the pulumi CLI", uses("pulumi/actions"));
        assert.strictEqual(job.steps[cli].with?.command, undefined, "the action only installs the CLI");
        const wait = index(job, "await-update", runs('npm run await-update -- --stack mastertest --commit "${{ github.sha }}"'));
        assert.ok(ci < wait && cli < wait);
    });

    it("then runs the deployment task once, never cancelled, with the deploy role through OIDC", () => {
        const job = wf.jobs["deployment-task"];
        assert.deepStrictEqual([job.needs].flat(), ["wait"]);
        assert.strictEqual(job.environment, "mastertest");
        assert.deepStrictEqual(job.concurrency, { group: "deployment-task-mastertest", "cancel-in-progress": false });
        assert.strictEqual(job.permissions?.["id-token"], "write");
        const creds = index(job, "AWS credentials", uses("aws-actions/configure-aws-credentials"));
        assert.strictEqual(job.steps[creds].with?.["role-to-assume"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}");
        assert.strictEqual(job.steps[creds].with?.["aws-access-key-id"], undefined);
        const cli = index(job, "the pulumi CLI (reads the outputs)", uses("pulumi/actions"));
        const task = index(job, "deployment-task", runs("npm run deployment-task -- --stack mastertest"));
        assert.ok(creds < task && cli < task);
    });

    it("and deploy.yml's own rollout stands aside exactly then", () => {
        assert.strictEqual(load("deploy.yml").jobs.up.if, "vars.ROLLOUT_RUNNER != 'pulumi-deployments'");
    });
});
