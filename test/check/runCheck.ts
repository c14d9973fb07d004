// `npm run check` two ways. As a child process, the way a person runs it: what the exit code and
// the streams really are. In this process, through the same main() the child runs: for tests that
// read what it prints, a child process would load the program's SDKs a second time for nothing.
import { spawnSync } from "child_process";
import { main, PackSource } from "../../ops/offline/check";
import { PROJECT_DIR } from "../../ops/project";
import { sharedPack } from "../policy/packs";
import { scriptCommand } from "../scripts";

/** The packs the tests share (test/policy/packs.ts): the check borrows one and gives it back open. */
export const SHARED_PACKS: PackSource = { acquire: sharedPack, release: async () => undefined };

export interface Outcome {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** `npm run -s check -- <args>`, npm included. */
export function npmCheck(...args: string[]): Outcome {
    const run = spawnSync("npm", ["run", "-s", "check", "--", ...args], { cwd: PROJECT_DIR, encoding: "utf8", timeout: 120000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The check's script run as its npm script runs it, without npm in between. */
export function scriptCheck(...args: string[]): Outcome {
    const run = spawnSync(...scriptCommand("ops/offline/check.ts", args), { cwd: PROJECT_DIR, encoding: "utf8", timeout: 60000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The check's main() in this process, its streams captured; neither is a terminal, as in a child's pipes. */
export async function checkInProcess(...args: string[]): Promise<Outcome> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = { stdout: { write: (t: string) => stdout.push(t) }, stderr: { write: (t: string) => stderr.push(t) } };
    const status = await main(args, io, SHARED_PACKS);
    return { status, stdout: stdout.join(""), stderr: stderr.join("") };
}
