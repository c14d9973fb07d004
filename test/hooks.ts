// Root hooks, loaded by .mocharc.json for every run. Mocha runs the spec files in parallel
// workers, where a root hook runs after each spec file: the policy packs beyond the few the worker
// keeps for its next files are closed (test/policy/packs.ts; the analyzer client kills any pack
// still running when the worker exits), and the file's temporary folders removed. A serial run
// (--no-parallel) runs the hook once, at its end, and closes every pack: a pack left running
// would keep mocha from exiting.
import { closeAllBut, KEPT_BETWEEN_FILES } from "./policy/packs";
import { removeTempDirs } from "./tempDirs";

/** Set by mocha in each of its parallel workers. */
const inParallelWorker = process.env.MOCHA_WORKER_ID !== undefined;

export const mochaHooks = {
    async afterAll(): Promise<void> {
        await closeAllBut(inParallelWorker ? KEPT_BETWEEN_FILES : 0);
        removeTempDirs();
    },
};
