// npm run check -- --stack <name> [--rollout wsgi,indexer] [--target <role>]... [--update]
//
// The offline rollout check: runs the real program under mocks with the stack's config file, prints
// the rollout plan, and judges it with the real policy pack through its analyzer protocol. Needs no
// cloud credentials and no Pulumi CLI. Exit 0: no mandatory policy violated; 1: one is; 2: bad input.
import { parseArgs } from "node:util";
import { CONFIG_NAMESPACE, ownKeys, parseStackConfig } from "../components/config";
import { isRole, Role, ROLES } from "../components/roles";
import { Diagnostic, PackNotInstalledError, startPolicyPack } from "./analyzer";
import { oneLine } from "./cli";
import { analyzerResources, formatPlan, rolloutPlan } from "./plan";
import { placeholderRegistry, PLACEHOLDER_ACCOUNT, ProgramError, runProgram, StackFileError } from "./program";

export const CHECK_EXIT = { pass: 0, refused: 1, badInput: 2 } as const;

const USAGE = `usage: npm run check -- --stack <name> [--rollout <role,...>] [--target <role>]... [--update]

Runs the program offline with Pulumi.<name>.yaml, prints the rollout plan and judges it with the
policy pack (policy/). Exit 0: no mandatory policy violated; 1: one is; 2: bad input.

  --stack <name>       the stack whose Pulumi.<name>.yaml to use
  --rollout <roles>    override cgap:rollout (comma-separated: ${ROLES.join(", ")})
  --target <role>      judge a \`pulumi up --target\` of this role's image: the other images keep
                       their current state (repeatable)
  --update             judge the update phase (after the preview) instead of the preview`;

class BadInput extends Error {}

export interface CheckArgs {
    stack: string;
    rollout?: string;
    targets: Role[];
    update: boolean;
}

export function parseCheckArgs(argv: string[]): CheckArgs | "help" {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                stack: { type: "string" },
                rollout: { type: "string" },
                target: { type: "string", multiple: true },
                update: { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        }));
    } catch (err) {
        throw new BadInput(`${oneLine((err as Error).message)} (see --help)`);
    }
    if (values.help) {
        return "help";
    }
    if (!values.stack) {
        throw new BadInput("--stack <name> is required (see --help)");
    }
    const targets = values.target ?? [];
    const unknown = targets.filter((t) => !isRole(t));
    if (unknown.length > 0) {
        throw new BadInput(`--target ${unknown.join(", ")}: not a role; roles are ${ROLES.join(", ")}`);
    }
    return { stack: values.stack, rollout: values.rollout, targets: targets as Role[], update: values.update ?? false };
}

export interface CheckReport {
    text: string;
    exitCode: number;
}

export async function check(args: CheckArgs): Promise<CheckReport> {
    const overrides: Record<string, string> = args.rollout === undefined ? {} : { [`${CONFIG_NAMESPACE}:rollout`]: args.rollout };
    const registry = placeholderRegistry();
    const result = await runProgram({ stack: args.stack, preview: !args.update, config: overrides, registry });
    const settings = parseStackConfig(ownKeys(result.config));

    const outside = args.targets.filter((t) => !settings.rollout.includes(t));
    if (outside.length > 0) {
        throw new BadInput(`--target ${outside.join(", ")}: not in cgap:rollout (${settings.rollout.join(", ")}), so there is no image to target`);
    }
    const untouched = args.targets.length > 0 ? settings.rollout.filter((r) => !args.targets.includes(r)) : [];
    const resources = analyzerResources(result, { untouched, registry });

    const pack = await startPolicyPack({ stack: args.stack, dryRun: !args.update, config: result.config });
    let diagnostics: Diagnostic[];
    let packName: string;
    try {
        const info = await pack.info();
        packName = `${info.name} ${info.version} (${info.policies.length} policies)`;
        diagnostics = await pack.judge(resources);
    } finally {
        await pack.close();
    }

    const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory");
    const phase = args.update ? "update" : "preview";
    const lines = [
        `Rollout plan for stack ${args.stack} (${phase}${args.targets.length > 0 ? `, --target ${args.targets.join(" ")}` : ""})`,
        "",
        formatPlan(rolloutPlan(result, settings.sizing, untouched)),
        "",
        `Offline run: the program ran under mocks. Account ${PLACEHOLDER_ACCOUNT}, ARNs, subnet ids of a created VPC`,
        "and the digests in ECR are placeholders; ECR is assumed to hold an image for every tag.",
        "",
        `Policy pack ${packName} judged ${resources.length} resources:`,
        ...(diagnostics.length === 0
            ? ["  no violations"]
            : diagnostics.map((d) => `  [${d.enforcementLevel}] ${d.policyName}: ${oneLine(d.message)}${d.urn ? ` (${d.urn.split("::").pop()})` : ""}`)),
        "",
        mandatory.length === 0
            ? "PASS: no mandatory policy is violated."
            : `REFUSED: ${mandatory.length} mandatory violation${mandatory.length === 1 ? "" : "s"}; pulumi ${phase} would stop here.`,
    ];
    return { text: lines.join("\n"), exitCode: mandatory.length === 0 ? CHECK_EXIT.pass : CHECK_EXIT.refused };
}

async function main(argv: string[]): Promise<number> {
    try {
        const args = parseCheckArgs(argv);
        if (args === "help") {
            console.log(USAGE);
            return CHECK_EXIT.pass;
        }
        const report = await check(args);
        console.log(report.text);
        return report.exitCode;
    } catch (err) {
        if (err instanceof BadInput || err instanceof StackFileError || err instanceof ProgramError || err instanceof PackNotInstalledError) {
            console.error(`check: error: ${oneLine(err.message)}`);
            return CHECK_EXIT.badInput;
        }
        throw err;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(`check: error: ${oneLine(String(err instanceof Error ? err.message : err))}`);
            process.exit(CHECK_EXIT.badInput);
        },
    );
}
