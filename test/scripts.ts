// Runs a command file of ops/ the way its npm script does (`node ops/ts.js <file>`, the project's
// TypeScript loader), with node itself as the parent instead of npm, so stdout, stderr, the exit code and
// signals are the command's alone.
import * as path from "node:path";
import { PROJECT_DIR } from "../ops/project";

const RUNNER = path.join(PROJECT_DIR, "ops", "ts.js");

/** The executable and arguments that run `file` (relative to the project) with `args`. */
export function scriptCommand(file: string, args: readonly string[] = []): [string, string[]] {
    return [process.execPath, [RUNNER, path.join(PROJECT_DIR, file), ...args]];
}
