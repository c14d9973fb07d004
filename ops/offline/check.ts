// npm run check -- --stack <name> [--rollout wsgi,indexer] [--target <role>]... [--update]
//                  [--policy-config <file>] [--format text|json|sarif]
//
// The offline rollout check: runs the real program under mocks with the stack's config file, prints
// the rollout plan, and judges it with the real policy pack through its analyzer protocol. Needs no
// cloud credentials and no Pulumi CLI. Exit 0: no mandatory policy violated; 1: one is; 2: bad input.
//
// Bad input is refused before anything heavy loads: the arguments, the stack file and its cgap:
// config are judged first, and the program, the pack and the report are imported only after.
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE, ConfigError, NO_REGION, ownKeys, parseStackConfig, providerRegion, StackConfig } from "../../components/config";
import { isRole, Role, ROLES } from "../../components/roles";
import type { PackInfo, PolicyPackConfig, PolicyPackProcess, StartOptions } from "./analyzer";
import type { Origins } from "../../components/estate";
import { CliError, oneLine, parseStrict, terminalWidth, wrap } from "../cli";
import { driftWarning, TagDrift } from "../drift";
import type { PlanRow } from "./plan";
import { readStackConfig, StackFileError } from "./stackFiles";
import type { ComplianceReport } from "./report";
import { OFFLINE_OUTPUTS_KEY } from "./outputsMarker";
import { toSarif } from "./sarif";
import { POLICY_PACK_DIR } from "../project";
import { levelProblems, refusal } from "../../policy/gates";

export const CHECK_EXIT = { pass: 0, refused: 1, badInput: 2 } as const;

/** The policy config reviewers hold previews to (docs/compliance.md's `--policy-pack-config`). */
export const DEFAULT_POLICY_CONFIG = path.join(POLICY_PACK_DIR, "config.example.json");

const FORMATS = ["text", "json", "sarif"] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: npm run check -- --stack <name> [--rollout <role,...>] [--target <role>]... [--update]
                       [--policy-config <file>] [--format text|json|sarif] [--write-outputs <file>]

Runs the program offline with Pulumi.<name>.yaml, prints the rollout plan and judges it with the
policy pack (policy/). Exit 0: no mandatory policy violated; 1: one is; 2: bad input.

  --stack <name>       the stack whose Pulumi.<name>.yaml to use
  --rollout <roles>    override cgap:rollout (comma-separated: ${ROLES.join(", ")})
  --target <role>      judge a \`pulumi up --target\` of this role's image: the other images keep
                       their current state (repeatable)
  --update             judge the update phase (after the preview) instead of the preview
  --policy-config <f>  the --policy-pack-config file to judge with (default policy/config.example.json,
                       the reviewers' levels and accepted exceptions); "none" runs every policy at its default
  --format <f>         text (default); json: the compliance report, every policy's verdict on every
                       resource with its control, level and reasons; sarif: its failures, accepted
                       exceptions and open verdicts as SARIF 2.1.0, each at the line that declares the
                       resource, for code scanning (GitHub's upload-sarif)
  --write-outputs <f>  also write the outputs an update of the stack would have, as
                       \`pulumi stack output --json\` prints them, marked offline (placeholder account,
                       ARNs and ids): the operator commands' --outputs, to try them without a stack`;

class BadInput extends Error {}

export interface CheckArgs {
    stack: string;
    rollout?: string;
    targets: Role[];
    update: boolean;
    /** A --policy-pack-config file, or null for the pack's defaults; default: the reviewers' config. */
    policyConfig?: string | null;
    format?: Format;
    /** Columns the text is wrapped to; default: the terminal's (see terminalWidth). */
    width?: number;
    /** Where to write the outputs an update would have, marked offline (see outputsMarker.ts). */
    writeOutputs?: string;
}


export function parseCheckArgs(argv: string[]): CheckArgs | "help" {
    const values = parseStrict(argv, {
        stack: { type: "string" },
        rollout: { type: "string" },
        target: { type: "string", multiple: true },
        update: { type: "boolean" },
        "policy-config": { type: "string" },
        format: { type: "string" },
        "write-outputs": { type: "string" },
        help: { type: "boolean", short: "h" },
    }) as {
        stack?: string;
        rollout?: string;
        target?: string[];
        update?: boolean;
        "policy-config"?: string;
        format?: string;
        "write-outputs"?: string;
        help?: boolean;
    };
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
    const format = values.format ?? "text";
    if (!(FORMATS as readonly string[]).includes(format)) {
        throw new BadInput(`--format ${format}: use ${FORMATS.slice(0, -1).join(", ")} or ${FORMATS[FORMATS.length - 1]}`);
    }
    const policyConfig = values["policy-config"] === "none" ? null : (values["policy-config"] ?? DEFAULT_POLICY_CONFIG);
    const writeOutputs = values["write-outputs"];
    if (writeOutputs !== undefined && (writeOutputs.trim() === "" || writeOutputs === "-")) {
        throw new BadInput("--write-outputs needs a file name (stdout carries the report)");
    }
    return {
        stack: values.stack,
        rollout: values.rollout,
        targets: targets as Role[],
        update: values.update ?? false,
        policyConfig,
        format: format as Format,
        writeOutputs,
    };
}

/** Reads a --policy-pack-config file: a JSON object of policy name to level or settings. */
export function readPolicyConfig(file: string | null): PolicyPackConfig {
    if (file === null) {
        return {};
    }
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new BadInput(`--policy-config ${file}: cannot read it (${oneLine((err as Error).message)})`);
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        throw new BadInput(`--policy-config ${file}: not valid JSON (${oneLine((err as Error).message)})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new BadInput(`--policy-config ${file}: must be a JSON object of policy name to level or settings`);
    }
    // A level that does not exist, or a rollout gate set below its fixed level: refused here with
    // the pack's own words (policy/gates.ts), before the program runs, as the pack refuses it at Configure.
    const problems = levelProblems(value as Record<string, unknown>);
    if (problems.length > 0) {
        throw new BadInput(`--policy-config ${file}: ${refusal(problems)}`);
    }
    return value as PolicyPackConfig;
}

export interface CheckReport {
    text: string;
    exitCode: number;
    report: ComplianceReport;
}

/** What the offline run takes the account to hold; placeholders unless a caller knows better. */
export interface OfflineCloud {
    /** Tag to the digest it points at in ECR. */
    registry: Record<string, string>;
    /** Role to the digest its task definition runs; a role not named runs its tag's digest. */
    running?: Partial<Record<Role, string>>;
}

/** Under a preview's PASS: what the same pack cannot judge later. */
export const PREVIEW_PASS_NOTE =
    "Judged as a preview. The update phase (and pulumi up --skip-preview) cannot tell a partial rollout from a full one: preview first.";

/** The update phase judges after the fact and without change detection; a PASS there is no verdict on the rollout. */
export const UPDATE_PHASE_NOTE =
    "Update phase: stack policies run after every step has completed, and every image then carries a pushed " +
    "digest, so the pack cannot see which images changed. A PASS here approves no partial rollout; only a " +
    "preview (run without --update) can refuse one before anything changes.";

/**
 * The stack's cgap: config as the program will parse it, and the --target roles checked against
 * its rollout: refused here (ConfigError, BadInput) before the program or the pack starts.
 */
export function validateStack(args: CheckArgs, config: Readonly<Record<string, string>>): StackConfig {
    const settings = parseStackConfig(ownKeys(config), providerRegion(config) ?? NO_REGION);
    const outside = args.targets.filter((t) => !settings.rollout.includes(t));
    if (outside.length > 0) {
        throw new BadInput(`--target ${outside.join(", ")}: not in cgap:rollout (${settings.rollout.join(", ")}), so there is no image to target`);
    }
    return settings;
}

/**
 * Where check() gets its policy pack. By default a process of its own, closed when the check is
 * done; a caller that judges many times (the tests) can lend it one and take it back.
 */
export interface PackSource {
    acquire(options: StartOptions): Promise<PolicyPackProcess>;
    release(pack: PolicyPackProcess): Promise<void>;
}

export async function check(args: CheckArgs, cloud?: OfflineCloud, packs?: PackSource): Promise<CheckReport> {
    const policyConfigFile = args.policyConfig === undefined ? DEFAULT_POLICY_CONFIG : args.policyConfig;
    const overrides: Record<string, string> = args.rollout === undefined ? {} : { [`${CONFIG_NAMESPACE}:rollout`]: args.rollout };
    const policyConfig = readPolicyConfig(policyConfigFile);
    const config = { ...readStackConfig(args.stack), ...overrides };
    const settings = validateStack(args, config);
    const source = packs ?? (await ownPack());
    // The pack starts while the program runs under mocks: it needs only the stack's config, and each
    // takes about a second, so the check waits for the longer of the two instead of their sum.
    const starting = source.acquire({ stack: args.stack, dryRun: !args.update, config, policyConfig });
    starting.catch(() => undefined); // a failed start is reported where it is awaited
    try {
        return await judgeOffline({ args, cloud, overrides, settings, policyConfig, policyConfigFile }, starting);
    } finally {
        await starting.then(
            (pack) => source.release(pack),
            () => undefined,
        );
    }
}

/** A pack process of the check's own. */
async function ownPack(): Promise<PackSource> {
    const { startPolicyPack } = await import("./analyzer");
    return { acquire: startPolicyPack, release: (pack) => pack.close() };
}

/** What check() settled before the program runs: the inputs of the offline judgement. */
interface Judging {
    args: CheckArgs;
    cloud: OfflineCloud | undefined;
    /** The run's config overrides (--rollout). */
    overrides: Record<string, string>;
    /** The stack's cgap: config, parsed once, with the overrides. */
    settings: StackConfig;
    policyConfig: PolicyPackConfig;
    policyConfigFile: string | null;
}

async function judgeOffline(
    { args, cloud, overrides, settings, policyConfig, policyConfigFile }: Judging,
    starting: Promise<PolicyPackProcess>,
): Promise<CheckReport> {
    const [{ placeholderRegistry, PLACEHOLDER_ACCOUNT, runProgram }, { analyzerResources, formatPlan, formatSources, rolloutPlan }, { originsOf }, { buildReport, stopsTheRun, summarizeReport, unknownMandatoryNote }] =
        await Promise.all([import("./program"), import("./plan"), import("../../components/estate"), import("./report")]);
    const registry = cloud?.registry ?? placeholderRegistry();
    const result = await runProgram({ stack: args.stack, preview: !args.update, config: overrides, registry });
    const untouched = args.targets.length > 0 ? settings.rollout.filter((r) => !args.targets.includes(r)) : [];
    const plan = rolloutPlan(result, settings.sizing, untouched);
    const drift: TagDrift[] = plan.flatMap(({ role, tag }) => {
        const ecrDigest = registry[tag];
        const runningDigest = cloud?.running?.[role] ?? ecrDigest;
        return ecrDigest !== undefined && runningDigest !== ecrDigest ? [{ role, tag, ecrDigest, runningDigest }] : [];
    });
    const resources = analyzerResources(result, { untouched, registry });
    // A preview's outputs are unknown until the update creates what they name: the file gets the
    // update's, from a second run when the check judged the preview.
    const outputs =
        args.writeOutputs === undefined
            ? undefined
            : args.update
              ? result.outputs
              : (await runProgram({ stack: args.stack, preview: false, config: overrides, registry })).outputs;

    let pack;
    try {
        pack = await starting;
    } catch (err) {
        // The pack refuses policy config it cannot use (unknown policy, wrong type): bad input, not a verdict.
        const message = (err as { details?: string }).details ?? (err as Error).message;
        if (/policy config refused/.test(message)) {
            throw new BadInput(`--policy-config ${policyConfigFile}: ${message}`);
        }
        throw err;
    }
    const info = await pack.info();
    const diagnostics = await pack.judge(resources);
    const packName = `${info.name} ${info.version} (${info.policies.length} policies)`;
    const report = buildReport({
        stack: args.stack,
        environment: settings.environment,
        preview: !args.update,
        info,
        policyConfig,
        policyConfigFile: policyConfigFile === null ? null : path.relative(process.cwd(), policyConfigFile) || policyConfigFile,
        resources,
        diagnostics,
    });
    await recordProvenance(report, { args, info, policyConfig, origins: originsOf(settings), placeholder: cloud?.registry === undefined, account: PLACEHOLDER_ACCOUNT });

    const mandatory = diagnostics.filter((d) => stopsTheRun(d.enforcementLevel));
    const notCovered = unknownMandatoryNote(report);
    const phase = args.update ? "update" : "preview";
    const width = args.width ?? terminalWidth();
    const warnings = result.warnings.map((w) => wrap(`warning: ${w}`, width));
    const lines = [
        `Rollout plan for stack ${args.stack} (${phase}${args.targets.length > 0 ? `, --target ${args.targets.join(" ")}` : ""})`,
        "",
        ...(warnings.length > 0 ? [...warnings, ""] : []),
        formatPlan(plan),
        "",
        ...leftOutNote(plan),
        ...drift.map((d) => wrap(driftWarning(d), width)),
        ...(drift.length > 0 ? [""] : []),
        formatSources(originsOf(settings)),
        "",
        `Offline run: the program ran under mocks. Account ${PLACEHOLDER_ACCOUNT}, ARNs, the values of the estate's`,
        "CloudFormation exports (shaped like 4dn-cloud-infra's), ids of a created VPC and the digests in ECR are",
        "placeholders; ECR is assumed to hold an image for every tag.",
        "",
        policyConfigFile === null
            ? "Policy config: none, every policy at its default level and settings."
            : `Policy config: ${report.policyConfig} (levels and accepted exceptions).`,
        `Policy pack ${packName} judged ${resources.length} resources:`,
        ...(diagnostics.length === 0
            ? ["  no violations"]
            : diagnostics.map((d) => wrap(`  [${d.enforcementLevel}] ${d.policyName}: ${d.message.replace(/\n/g, "\n    ")}${d.urn ? ` (${d.urn.split("::").pop()})` : ""}`, width))),
        "",
        ...summarizeReport(report).map((line) => wrap(line, width)),
        "",
        ...(args.update ? [wrap(UPDATE_PHASE_NOTE, width), ""] : []),
        mandatory.length === 0
            ? args.update
                ? wrap("PASS: no mandatory policy is violated; the update phase cannot see which roles changed, so this approves no partial rollout.", width)
                : [`PASS: no mandatory policy is violated.`, ...(notCovered ? [wrap(notCovered, width)] : []), wrap(PREVIEW_PASS_NOTE, width)].join("\n")
            : `REFUSED: ${mandatory.length} mandatory violation${mandatory.length === 1 ? "" : "s"}; pulumi ${phase} would stop here.`,
    ];
    if (outputs !== undefined && args.writeOutputs !== undefined) {
        writeOfflineOutputs(args.writeOutputs, args.stack, outputs, PLACEHOLDER_ACCOUNT);
        lines.push("", wrap(`Wrote the outputs an update of ${args.stack} would have to ${args.writeOutputs} (offline: placeholders).`, width));
    }
    const exitCode = mandatory.length === 0 ? CHECK_EXIT.pass : CHECK_EXIT.refused;
    const text =
        args.format === "json"
            ? JSON.stringify(report, null, 2)
            : args.format === "sarif"
              ? JSON.stringify(toSarif(report, info, { resources }), null, 2)
              : lines.join("\n");
    return { text, exitCode, report };
}

/** Writes `--write-outputs`: the program's outputs plus the offline marker. */
function writeOfflineOutputs(file: string, stack: string, outputs: Record<string, unknown>, account: string): void {
    const marked = {
        [OFFLINE_OUTPUTS_KEY]:
            `written by \`npm run check -- --stack ${stack} --write-outputs\` from a run under mocks, not read from a ` +
            `deployed stack: account ${account}, the ARNs and the ids are placeholders, so AWS will not know them`,
        ...outputs,
    };
    try {
        fs.writeFileSync(file, `${JSON.stringify(marked, null, 2)}\n`);
    } catch (err) {
        throw new BadInput(`--write-outputs ${file}: cannot write it (${oneLine((err as Error).message)})`);
    }
}

/** The report's provenance and not-applicable rows: what a reviewer archiving it needs besides the verdicts. */
async function recordProvenance(
    report: ComplianceReport,
    run: { args: CheckArgs; info: PackInfo; policyConfig: PolicyPackConfig; origins: Origins; placeholder: boolean; account: string },
): Promise<void> {
    const [{ configHash, gitState, notApplicableRows, packHash }, { complianceChecks }, { POLICY_PACK_DIR, PROJECT_DIR }] = await Promise.all([
        import("./provenance"),
        import("../../policy/policies"),
        import("../project"),
    ]);
    report.provenance = {
        generatedAt: new Date().toISOString(),
        git: gitState(PROJECT_DIR),
        pack: { name: run.info.name, version: run.info.version, sha256: packHash(POLICY_PACK_DIR) },
        policyConfig: { file: report.policyConfig, sha256: configHash(run.policyConfig) },
        arguments: { stack: run.args.stack, rollout: run.args.rollout ?? null, targets: run.args.targets, update: run.args.update, format: run.args.format ?? "text" },
        offline: { underMocks: true, placeholderAccount: run.account, registry: run.placeholder ? "placeholder" : "given" },
    };
    // A disabled policy has its own row ("disabled"), so only a control that judged nothing is listed.
    report.notApplicable = notApplicableRows(complianceChecks, report.results, { ...run.origins });
}

function leftOutNote(plan: PlanRow[]): string[] {
    const kept = plan.filter((row) => row.pin === "recorded").map((row) => row.role);
    const fromTags = plan.filter((row) => row.pin === "tag").map((row) => row.role);
    const lines: string[] = [];
    if (kept.length > 0) {
        lines.push(
            `Left out of cgap:rollout: ${kept.join(", ")}. Each keeps the image this stack last recorded for it, through`,
            "updates and replacements alike; a tag moved in ECR reaches a service only through a rollout that includes its role.",
            "",
        );
    }
    if (fromTags.length > 0) {
        lines.push(
            `Nothing recorded yet for ${fromTags.join(", ")}: the new task definition takes the digest its tag has in ECR now.`,
            "",
        );
    }
    return lines;
}

/** Bad input (exit 2) rather than a fault of the check itself. */
async function isBadInput(err: unknown): Promise<boolean> {
    if (err instanceof BadInput || err instanceof CliError || err instanceof StackFileError || err instanceof ConfigError) {
        return true;
    }
    // The errors of the modules loaded on demand: an error of theirs means they are loaded already.
    const [{ ProgramError }, { PackNotInstalledError }] = await Promise.all([import("./program"), import("./analyzer")]);
    return err instanceof ProgramError || err instanceof PackNotInstalledError;
}

/** Where the command writes: the process's streams, or a test's. `columns` is set on a terminal. */
export interface CheckIO {
    stdout: { write(text: string): unknown; columns?: number };
    stderr: { write(text: string): unknown; columns?: number };
}

/**
 * The SDK wraps an error thrown while it resolves an output in one `error serializing property
 * "<name>": ` per level it was nested at (@pulumi/pulumi runtime/rpc.ts serializeProperty); the
 * operator needs the error, not the path through the outputs.
 */
export function withoutSerializationTrail(message: string): string {
    return message.replace(/(error serializing property "[^"]*": )+/g, "");
}

/** The command: prints the report (stdout) or one error (stderr) and returns the exit code. */
export async function main(argv: string[], io: CheckIO = process, packs?: PackSource): Promise<number> {
    try {
        const args = parseCheckArgs(argv);
        if (args === "help") {
            io.stdout.write(`${USAGE}\n`);
            return CHECK_EXIT.pass;
        }
        const report = await check({ ...args, width: terminalWidth(io.stdout) }, undefined, packs);
        io.stdout.write(`${report.text}\n`);
        return report.exitCode;
    } catch (err) {
        if (await isBadInput(err)) {
            io.stderr.write(`${wrap(`check: error: ${withoutSerializationTrail((err as Error).message)}`, terminalWidth(io.stderr))}\n`);
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
