// What a person waits for: the policy pack's start, `npm run check`, and the whole `npm test`,
// each as a ratio to a yardstick measured in the same run on the same machine (a bare
// `require("@pulumi/policy")` in a fresh node), so the targets hold on a slow machine and a fast one.
import * as path from "path";

import { medianOf, run, seconds, Target } from "./measure";
import { POLICY_PACK_DIR } from "../ops/project";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RUNS = 3;

/** The yardstick: a fresh node that loads the policy SDK and exits, in ms (median of RUNS after a warm-up). */
export async function yardstick(): Promise<number> {
    return medianOf(RUNS, () => run(process.execPath, ["-e", 'require("@pulumi/policy")'], { cwd: POLICY_PACK_DIR }), { warmUp: true });
}

/** A measured time against its target ratio to the yardstick. */
export function ratioTarget(name: string, ms: number, yardstickMs: number, limit: number): Target {
    const ratio = ms / yardstickMs;
    return {
        name,
        measured: `${seconds(ms)} = ${ratio.toFixed(2)}x`,
        target: `<= ${limit}x`,
        met: ratio <= limit,
        ms,
        ratio,
    };
}

/** The pack from spawn to its port, as the CLI starts it. */
export async function benchPackStart(yardstickMs: number): Promise<Target> {
    const pack = await medianOf(
        RUNS,
        () =>
            run(process.execPath, [path.join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"), "127.0.0.1:0", "."], {
                cwd: POLICY_PACK_DIR,
                until: (stdout) => /^\d+\n/.test(stdout),
            }),
        { warmUp: true },
    );
    return ratioTarget("policy pack start", pack, yardstickMs, 1.3);
}

export async function benchCheck(yardstickMs: number): Promise<Target> {
    const ms = await medianOf(RUNS, () => run("npm", ["run", "--silent", "check", "--", "--stack", "mastertest"], { cwd: PROJECT_DIR }), {
        warmUp: true,
    });
    return ratioTarget("npm run check -- --stack mastertest", ms, yardstickMs, 2.5);
}

/** One run of the whole suite, with the tsc and eslint caches this checkout has (any earlier `npm test` leaves them). */
export async function benchSuite(yardstickMs: number): Promise<Target> {
    const ms = await medianOf(1, () => run("npm", ["test"], { cwd: PROJECT_DIR }));
    return ratioTarget("npm test", ms, yardstickMs, 50);
}
