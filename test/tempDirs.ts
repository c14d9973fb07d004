// Temporary folders for tests. Each is made under the system's temp directory and removed by the
// root hook (test/hooks.ts) after its spec file, whether its tests passed or not; a process that
// ends before the hook runs (a worker mocha stops, a spec file that throws as it loads) removes
// what is left as it exits. test/tempDirs.spec.ts proves it around a real parallel mocha run.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const created: string[] = [];
let exitHook = false;

/** A new empty folder, removed after the run. */
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cgap-test-${prefix}-`));
    created.push(dir);
    if (!exitHook) {
        exitHook = true;
        process.once("exit", removeTempDirs);
    }
    return dir;
}

/** Removes every folder tempDir() made so far. */
export function removeTempDirs(): void {
    for (const dir of created.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
