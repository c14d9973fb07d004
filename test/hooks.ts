// Root hooks, loaded by .mocharc.json for every run. Mocha runs the spec files in parallel
// workers, where a root hook runs after each spec file: the policy packs the file shared are
// closed (idle, each still holds about 150 MB) and its temporary folders removed when the file is
// done (the analyzer client also kills any pack still running when the process exits).
import { closeAll } from "./policy/packs";
import { removeTempDirs } from "./tempDirs";

export const mochaHooks = {
    async afterAll(): Promise<void> {
        await closeAll();
        removeTempDirs();
    },
};
