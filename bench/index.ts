// npm run bench [-- --no-suite]: the project's speed targets, measured here, each against its target.
//
// - the policy pack's start within 2x a bare require("@pulumi/policy") (it ships compiled);
// - `npm run check` under 3 s;
// - judging a 10,000-resource stack under a second (bench/policy.ts);
// - the whole `npm test` under a minute (skipped with --no-suite).
// Exit 0 when every target is met, 1 when one is not.
import { benchCheck, benchPackStart, benchSuite } from "./commands";
import { Target } from "./measure";
import { benchAnalyzer } from "./policy";

async function main(argv: string[]): Promise<number> {
    const targets: Target[] = [];
    targets.push(await benchPackStart());
    targets.push(await benchCheck());
    targets.push(await benchAnalyzer());
    if (!argv.includes("--no-suite")) {
        targets.push(await benchSuite());
    }
    const width = Math.max(...targets.map((t) => t.name.length));
    console.log("");
    for (const t of targets) {
        console.log(`${t.met ? "OK  " : "FAIL"}  ${t.name.padEnd(width)}  ${t.measured}  (target ${t.target})`);
    }
    return targets.every((t) => t.met) ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
        console.error(e instanceof Error ? e.stack : e);
        process.exit(2);
    },
);
