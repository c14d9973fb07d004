// Temporary folders for tests. Each is made under the system's temp directory and removed after
// the last test of the run, whether its test passed or not, so a run leaves nothing behind.
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

// A root-level hook: it runs once, after every spec file's tests.
after(removeTempDirs);
