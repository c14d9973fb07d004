// What a person waits for: the policy pack's start, `npm run check`, and the whole `npm test`.
import * as path from "path";

import { medianOf, run, seconds, Target } from "./measure";
import { POLICY_PACK_DIR } from "../ops/project";

const PROJECT_DIR = path.resolve(__dirname, "..");
const RUNS = 3;

/** The pack from spawn to its port, as the CLI starts it, against a bare `require("@pulumi/policy")`. */
export async function benchPackStart(): Promise<Target> {
    const bare = await medianOf(RUNS, () => run(process.execPath, ["-e", 'require("@pulumi/policy")'], { cwd: POLICY_PACK_DIR }), { warmUp: true });
    const pack = await medianOf(
        RUNS,
        () =>
            run(process.execPath, [path.join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack"), "127.0.0.1:0", "."], {
                cwd: POLICY_PACK_DIR,
                until: (stdout) => /^\d+\n/.test(stdout),
            }),
        { warmUp: true },
    );
    const ratio = pack / bare;
    return {
        name: "policy pack start / bare require(@pulumi/policy)",
        measured: `${seconds(pack)} / ${seconds(bare)} = ${ratio.toFixed(2)}x`,
        target: "<= 2x",
        met: ratio <= 2,
    };
}

export async function benchCheck(): Promise<Target> {
    const ms = await medianOf(RUNS, () => run("npm", ["run", "--silent", "check", "--", "--stack", "mastertest"], { cwd: PROJECT_DIR }), {
        warmUp: true,
    });
    return { name: "npm run check -- --stack mastertest", measured: seconds(ms), target: "< 3 s", met: ms < 3000 };
}

/** One run of the whole suite, with the tsc and eslint caches this checkout has (any earlier `npm test` leaves them). */
export async function benchSuite(): Promise<Target> {
    const ms = await medianOf(1, () => run("npm", ["test"], { cwd: PROJECT_DIR }));
    return { name: "npm test", measured: seconds(ms), target: "< 60 s", met: ms < 60_000 };
}
