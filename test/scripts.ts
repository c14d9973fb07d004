// Runs a command file of ops/ the way its npm script does (`node ops/ts.js <file>`, the project's
// TypeScript loader), with node itself as the parent instead of npm, so stdout, stderr, the exit code and
// signals are the command's alone.
import * as assert from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { PROJECT_DIR } from "../ops/project";

const RUNNER = path.join(PROJECT_DIR, "ops", "ts.js");

/** The executable and arguments that run `file` (relative to the project) with `args`. */
export function scriptCommand(file: string, args: readonly string[] = []): [string, string[]] {
    return [process.execPath, [RUNNER, path.join(PROJECT_DIR, file), ...args]];
}

/**
 * Runs `script` (JavaScript) in a fresh node, in `cwd`, and returns the JSON object it printed on
 * its last line; fails the test if it exits non-zero. With `typescript`, the node can require the
 * project's .ts files (ops/register.js). For tests whose subject is a process's module cache.
 */
export function jsonFromFreshNode(
    script: string,
    { cwd = PROJECT_DIR, typescript = false, env = process.env }: { cwd?: string; typescript?: boolean; env?: NodeJS.ProcessEnv } = {},
): Record<string, unknown> {
    const preload = typescript ? ["-r", path.join(PROJECT_DIR, "ops", "register.js")] : [];
    const result = spawnSync(process.execPath, [...preload, "-e", script], { cwd, encoding: "utf8", env });
    assert.strictEqual(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}
