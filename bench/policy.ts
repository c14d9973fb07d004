// The policy pack judging generated stacks of 1,000 and 10,000 resources through the real
// analyzer protocol (ops/offline/analyzer.ts), and what the per-resource checks of a preview cost.
//
// For each size it reports, as the median of several runs:
// - AnalyzeStack: one stack judgement, the call the engine makes at the end of a preview or
//   update with every resource, and the one that runs the rollout gates. This is the gated
//   number: a 10,000-resource stack must be judged in under a second.
// - Analyze x N: the per-resource calls the engine makes as each resource's step runs, which
//   carry the resource-level compliance policies; reported, not gated. Next to it, the same
//   calls with every policy disabled that can be: the cost of gRPC and protobuf in Node alone, which no
//   policy can go below.
// Both include encoding the requests on this side (the CLI does that in Go).
import { PolicyPackProcess, StackResource, startPolicyPack } from "../ops/offline/analyzer";
import { generatedStack } from "../test/policy/fixtures";
import { GATE_LEVELS } from "../policy/gates";
import { medianOf, Target } from "./measure";

const SIZES = [1_000, 10_000];
const GATED_SIZE = 10_000;
const LIMIT_MS = 1_000;
const RUNS = 5;


async function analyzeEach(pack: PolicyPackProcess, resources: readonly StackResource[]): Promise<void> {
    let next = 0;
    const worker = async () => {
        while (next < resources.length) {
            await pack.analyze(resources[next++]);
        }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
}


/** Judges the generated stacks; the 10,000-resource AnalyzeStack time is the target. */
export async function benchAnalyzer(): Promise<Target> {
    const pack = await startPolicyPack({ stack: "production", dryRun: true });
    let gatedMs = Infinity;
    try {
        for (const size of SIZES) {
            const resources = generatedStack(size, "production");
            // The generated stack passes the rollout gates; advisory findings (controls the stack accepts
            // as exceptions in the reviewers' config) do not change what is timed.
            const mandatory = (await pack.judge(resources)).filter((d) => d.enforcementLevel === "mandatory");
            if (mandatory.length > 0) {
                throw new Error(`the generated stack should pass every mandatory policy, got ${mandatory.length} violations`);
            }
            const stackMs = await medianOf(RUNS, () => pack.analyzeStack(resources), { warmUp: true });
            const analyzeMs = await medianOf(Math.min(RUNS, 3), () => analyzeEach(pack, resources), { warmUp: true });
            // The rollout gates cannot be disabled; they are stack policies and do not run in Analyze anyway.
            await pack.reconfigure({ all: "disabled", ...GATE_LEVELS });
            const floorMs = await medianOf(Math.min(RUNS, 3), () => analyzeEach(pack, resources), { warmUp: true });
            await pack.reconfigure({});
            const label = `${size.toLocaleString("en-US")} resources`;
            console.log(`${label}: AnalyzeStack ${stackMs.toFixed(0)} ms per stack`);
            console.log(
                `${" ".repeat(label.length)}  Analyze x${size} ${analyzeMs.toFixed(0)} ms ` +
                    `(${((analyzeMs / size) * 1000).toFixed(0)} us per resource; ${floorMs.toFixed(0)} ms with every policy disabled)`,
            );
            if (size === GATED_SIZE) {
                gatedMs = stackMs;
            }
        }
    } finally {
        await pack.close();
    }
    return {
        name: `AnalyzeStack of ${GATED_SIZE.toLocaleString("en-US")} resources`,
        measured: `${gatedMs.toFixed(0)} ms`,
        target: `< ${LIMIT_MS} ms`,
        met: gatedMs < LIMIT_MS,
        ms: gatedMs,
    };
}
