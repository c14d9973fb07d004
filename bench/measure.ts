// Timing helpers shared by the benchmarks.
import { spawn, SpawnOptions } from "child_process";

/** One benchmark's result against its target. */
export interface Target {
    name: string;
    measured: string;
    target: string;
    met: boolean;
    /** The measured time, for the generated figures. */
    ms: number;
    /** The yardstick measured alongside, and the time as a ratio to it, when the target is one. */
    yardstickMs?: number;
    ratio?: number;
    /** A figure that explains another (where its time goes); no target of its own. */
    breakdown?: boolean;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

export async function time(action: () => Promise<unknown>): Promise<number> {
    const started = process.hrtime.bigint();
    await action();
    return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The median wall time of `runs` runs, after one untimed run when `warmUp` (JIT, channels, disk cache). */
export async function medianOf(runs: number, action: () => Promise<unknown>, options: { warmUp?: boolean } = {}): Promise<number> {
    if (options.warmUp) {
        await action();
    }
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
        samples.push(await time(action));
    }
    return median(samples);
}

/**
 * Runs a command to the end, or until `until` sees its output, and resolves with its exit code.
 * A non-zero exit (when `until` is not given) rejects with the command's output.
 */
export function run(command: string, args: string[], options: SpawnOptions & { until?: (stdout: string) => boolean } = {}): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout?.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            if (options.until?.(output)) {
                child.kill("SIGKILL");
                resolve(0);
            }
        });
        child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.once("error", reject);
        child.once("exit", (code) => {
            if (options.until || code === 0) {
                resolve(code ?? 1);
            } else {
                reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output.slice(-4000)}`));
            }
        });
    });
}

export function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * Medians of `runs` runs of `action` and of the yardstick, run alternately (after one untimed run
 * of each when `warmUp`): on a shared machine the load changes from second to second, and both
 * sides of a ratio should see the same.
 */
export async function pairedMedians(
    runs: number,
    yardstick: () => Promise<unknown>,
    action: () => Promise<unknown>,
    options: { warmUp?: boolean } = {},
): Promise<{ yardstickMs: number; ms: number }> {
    if (options.warmUp) {
        await yardstick();
        await action();
    }
    const ys: number[] = [];
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
        ys.push(await time(yardstick));
        xs.push(await time(action));
    }
    return { yardstickMs: median(ys), ms: median(xs) };
}
