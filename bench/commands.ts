// What a person waits for: the policy pack's start, `npm run check`, and the whole `npm test`,
// each as a ratio to a yardstick measured in the same run on the same machine (a bare
// `require("@pulumi/policy")` in a fresh node), so the targets hold on a slow machine and a fast one.
import * as path from "path";

import { pairedMedians, run, seconds, Target } from "./measure";
import { POLICY_PACK_DIR } from "../ops/project";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RUNS = 5;

/** The yardstick: a fresh node that loads the policy SDK and exits. */
export function yardstick(): Promise<number> {
    return run(process.execPath, ["-e", 'require("@pulumi/policy")'], { cwd: POLICY_PACK_DIR });
}

/** A measured time against its target ratio to the yardstick. */
export function ratioTarget(name: string, ms: number, yardstickMs: number, limit: number): Target {
    const ratio = ms / yardstickMs;
    return {
        name,
        measured: `${seconds(ms)} / yardstick ${seconds(yardstickMs)} = ${ratio.toFixed(2)}x`,
        target: `<= ${limit}x`,
        met: ratio <= limit,
        ms,
        yardstickMs,
        ratio,
    };
}

/** A figure that explains where another's time goes: its ratio to the yardstick, no target of its own. */
export function breakdown(name: string, ms: number, yardstickMs: number): Target {
    return { ...ratioTarget(name, ms, yardstickMs, Infinity), target: "(where the time goes)", breakdown: true };
}

/**
 * The pack from spawn to its port, as the CLI starts it (`run-policy-pack`, which also loads
 * TypeScript and ts-node before the pack: pulumi/pulumi sdk/nodejs/cmd/run-policy-pack/run.ts
 * registers ts-node for every pack, compiled or not).
 */
export async function benchPackStart(): Promise<Target> {
    const { yardstickMs, ms } = await pairedMedians(
        RUNS,
        yardstick,
        () =>
            run(process.execPath, [path.join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"), "127.0.0.1:0", "."], {
                cwd: POLICY_PACK_DIR,
                until: (stdout) => /^\d+\n/.test(stdout),
            }),
        { warmUp: true },
    );
    return ratioTarget("policy pack start", ms, yardstickMs, 1.3);
}

export async function benchCheck(): Promise<Target> {
    const { yardstickMs, ms } = await pairedMedians(
        3,
        yardstick,
        () => run("npm", ["run", "--silent", "check", "--", "--stack", "mastertest"], { cwd: PROJECT_DIR }),
        { warmUp: true },
    );
    return ratioTarget("npm run check -- --stack mastertest", ms, yardstickMs, 2.5);
}

/**
 * `npm run check -- --help`: npm and the TypeScript loader starting the command and loading what it imports at
 * the top, without the program, the pack or the report. Where the check's time goes besides the
 * judgement itself.
 */
export async function benchCheckStartup(): Promise<Target> {
    const { yardstickMs, ms } = await pairedMedians(3, yardstick, () => run("npm", ["run", "--silent", "check", "--", "--help"], { cwd: PROJECT_DIR }), { warmUp: true });
    return breakdown("npm run check -- --help (its start alone)", ms, yardstickMs);
}

/** One run of the whole suite, with the tsc and eslint caches this checkout has (any earlier `npm test` leaves them). */
export async function benchSuite(): Promise<Target> {
    const { yardstickMs, ms } = await pairedMedians(1, yardstick, () => run("npm", ["test"], { cwd: PROJECT_DIR }), { warmUp: true });
    return ratioTarget("npm test", ms, yardstickMs, 50);
}
