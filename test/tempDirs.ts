// Temporary folders for tests. Each is made under the system's temp directory and removed by the
// root hook (test/hooks.ts) after its spec file, whether its tests passed or not, so a run leaves
// nothing behind.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const created: string[] = [];

/** A new empty folder, removed after the run. */
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cgap-test-${prefix}-`));
    created.push(dir);
    return dir;
}

/** Removes every folder tempDir() made so far. */
export function removeTempDirs(): void {
    for (const dir of created.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
