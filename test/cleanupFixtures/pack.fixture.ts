// Run by test/tempDirs.spec.ts in a child mocha, never by `npm test` (not a .spec.ts file): a
// spec file that takes a shared policy pack, which its worker keeps for later files. The stack
// name comes from the parent, so that it can look for this pack's process after the run.
import * as assert from "assert";

import { sharedPack } from "../policy/packs";

describe("a spec file that takes a shared policy pack", function () {
    this.timeout(60_000);

    it("gets an answer from it", async () => {
        const pack = await sharedPack({ stack: process.env.CGAP_FIXTURE_STACK, dryRun: true });
        assert.strictEqual((await pack.info()).name, "cgap-rollout");
    });
});
