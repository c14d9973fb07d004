// The real program under mocks, judged by the running policy pack: what `pulumi preview
// --policy-pack policy` does, without the CLI.
import * as assert from "assert";
import { Diagnostic, PolicyPackProcess, StackResource } from "../../ops/offline/analyzer";
import { foreignImages } from "../policy/fixtures";
import { sharedPack } from "../policy/packs";
import { analyzerResources } from "../../ops/offline/plan";
import { placeholderRegistry, readStackConfig, runProgram, RunOptions } from "../../ops/offline/program";
import { Role } from "../../components/roles";
import { DEFAULT_POLICY_CONFIG, readPolicyConfig } from "../../ops/offline/check";

interface Judgement {
    diagnostics: Diagnostic[];
    mandatory: string[];
}

/**
 * One pack per stack and phase, as the CLI starts one per preview; cgap:rollout is not the pack's
 * business. Judged with the reviewers' policy config (the README's --policy-pack-config): its
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
