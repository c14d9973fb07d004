// `pulumi destroy`, then `pulumi up` again with the same envName: what the destroy keeps
// (retainOnDelete) is still in the account, and the emulation answers a creation of a taken name as
// AWS does (ops/offline/program.ts, RunOptions.existing).
import * as assert from "assert";
import { ProgramResult, RegisteredResource, runProgram } from "../../ops/offline/program";
import { retainedRepositoryMessage } from "../../components/registry";
import { one, T } from "./helpers";

const REPOSITORY = "aws:ecr/repository:Repository";

describe("destroy, then up again with the same envName (Pulumi.sandbox.yaml)", () => {
    let first: ProgramResult;
    let kept: RegisteredResource[];
    before(async () => {
        first = await runProgram({ stack: "sandbox", preview: false, recordedOutputs: {} });
        kept = first.resources.filter((r) => r.retainOnDelete);
    });

    it("keeps the repository and the log group through the destroy", () => {
        assert.deepStrictEqual(kept.map((r) => r.type).sort(), [T.logGroup, REPOSITORY].sort());
    });

    it("refuses the second up in its preview, naming the kept repository and the config that adopts it", async () => {
        const url = String(one(first.resources, REPOSITORY, "cgap-repository").outputs.repositoryUrl);
        // A destroyed stack has no outputs: nothing recorded.
        await assert.rejects(runProgram({ stack: "sandbox", preview: true, existing: kept, recordedOutputs: {} }), (err: Error) => {
            assert.ok(err.message.endsWith(retainedRepositoryMessage(url)), err.message);
            assert.match(err.message, /pulumi config set cgap:repositoryUrl 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/cgap-sandbox/);
            return true;
        });
    });

    it("succeeds when the stack file names the kept repository, with a log group of a name of its own", async () => {
        const url = String(one(first.resources, REPOSITORY, "cgap-repository").outputs.repositoryUrl);
        const again = await runProgram({
            stack: "sandbox",
            preview: false,
            existing: kept,
            recordedOutputs: {},
            config: { "cgap:repositoryUrl": url },
        });
        assert.deepStrictEqual(again.resources.filter((r) => r.type === REPOSITORY), [], "pushes to the kept repository, creates none");
        assert.strictEqual(again.outputs.repositoryUrl, url);
        const oldGroup = one(first.resources, T.logGroup, "cgap-logs").outputs.name;
        const newGroup = one(again.resources, T.logGroup, "cgap-logs").outputs.name;
        assert.match(String(newGroup), /^\/ecs\/cgap-sandbox-/);
        assert.notStrictEqual(newGroup, oldGroup, "the kept group's logs stay where they are");
    });

    it("is an emulation that refuses a taken name: the kept repository created again fails as AWS answers", async () => {
        // The program's own check passed (as if this stack had recorded the repository): AWS refuses.
        await assert.rejects(
            runProgram({ stack: "sandbox", preview: false, existing: kept, recordedOutputs: { repositoryName: "cgap-sandbox" } }),
            /ResourceAlreadyExistsException: aws:ecr\/repository:Repository cgap-sandbox already exists/,
        );
    });
});

describe("a first partial rollout on a stack that creates its own repository (Pulumi.sandbox.yaml)", () => {
    it("fails in the preview, before anything is created, and says to roll out all four", async () => {
        await assert.rejects(
            runProgram({ stack: "sandbox", preview: true, firstRollout: true, config: { "cgap:rollout": "wsgi" } }),
            (err: Error) => {
                assert.match(err.message, /The role "indexer" is left out of cgap:rollout, but this run creates the repository/);
                assert.match(err.message, /Roll out all four for the first `pulumi up` \(remove cgap:rollout\)\.$/);
                return true;
            },
        );
    });

    it("lets the full first rollout through, and a partial rollout once the stack has recorded its repository", async () => {
        const first = await runProgram({ stack: "sandbox", preview: true, firstRollout: true });
        assert.ok(first.resources.some((r) => r.type === REPOSITORY));
        const done = await runProgram({ stack: "sandbox", preview: false, recordedOutputs: {} });
        const partial = await runProgram({ stack: "sandbox", preview: true, config: { "cgap:rollout": "wsgi" }, state: done.resources });
        assert.ok(partial.resources.some((r) => r.type === T.taskDefinition));
    });
});
