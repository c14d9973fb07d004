// The GitHub Actions workflows: the jobs and commands CI/CD relies on, so that a rename in
// package.json or a dropped step cannot silently break them.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { requireProgram } from "../images/support";
import { tempDir } from "../tempDirs";
import { PROJECT_DIR } from "../../ops/project";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    "continue-on-error"?: unknown;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
}
interface Job {
    needs?: string | string[];
    if?: string;
    environment?: string;
    permissions?: Record<string, string>;
    env?: Record<string, unknown>;
    strategy?: { matrix?: Record<string, unknown[]> };
    steps: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const WORKFLOW_DIR = path.join(PROJECT_DIR, ".github", "workflows");
const SHA_PINNED = /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/;
const FROM_REPO_SETTINGS = /^\$\{\{ (vars|secrets)\.[A-Z0-9_]+ \}\}$/;

function load(name: string): Workflow {
    return parse(fs.readFileSync(path.join(WORKFLOW_DIR, name), "utf8")) as Workflow;
}

function allWorkflows(): [string, Workflow][] {
    return fs
        .readdirSync(WORKFLOW_DIR)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => [f, load(f)]);
}

function action(step: Step): string | undefined {
    return step.uses?.split("@")[0];
}

function stepIndex(job: Job, predicate: (s: Step) => boolean, what: string): number {
    const i = job.steps.findIndex(predicate);
    assert.ok(i >= 0, `missing step: ${what}`);
    return i;
}

function runs(command: string): (s: Step) => boolean {
    return (s) => (s.run ?? "").split("\n").some((line) => line.trim() === command);
}

/**
 * Node lines the workflows run: the maintained LTS lines (Node 20 reached its end of life in April
 * 2026) that every locked package supports (package.json "engines").
 */
const MAINTAINED_NODE = ["22", "24"];

/** The Node versions a job runs on: its setup-node version, or each value of the matrix it names. */
function nodeVersions(job: Job): string[] {
    const setup = job.steps.find((s) => action(s) === "actions/setup-node");
    const version = String(setup?.with?.["node-version"]);
    const fromMatrix = /^\$\{\{ matrix\.([\w-]+) \}\}$/.exec(version)?.[1];
    return fromMatrix ? (job.strategy?.matrix?.[fromMatrix] ?? []).map(String) : [version];
}

/** Asserts the setup every job shares: checkout, a maintained Node LTS, `npm ci` before anything else runs. */
function assertNodeSetup(job: Job): void {
    const checkout = stepIndex(job, (s) => action(s) === "actions/checkout", "actions/checkout");
    const node = stepIndex(job, (s) => action(s) === "actions/setup-node", "actions/setup-node");
    const versions = nodeVersions(job);
    assert.ok(versions.length > 0 && versions.every((v) => MAINTAINED_NODE.includes(v)), `runs Node ${versions.join(", ")}`);
    const ci = stepIndex(job, runs("npm ci"), "npm ci");
    assert.ok(checkout < node && node < ci);
}

/** Asserts OIDC credentials from a role named in repository settings, before `beforeStep`. */
function assertOidc(job: Job, beforeStep: number): void {
    assert.equal(job.permissions?.["id-token"], "write", "OIDC needs id-token: write");
    const i = stepIndex(job, (s) => action(s) === "aws-actions/configure-aws-credentials", "configure-aws-credentials");
    const w = job.steps[i].with ?? {};
    assert.match(String(w["role-to-assume"]), FROM_REPO_SETTINGS);
    assert.ok(w["aws-region"], "aws-region");
    assert.equal(w["aws-access-key-id"], undefined, "no long-lived keys");
    assert.ok(i < beforeStep, "credentials come before pulumi");
}

function pulumiStep(job: Job, command?: string): [number, Record<string, unknown>] {
    const i = stepIndex(
        job,
        (s) => action(s) === "pulumi/actions" && (command === undefined || s.with?.command === command),
        `pulumi/actions${command ? ` ${command}` : ""}`,
    );
    return [i, job.steps[i].with ?? {}];
}

/**
 * Why a job's `pulumi up` is not gated by a policy-gated preview of the same stack and commit, or
 * undefined when it is. pulumi/actions `command: up` runs the Automation API's `up`, which always
 * skips the preview, so a preview step (same stack, same directory, the pack) must come first in
 * the same job, with nothing in between that checks out other code or lets a refusal through. A
 * CLI `pulumi up --policy-pack policy` without --skip-preview previews by itself.
 */
function ungatedUp(job: Job): string | undefined {
    const ups = job.steps.flatMap((step, i) => (action(step) === "pulumi/actions" && step.with?.command === "up" ? [i] : []));
    const cliUps = job.steps.flatMap((step, i) => (/\bpulumi up\b/.test(step.run ?? "") ? [i] : []));
    for (const i of cliUps) {
        const run = job.steps[i].run!;
        if (/--skip-preview|(^|\s)-f(\s|$)/.test(run) || !/--policy-pack[ =]policy\b/.test(run)) {
            return `step ${i} runs pulumi up without its own policy-gated preview`;
        }
    }
    if (ups.length === 0) {
        return cliUps.length > 0 ? undefined : "no pulumi up";
    }
    for (const i of ups) {
        const up = job.steps[i];
        const previews = job.steps
            .slice(0, i)
            .map((step, j) => ({ step, j }))
            .filter(({ step }) => action(step) === "pulumi/actions" && step.with?.command === "preview");
        const gate = previews.find(({ step }) =>
            ["stack-name", "work-dir"].every((k) => step.with?.[k] === up.with?.[k]) && step.with?.policyPacks === "policy",
        );
        if (gate === undefined) {
            return `pulumi up (step ${i}) has no policy-gated preview of stack ${String(up.with?.["stack-name"])} before it`;
        }
        const between = job.steps.slice(gate.j, i + 1);
        if (between.some((step) => step["continue-on-error"] !== undefined && step["continue-on-error"] !== false)) {
            return "a refused preview would not stop the job (continue-on-error)";
        }
        if (between.some((step) => /always\(\)|failure\(\)|cancelled\(\)/.test(String(step.if ?? "")))) {
            return "a step after the preview runs even when it failed";
        }
        if (job.steps.slice(gate.j + 1, i).some((step) => action(step) === "actions/checkout" || /\bgit (checkout|switch|pull|reset)\b/.test(step.run ?? ""))) {
            return "the code changes between the preview and pulumi up";
        }
    }
    return undefined;
}

describe("CI/CD workflows", () => {
    const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
    };

    it("pin every action to a full commit SHA", () => {
        for (const [file, wf] of allWorkflows()) {
            for (const job of Object.values(wf.jobs)) {
                for (const step of job.steps.filter((s) => s.uses !== undefined)) {
                    assert.match(step.uses!, SHA_PINNED, `${file}: ${step.uses}`);
                }
            }
        }
    });

    it("use only npm scripts that package.json defines", () => {
        const used = new Set<string>();
        for (const [, wf] of allWorkflows()) {
            for (const job of Object.values(wf.jobs)) {
                for (const step of job.steps) {
                    for (const m of (step.run ?? "").matchAll(/\bnpm (?:run(?:-script)?|run-script)\s+(?:--?[\w-]+\s+)*([\w:.-]+)/g)) {
                        used.add(m[1]);
                    }
                    for (const m of (step.run ?? "").matchAll(/\bnpm (test|start)\b/g)) {
                        used.add(m[1]);
                    }
                }
            }
        }
        assert.ok(used.has("check") && used.has("test") && used.has("info"), [...used].join(", "));
        for (const script of used) {
            assert.ok(packageJson.scripts[script], `workflow runs "npm run ${script}", which package.json does not define`);
        }
    });

    describe("pull-request.yml", () => {
        const wf = load("pull-request.yml");

        it("runs on pull requests", () => {
            assert.ok("pull_request" in wf.on);
            assert.ok(!("push" in wf.on));
        });

        it("test job: on every maintained Node LTS line, npm ci, npm test, then the offline check of every stack file", () => {
            const job = wf.jobs.test;
            assertNodeSetup(job);
            assert.deepEqual(nodeVersions(job), MAINTAINED_NODE);
            const ci = stepIndex(job, runs("npm ci"), "npm ci");
            const test = stepIndex(job, runs("npm test"), "npm test");
            const check = stepIndex(job, (s) => (s.run ?? "").includes('npm run check -- --stack "${stack}"'), "check loop");
            assert.ok(ci < test && test < check);
            // The Debian packages the images tests need, the ones .ci/run installs too.
            const packages = stepIndex(job, (s) => /apt-get install/.test(s.run ?? ""), "apt-get install");
            assert.ok(packages < test);
            const ciRun = fs.readFileSync(path.join(PROJECT_DIR, ".ci", "run"), "utf8");
            for (const name of ["shellcheck", "nginx", "tini"]) {
                assert.match(job.steps[packages].run!, new RegExp(`\\b${name}\\b`), name);
                assert.match(ciRun, new RegExp(`missing\\+=\\(${name}\\)`), `.ci/run installs ${name}`);
            }
            assert.match(job.steps[check].run!, /for file in Pulumi\.\*\.yaml; do/);
            assert.equal(job.permissions?.["id-token"], undefined, "the offline job needs no cloud identity");
            assert.ok(!job.steps.some((s) => action(s) === "aws-actions/configure-aws-credentials"));
        });

        it("preview job: pulumi preview of mastertest with the policy pack, commented on the PR, AWS via OIDC", () => {
            const job = wf.jobs.preview;
            assertNodeSetup(job);
            assert.deepEqual([job.needs].flat(), ["test"]);
            const [i, w] = pulumiStep(job);
            assert.equal(w.command, "preview");
            assert.equal(w["stack-name"], "mastertest");
            assert.equal(w["work-dir"], ".");
            assert.equal(w["comment-on-pr"], true);
            assert.equal(w.policyPacks, "policy");
            assert.equal(job.permissions?.["pull-requests"], "write", "commenting needs pull-requests: write");
            assert.match(String(job.env?.PULUMI_ACCESS_TOKEN), FROM_REPO_SETTINGS);
            assertOidc(job, i);
            assert.ok(stepIndex(job, runs("npm ci"), "npm ci") < i, "the program and the pack need their packages");
        });
    });

    describe("deploy.yml", () => {
        const wf = load("deploy.yml");

        it("runs on push to main only", () => {
            assert.deepEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
            assert.ok(!("pull_request" in wf.on));
        });

        it("a policy-gated pulumi preview of the same stack and commit runs before pulumi up, and a refusal stops the job", () => {
            const job = wf.jobs.up;
            assert.equal(ungatedUp(job), undefined);
            const [preview] = pulumiStep(job, "preview");
            const [up] = pulumiStep(job, "up");
            assert.ok(preview < up);
            // The test would notice each way of getting around the gate.
            const moved = (steps: Step[]): Job => ({ ...job, steps });
            const withoutPreview = job.steps.filter((_, i) => i !== preview);
            assert.match(ungatedUp(moved(withoutPreview))!, /no policy-gated preview/);
            const swapped = [...job.steps];
            [swapped[preview], swapped[up]] = [swapped[up], swapped[preview]];
            assert.match(ungatedUp(moved(swapped))!, /no policy-gated preview/);
            const otherStack = job.steps.map((step, i) => (i === preview ? { ...step, with: { ...step.with, "stack-name": "production" } } : step));
            assert.match(ungatedUp(moved(otherStack))!, /no policy-gated preview of stack mastertest/);
            const noPack = job.steps.map((step, i) => (i === preview ? { ...step, with: { ...step.with, policyPacks: undefined } } : step));
            assert.match(ungatedUp(moved(noPack))!, /no policy-gated preview/);
            const ignored = job.steps.map((step, i) => (i === preview ? { ...step, "continue-on-error": true } : step));
            assert.match(ungatedUp(moved(ignored))!, /continue-on-error/);
            const always = job.steps.map((step, i) => (i === up ? { ...step, if: "always()" } : step));
            assert.match(ungatedUp(moved(always))!, /runs even when it failed/);
            const recheckout = [...job.steps.slice(0, up), { uses: "actions/checkout@x", with: { ref: "other" } }, ...job.steps.slice(up)];
            assert.match(ungatedUp(moved(recheckout))!, /code changes/);
            // The CLI form previews by itself unless told not to.
            assert.equal(ungatedUp({ steps: [{ run: "pulumi up --yes --stack mastertest --policy-pack policy" }] }), undefined);
            assert.match(ungatedUp({ steps: [{ run: "pulumi up --yes --skip-preview --stack mastertest --policy-pack policy" }] })!, /without its own/);
        });

        it("pulumi up of mastertest with the policy pack, AWS via OIDC, one at a time", () => {
            const job = wf.jobs.up;
            assertNodeSetup(job);
            const [i, w] = pulumiStep(job, "up");
            assert.equal(w.command, "up");
            assert.equal(w["stack-name"], "mastertest");
            assert.equal(w.policyPacks, "policy");
            assertOidc(job, i);
            const check = stepIndex(job, runs("npm run check -- --stack mastertest"), "offline check of mastertest");
            assert.ok(check < i);
            const info = stepIndex(job, runs("npm run info -- --stack mastertest"), "npm run info");
            assert.ok(info > i, "info reports what runs after the rollout");
            const preflight = stepIndex(job, runs("npm run preflight -- --stack mastertest"), "npm run preflight");
            assert.ok(preflight > i, "preflight checks the task role the rollout created");
            const task = stepIndex(job, runs("npm run deployment-task -- --stack mastertest"), "npm run deployment-task");
            assert.ok(preflight < task, "a task role that cannot use the key fails the job before the deployment task runs");
            const raw = fs.readFileSync(path.join(WORKFLOW_DIR, "deploy.yml"), "utf8");
            assert.match(raw, /cancel-in-progress: false/);
        });

        it("runs the deployment task after pulumi up, only when the deployment image changed, and fails with it", () => {
            const job = wf.jobs.up;
            const [up] = pulumiStep(job, "up");
            const [preview] = pulumiStep(job, "preview");
            const before = job.steps.findIndex((s) => (s as { id?: string }).id === "before");
            const after = job.steps.findIndex((s) => (s as { id?: string }).id === "after");
            const task = stepIndex(job, runs("npm run deployment-task -- --stack mastertest"), "npm run deployment-task");
            const info = stepIndex(job, runs("npm run info -- --stack mastertest"), "npm run info");
            assert.ok(preview < before && before < up && up < after && after < task && task < info, "preview (installs the CLI), before, up, after, task, info");
            const step = job.steps[task] as Step & { if?: string; "continue-on-error"?: unknown };
            assert.equal(step.if, "steps.after.outputs.deployment-image != steps.before.outputs.deployment-image");
            assert.equal(step["continue-on-error"], undefined, "a failed deployment task fails the job");
            for (const i of [before, after]) {
                assert.match(job.steps[i].run ?? "", /pulumi stack output --stack mastertest --json/);
            }
        });

        it("the before/after steps write the deployment image, or nothing for a stack without outputs", function () {
            if (process.platform === "win32") {
                this.skip();
            }
            const job = wf.jobs.up;
            const script = (id: string) => job.steps.find((s) => (s as { id?: string }).id === id)!.run!;
            const dir = tempDir("deploy-steps");
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            // A stand-in pulumi: prints $OUTPUTS, or fails like `pulumi stack output` on a stack never updated.
            fs.writeFileSync(
                path.join(bin, "pulumi"),
                `#!/bin/sh\nif [ -z "$OUTPUTS" ]; then echo "error: no stack outputs" >&2; exit 255; fi\nprintf '%s' "$OUTPUTS"\n`,
                { mode: 0o755 },
            );
            const run = (id: string, outputs: string) => {
                const out = path.join(dir, `github-output-${id}-${outputs.length}`);
                const r = spawnSync("bash", ["-e", "-o", "pipefail", "-c", script(id)], {
                    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, OUTPUTS: outputs, GITHUB_OUTPUT: out },
                    encoding: "utf8",
                });
                return { status: r.status, written: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "", stderr: r.stderr };
            };
            const ref = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest@sha256:" + "d".repeat(64);
            const outputs = JSON.stringify({ images: { wsgi: "w", deployment: ref } });
            assert.deepEqual(run("before", outputs), { status: 0, written: `deployment-image=${ref}\n`, stderr: "" });
            assert.deepEqual(run("after", outputs), { status: 0, written: `deployment-image=${ref}\n`, stderr: "" });
            assert.deepEqual(run("before", ""), { status: 0, written: "deployment-image=\n", stderr: "" }, "a first rollout: nothing before");
            assert.notEqual(run("after", "").status, 0, "no outputs after pulumi up is a failure, not a skipped task");
        });
    });

    it("the policy pack the workflows pass exists", () => {
        assert.ok(fs.existsSync(path.join(PROJECT_DIR, "policy", "PulumiPolicy.yaml")));
        assert.ok(fs.existsSync(path.join(PROJECT_DIR, "policy", "package.json")));
    });

    it("mastertest, which the workflows preview and deploy, has a stack file", function () {
        if (!fs.readdirSync(PROJECT_DIR).some((f) => /^Pulumi\..+\.yaml$/.test(f))) {
            this.skip();
        }
        assert.ok(fs.existsSync(path.join(PROJECT_DIR, "Pulumi.mastertest.yaml")));
    });

    it("the stack-file loop checks every Pulumi.<stack>.yaml and fails when any check fails", function () {
        if (process.platform === "win32") {
            this.skip();
        }
        const job = load("pull-request.yml").jobs.test;
        const script = job.steps.find((s) => (s.run ?? "").includes("npm run check"))!.run!;
        const dir = tempDir("stack-loop");
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        const log = path.join(dir, "npm.log");
        // A stand-in npm that records its arguments and fails the check of a stack named "broken".
        fs.writeFileSync(
            path.join(bin, "npm"),
            `#!/bin/sh\necho "$*" >> "${log}"\ncase "$*" in *"--stack broken"*) exit 1;; esac\nexit 0\n`,
            { mode: 0o755 },
        );
        let repos = 0;
        const run = (files: string[]) => {
            const work = path.join(dir, `repo-${repos++}`);
            fs.mkdirSync(work);
            for (const f of files) {
                fs.writeFileSync(path.join(work, f), "config: {}\n");
            }
            fs.rmSync(log, { force: true });
            const r = spawnSync("bash", ["-e", "-c", script], {
                cwd: work,
                env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` },
                encoding: "utf8",
            });
            const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
            return { status: r.status, calls, out: r.stdout };
        };

        const ok = run(["Pulumi.yaml", "Pulumi.mastertest.yaml", "Pulumi.production.yaml"]);
        assert.equal(ok.status, 0, ok.out);
        assert.deepEqual(ok.calls, ["run check -- --stack mastertest", "run check -- --stack production"]);

        const failing = run(["Pulumi.yaml", "Pulumi.broken.yaml", "Pulumi.mastertest.yaml"]);
        assert.equal(failing.status, 1);
        assert.deepEqual(failing.calls, ["run check -- --stack broken", "run check -- --stack mastertest"], "checks every stack");
        assert.match(failing.out, /offline rollout check failed for: broken/);

        const none = run(["Pulumi.yaml"]);
        assert.equal(none.status, 1, "no stack file is a failure, not a silent pass");
        assert.deepEqual(none.calls, []);
    });
});

describe(".ci/run", function () {
    this.timeout(30_000);
    const CI_RUN = path.join(PROJECT_DIR, ".ci", "run");

    /** .ci/run with an npm on PATH that runs `test` as `testScript` (sh) and does nothing else. */
    function ciRun(testScript: string) {
        const bin = tempDir("ci-npm");
        fs.writeFileSync(path.join(bin, "npm"), `#!/bin/sh\nif [ "$1" = test ]; then\n${testScript}\nfi\n`, { mode: 0o755 });
        return spawnSync("bash", [CI_RUN], { cwd: PROJECT_DIR, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
    }

    it("ends with mocha's counts alone on a line, and exits 0 when nothing failed", () => {
        const r = ciRun('echo "  7 passing (1s)"');
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim().split("\n").pop(), "7 passed, 0 failed");
    });

    it("fails a suite that leaves anything in its temp directory, naming it, though mocha passed", () => {
        const r = ciRun(': > "$TMPDIR/left-behind"; mkdir "$TMPDIR/a-folder"; echo "  7 passing (1s)"');
        assert.equal(r.status, 1);
        assert.equal(r.stdout.trim().split("\n").pop(), "7 passed, 1 failed");
        assert.match(r.stderr, /npm test left these in its temp directory: a-folder left-behind/);
    });

    it("counts a failed type-check or lint, before mocha ran, as a failure", () => {
        const r = ciRun("exit 2");
        assert.equal(r.status, 1);
        assert.equal(r.stdout.trim().split("\n").pop(), "0 passed, 1 failed");
    });

    it("is clean to shellcheck", () => {
        const r = spawnSync(requireProgram("shellcheck", "shellcheck"), ["--severity=style", "--format=gcc", CI_RUN], { encoding: "utf8" });
        assert.equal(r.stdout, "");
        assert.equal(r.status, 0);
    });
});
