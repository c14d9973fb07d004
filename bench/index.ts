// npm run bench [-- --no-suite]: the project's speed targets, measured here, each against its target.
//
// A yardstick is timed in the same run, alternately with each figure: a fresh node that only does
// `require("@pulumi/policy")`. The targets are ratios to it, so they hold across machines:
// - the policy pack's start within 1.3x the yardstick (it ships compiled);
// - `npm run check` within 2.5x;
// - judging a 10,000-resource stack under a second (bench/policy.ts);
// - the whole `npm test` within 50x (skipped with --no-suite).
// It writes the figures to docs/benchmarks.md. Exit 0 when every target is met, 1 when one is
// not, 2 on bad arguments.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { EXIT, parseStrict, runMain } from "../ops/cli";
import { PROJECT_DIR } from "../ops/project";
import { benchCheck, benchCheckStartup, benchPackStart, benchSuite } from "./commands";
import { Target } from "./measure";
import { benchAnalyzer } from "./policy";
import { BenchRun, BENCHMARKS_FILE, renderBenchmarks } from "./report";

export const USAGE = [
    "usage: npm run bench [-- --no-suite]",
    "",
    "Measures the project's speed against its targets, each a ratio to a yardstick measured in the",
    "same run (a fresh node that only does require(\"@pulumi/policy\")): the policy pack's start",
    "(<= 1.3x), `npm run check -- --stack mastertest` (<= 2.5x), AnalyzeStack of 10,000 resources",
    `(< 1 s) and the whole \`npm test\` (<= 50x). Prints each figure and writes them to ${BENCHMARKS_FILE}.`,
    "Exits 1 when a target is missed. Takes minutes; run it on an otherwise idle machine.",
    "",
    "  --no-suite   skip the whole `npm test` (the longest part)",
    "  --help       print this and exit",
].join("\n");

async function main(argv: string[]): Promise<number> {
    const args = parseStrict(argv, { "no-suite": { type: "boolean" }, help: { type: "boolean" } });
    if (args.help === true) {
        console.log(USAGE);
        return EXIT.ok;
    }
    const targets: Target[] = [];
    targets.push(await benchPackStart());
    targets.push(await benchCheck());
    targets.push(await benchCheckStartup());
    targets.push(await benchAnalyzer());
    const skipped: BenchRun["skipped"][number][] = [];
    if (args["no-suite"] === true) {
        skipped.push({ name: "npm test", target: "<= 50x", why: "--no-suite" });
    } else {
        targets.push(await benchSuite());
    }
    const width = Math.max(...targets.map((t) => t.name.length));
    console.log("");
    for (const t of targets) {
        console.log(`${t.breakdown ? "    " : t.met ? "OK  " : "FAIL"}  ${t.name.padEnd(width)}  ${t.measured}  ${t.breakdown ? t.target : `(target ${t.target})`}`);
    }
    const cpus = os.cpus();
    const report = renderBenchmarks({
        date: new Date(),
        cores: cpus.length,
        cpu: cpus[0]?.model.trim() ?? "unknown CPU",
        node: process.versions.node,
        targets,
        skipped,
    });
    fs.mkdirSync(path.join(PROJECT_DIR, "docs"), { recursive: true });
    fs.writeFileSync(path.join(PROJECT_DIR, BENCHMARKS_FILE), report);
    console.log(`\nwrote ${BENCHMARKS_FILE}`);
    return targets.every((t) => t.met) ? EXIT.ok : EXIT.findings;
}

if (require.main === module) {
    void runMain("bench", () => main(process.argv.slice(2)));
}

