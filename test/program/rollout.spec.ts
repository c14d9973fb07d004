import * as assert from "assert";
import { engineInputs, mockDigest, ProgramError, ProgramResult, runProgram, UNKNOWN } from "../../ops/offline/program";
import { formatPlan, rolloutPlan } from "../../ops/offline/plan";
import { ownKeys, parseStackConfig } from "../../components/config";
import { ROLE_SPECS, ROLES } from "../../components/roles";
import { containerDefinition, inputs, one, ofType, roleImages, T } from "./helpers";

const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest";

describe("partial rollouts", () => {
    let full: ProgramResult;
    /** What ECR holds after the full rollout: each tag at the digest it was pushed as. */
    let registryAfterFull: Record<string, string>;

    before(async () => {
        full = await runProgram({ stack: "mastertest", preview: false });
        const refs = full.outputs.images as Record<string, string>;
        registryAfterFull = Object.fromEntries(ROLES.map((r) => [ROLE_SPECS[r].tag, refs[r].split("@")[1]]));
    });

    it("a front-end-only rollout builds only the WSGI image and leaves the other task definitions untouched", async () => {
        const partial = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:rollout": "wsgi", "cgap:appVersion": "v15.7.0" },
            registry: registryAfterFull,
            state: full.resources,
        });
        assert.deepStrictEqual(roleImages(partial.resources).map((i) => i.name), ["cgap-wsgi"]);
        for (const role of ["indexer", "ingester", "deployment"]) {
            assert.deepStrictEqual(
                inputs(one(partial.resources, T.taskDefinition, `cgap-${role}`)),
                inputs(one(full.resources, T.taskDefinition, `cgap-${role}`)),
                `${role}'s task definition must not change, or ECS would roll out a new revision`,
            );
        }
        assert.notDeepStrictEqual(
            inputs(one(partial.resources, T.taskDefinition, "cgap-wsgi")),
            inputs(one(full.resources, T.taskDefinition, "cgap-wsgi")),
        );
    });

    it("a left-out role keeps the image it runs when its tag in ECR was pushed by hand", async () => {
        // The services run what the full rollout pushed; then someone pushed all four tags by hand.
        const handPushed = Object.fromEntries(ROLES.map((r) => [ROLE_SPECS[r].tag, mockDigest(`by hand:${r}`)]));
        for (const rollout of ["wsgi", "deployment"]) {
            const partial = await runProgram({
                stack: "mastertest",
                preview: false,
                config: { "cgap:rollout": rollout },
                registry: handPushed,
                state: full.resources,
            });
            for (const role of ROLES.filter((r) => r !== rollout)) {
                const taskDefinition = one(partial.resources, T.taskDefinition, `cgap-${role}`);
                assert.deepStrictEqual(taskDefinition.ignoreChanges, ["containerDefinitions"], `${role}: the engine keeps its container definitions`);
                const runs = containerDefinition(one(full.resources, T.taskDefinition, `cgap-${role}`)).image;
                assert.strictEqual(containerDefinition(taskDefinition).image, runs, `${role} keeps what it runs, not the hand-pushed tag`);
                assert.notStrictEqual(runs, `${REPO}@${handPushed[ROLE_SPECS[role].tag]}`);
                assert.strictEqual((partial.outputs.images as Record<string, string>)[role], runs);
                if (ROLE_SPECS[role].hasService) {
                    assert.deepStrictEqual(
                        inputs(one(partial.resources, T.service, `cgap-${role}`)),
                        inputs(one(full.resources, T.service, `cgap-${role}`)),
                        `${role}'s service must not move to another task definition`,
                    );
                }
            }
            const rolled = one(partial.resources, T.taskDefinition, `cgap-${rollout}`);
            assert.deepStrictEqual(rolled.ignoreChanges, [], `${rollout} is rolled out: its new image is registered`);
            assert.strictEqual(containerDefinition(rolled).image, (partial.outputs.images as Record<string, string>)[rollout]);
        }
    });

    describe("through a replacement of a left-out role's task definition", () => {
        // Someone pushed every tag by hand since the full rollout; the services still run its images.
        const handPushed = Object.fromEntries(ROLES.map((r) => [ROLE_SPECS[r].tag, mockDigest(`by hand:${r}`)]));
        const cases = [
            ["its cpu and memory change (ForceNew)", { "cgap:sizing": JSON.stringify({ indexer: { cpu: 512, memory: 1024 } }) }, []],
            ["`pulumi up --replace` names it", {}, [`${T.taskDefinition}::cgap-indexer`]],
        ] as const;
        for (const [why, config, replace] of cases) {
            it(`keeps the image the role runs when ${why}`, async () => {
                const partial = await runProgram({
                    stack: "mastertest",
                    preview: false,
                    config: { "cgap:rollout": "wsgi", ...config },
                    registry: handPushed,
                    state: full.resources,
                    replace: [...replace],
                });
                const indexer = one(partial.resources, T.taskDefinition, "cgap-indexer");
                assert.strictEqual(indexer.replaced, true, "the engine replaces the task definition");
                // What the provider creates the new revision from: the program's own inputs.
                assert.deepStrictEqual(indexer.inputs, indexer.declaredInputs);
                const runs = containerDefinition(one(full.resources, T.taskDefinition, "cgap-indexer")).image;
                assert.strictEqual(containerDefinition(indexer).image, runs, "the new revision runs what the role ran");
                assert.notStrictEqual(runs, `${REPO}@${handPushed["latest-indexer"]}`);
                const plan = rolloutPlan(partial, parseStackConfig(ownKeys(partial.config)).sizing);
                const row = plan.find((r) => r.role === "indexer")!;
                assert.deepStrictEqual([row.pin, row.replaced], ["recorded", true]);
                assert.match(formatPlan(plan), /^indexer +latest-indexer +no: keeps the image it runs; new revision \(replaced\)/m);
            });
        }

        it("is what the engine does: a replacement drops ignoreChanges and re-checks the program's inputs", () => {
            const old = { cpu: "256", containerDefinitions: "[old]" };
            const declared = { cpu: "512", containerDefinitions: "[new]" };
            const type = T.taskDefinition;
            assert.deepStrictEqual(engineInputs(type, declared, old, ["containerDefinitions"]), { inputs: declared, replaced: true });
            assert.deepStrictEqual(engineInputs(type, { ...declared, cpu: "256" }, old, ["containerDefinitions"]), {
                inputs: old,
                replaced: false,
            });
            assert.deepStrictEqual(engineInputs(type, old, old, [], true), { inputs: old, replaced: true });
            assert.deepStrictEqual(engineInputs(type, declared, undefined, ["containerDefinitions"]), { inputs: declared, replaced: false });
            // Tags change in place.
            assert.strictEqual(engineInputs(type, { ...old, tags: { a: "b" } }, old, []).replaced, false);
        });
    });

    it("a full rollout asks the engine to keep no container definitions", async () => {
        for (const role of ROLES) {
            assert.deepStrictEqual(one(full.resources, T.taskDefinition, `cgap-${role}`).ignoreChanges, []);
        }
    });

    it("push all, then roll: every service depends on every image of the rollout", async () => {
        const phaseIn = await runProgram({ stack: "mastertest", preview: true, config: { "cgap:rollout": "indexer,deployment" } });
        for (const run of [full, phaseIn]) {
            const images = roleImages(run.resources).map((i) => i.urn);
            assert.ok(images.length > 0);
            const services = ofType(run.resources, T.service);
            assert.strictEqual(services.length, 3);
            for (const service of services) {
                for (const image of images) {
                    assert.ok(service.dependencies.includes(image), `${service.name} must wait for ${image.split("::").pop()}`);
                }
            }
        }
    });

    it("on a first creation a left-out role's task definition names its tag's digest in ECR, not the tag", async () => {
        const registry = Object.fromEntries(ROLES.map((r) => [ROLE_SPECS[r].tag, mockDigest(`elsewhere:${r}`)]));
        // An update of a stack that has recorded nothing yet (its first `up`).
        const run = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:rollout": "indexer,deployment" },
            registry,
            recordedOutputs: {},
        });
        const plan = rolloutPlan(run, parseStackConfig(ownKeys(run.config)).sizing);
        assert.deepStrictEqual(plan.map((r) => r.pin), ["tag", "built", "tag", "built"]);
        assert.deepStrictEqual(roleImages(run.resources).map((i) => i.name).sort(), ["cgap-deployment", "cgap-indexer"]);
        for (const role of ["wsgi", "ingester"] as const) {
            const container = containerDefinition(one(run.resources, T.taskDefinition, `cgap-${role}`));
            assert.strictEqual(container.image, `${REPO}@${registry[ROLE_SPECS[role].tag]}`);
        }
    });

    it("in a preview, rolled-out roles' task definitions wait on the digest the push will report", async () => {
        const run = await runProgram({ stack: "mastertest", preview: true, config: { "cgap:rollout": "wsgi" } });
        assert.strictEqual(one(run.resources, T.image, "cgap-wsgi").outputs.repoDigest, undefined);
        assert.strictEqual(one(run.resources, T.taskDefinition, "cgap-wsgi").inputs.containerDefinitions, UNKNOWN);
        assert.match(containerDefinition(one(run.resources, T.taskDefinition, "cgap-indexer")).image, /@sha256:[0-9a-f]{64}$/);
    });

    it("with buildOnPreview, a preview's local image id never reaches a task definition", async () => {
        const run = await runProgram({ stack: "mastertest", preview: true, config: { "cgap:buildOnPreview": "true" } });
        const wsgi = one(run.resources, T.image, "cgap-wsgi");
        assert.strictEqual(inputs(wsgi).buildOnPreview, true);
        assert.match(String(wsgi.outputs.repoDigest), /^sha256:[0-9a-f]{64}$/);
        for (const role of ROLES) {
            assert.strictEqual(one(run.resources, T.taskDefinition, `cgap-${role}`).inputs.containerDefinitions, UNKNOWN);
        }
    });

    it("fails with a clear message when a pinned role's tag has no image in ECR yet", async () => {
        const { "latest-ingester": _missing, ...registry } = registryAfterFull;
        await assert.rejects(
            runProgram({ stack: "mastertest", preview: true, config: { "cgap:rollout": "wsgi,indexer,deployment" }, registry }),
            (err: Error) => {
                // The SDK prefixes where it met the error ("error serializing property ...").
                assert.ok(
                    err.message.endsWith(
                    `The role "ingester" is left out of cgap:rollout, so it keeps the image its tag "latest-ingester" has in ECR, ` +
                        `but ${REPO} has no image tagged "latest-ingester" yet. Add ingester to cgap:rollout ` +
                        "(or remove cgap:rollout to roll out all four) for this first rollout.",
                    ),
                    err.message,
                );
                return true;
            },
        );
    });

    it("does not itself refuse a skewed rollout: the policy pack is the gate", async () => {
        const run = await runProgram({ stack: "production", preview: true, config: { "cgap:rollout": "indexer" } });
        assert.deepStrictEqual(roleImages(run.resources).map((i) => i.name), ["cgap-indexer"]);
    });
});

describe("bad config through the real program", () => {
    it("fails before registering any resource, with the one message", async () => {
        await assert.rejects(
            runProgram({ stack: "mastertest", preview: true, config: { "cgap:rollout": "wsgi,web" } }),
            (err: Error) => {
                assert.ok(err instanceof ProgramError);
                assert.strictEqual(err.name, "ConfigError");
                assert.strictEqual(
                    err.message,
                    'Invalid stack config (1 problem):\n  - cgap:rollout is "wsgi,web"; it names "web"; roles are wsgi, indexer, ingester, deployment.',
                );
                assert.deepStrictEqual(err.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
                return true;
            },
        );
    });
});
