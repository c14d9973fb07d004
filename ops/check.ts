// npm run check -- --stack <name> [--rollout wsgi,indexer] [--target <role>]... [--update]
//
// The offline rollout check: runs the real program under mocks with the stack's config file, prints
// the rollout plan, and judges it with the real policy pack through its analyzer protocol. Needs no
// cloud credentials and no Pulumi CLI. Exit 0: no mandatory policy violated; 1: one is; 2: bad input.
import { CONFIG_NAMESPACE, ownKeys, parseStackConfig, providerRegion, unreadConfigWarnings } from "../components/config";
import { isRole, Role, ROLES } from "../components/roles";
import { Diagnostic, PackNotInstalledError, startPolicyPack } from "./analyzer";
import { CliError, parseStrict, terminalWidth, wrap } from "./cli";
import { driftWarning, TagDrift } from "./drift";
import { analyzerResources, formatPlan, formatSources, PlanRow, rolloutPlan } from "./plan";
import { originsOf } from "../components/estate";
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
    const values = parseStrict(argv, {
        stack: { type: "string" },
        rollout: { type: "string" },
        target: { type: "string", multiple: true },
        update: { type: "boolean" },
        help: { type: "boolean", short: "h" },
    }) as { stack?: string; rollout?: string; target?: string[]; update?: boolean; help?: boolean };
    if (values.help) {
        return "help";
    }
    if (!values.stack) {
        throw new BadInput("--stack <name> is required (see --help)");
    }
    if (values.rollout !== undefined && values.rollout.trim() === "") {
        // Typically an unset CI variable (`--rollout "$ROLES"`): refusing beats judging the file's rollout instead.
        throw new BadInput(
            `--rollout is empty; name the roles to roll out (${ROLES.join(", ")}), or leave --rollout out to use the stack's cgap:rollout`,
        );
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

/** What the offline run takes the account to hold; placeholders unless a caller knows better. */
export interface OfflineCloud {
    /** Tag to the digest it points at in ECR. */
    registry: Record<string, string>;
    /** Role to the digest its task definition runs; a role not named runs its tag's digest. */
    running?: Partial<Record<Role, string>>;
}

/** The update phase judges after the fact and without change detection; a PASS there is no verdict on the rollout. */
export const UPDATE_PHASE_NOTE =
    "Update phase: stack policies run after every step has completed, and every image then carries a pushed " +
    "digest, so the pack cannot see which images changed. A PASS here approves no partial rollout; only a " +
    "preview (run without --update) can refuse one before anything changes.";

export async function check(args: CheckArgs, cloud: OfflineCloud = { registry: placeholderRegistry() }): Promise<CheckReport> {
    const overrides: Record<string, string> = args.rollout === undefined ? {} : { [`${CONFIG_NAMESPACE}:rollout`]: args.rollout };
    const registry = cloud.registry;
    const result = await runProgram({ stack: args.stack, preview: !args.update, config: overrides, registry });
    const settings = parseStackConfig(ownKeys(result.config), providerRegion(result.config));

    const outside = args.targets.filter((t) => !settings.rollout.includes(t));
    if (outside.length > 0) {
        throw new BadInput(`--target ${outside.join(", ")}: not in cgap:rollout (${settings.rollout.join(", ")}), so there is no image to target`);
    }
    const untouched = args.targets.length > 0 ? settings.rollout.filter((r) => !args.targets.includes(r)) : [];
    const plan = rolloutPlan(result, settings.sizing, untouched);
    const drift: TagDrift[] = plan.flatMap(({ role, tag }) => {
        const ecrDigest = registry[tag];
        const runningDigest = cloud.running?.[role] ?? ecrDigest;
        return ecrDigest !== undefined && runningDigest !== ecrDigest ? [{ role, tag, ecrDigest, runningDigest }] : [];
    });
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
    const warnings = unreadConfigWarnings(result.config).map((w) => wrap(`warning: ${w}`));
    const lines = [
        `Rollout plan for stack ${args.stack} (${phase}${args.targets.length > 0 ? `, --target ${args.targets.join(" ")}` : ""})`,
        "",
        ...(warnings.length > 0 ? [...warnings, ""] : []),
        formatPlan(plan),
        "",
        ...leftOutNote(plan),
        ...drift.map((d) => wrap(driftWarning(d))),
        ...(drift.length > 0 ? [""] : []),
        formatSources(originsOf(settings)),
        "",
        `Offline run: the program ran under mocks. Account ${PLACEHOLDER_ACCOUNT}, ARNs, the values of the estate's`,
        "CloudFormation exports (shaped like 4dn-cloud-infra's), ids of a created VPC and the digests in ECR are",
        "placeholders; ECR is assumed to hold an image for every tag.",
        "",
        `Policy pack ${packName} judged ${resources.length} resources:`,
        ...(diagnostics.length === 0
            ? ["  no violations"]
            : diagnostics.map((d) => wrap(`  [${d.enforcementLevel}] ${d.policyName}: ${d.message.replace(/\n/g, "\n    ")}${d.urn ? ` (${d.urn.split("::").pop()})` : ""}`))),
        "",
        ...(args.update ? [wrap(UPDATE_PHASE_NOTE), ""] : []),
        mandatory.length === 0
            ? "PASS: no mandatory policy is violated."
            : `REFUSED: ${mandatory.length} mandatory violation${mandatory.length === 1 ? "" : "s"}; pulumi ${phase} would stop here.`,
    ];
    return { text: lines.join("\n"), exitCode: mandatory.length === 0 ? CHECK_EXIT.pass : CHECK_EXIT.refused };
}

function leftOutNote(plan: PlanRow[]): string[] {
    const kept = plan.filter((row) => row.keepsWhatRuns).map((row) => row.role);
    if (kept.length === 0) {
        return [];
    }
    return [
        `Left out of cgap:rollout: ${kept.join(", ")}. Each keeps the image its task definition names now; a tag moved`,
        "in ECR reaches a service only through a rollout that includes its role.",
        "",
    ];
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
        if (
            err instanceof BadInput ||
            err instanceof CliError ||
            err instanceof StackFileError ||
            err instanceof ProgramError ||
            err instanceof PackNotInstalledError
        ) {
            console.error(wrap(`check: error: ${err.message}`, terminalWidth(process.stderr)));
            return CHECK_EXIT.badInput;
        }
        throw err;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(wrap(`check: error: ${String(err instanceof Error ? err.message : err)}`, terminalWidth(process.stderr)));
            process.exit(CHECK_EXIT.badInput);
        },
    );
}
