// How every command in ops/aws/ starts: its arguments, then the stack's outputs, then the region
// its AWS clients talk to. One place, so the commands agree on the order: flags are judged before
// the outputs are read (a typo never waits on the pulumi CLI), and no client exists before both.
import { parseCommandArgs, quietSdkNodeWarning, usage, type CommandSpec, type ParsedArgs } from "../cli";
import { loadStackOutputs, resolveRegion, type StackOutputs } from "./stackOutputs";

export interface CommandContext<F> {
    args: ParsedArgs;
    /** The command's own flags, as `readFlags` made them. */
    flags: F;
    outputs: StackOutputs;
    /** The region for the command's AWS clients; undefined leaves it to the SDK's default chain. */
    region: string | undefined;
}

/**
 * Parses `argv` for `spec`. With --help it prints the usage and returns undefined (the command
 * exits 0); otherwise it reads the flags, loads the stack's outputs and resolves the region.
 * Throws a UsageError (exit 2) for bad flags or missing outputs.
 */
export async function commandContext<F = undefined>(
    argv: string[],
    spec: CommandSpec,
    readFlags: (extra: ParsedArgs["extra"]) => F = () => undefined as F,
): Promise<CommandContext<F> | undefined> {
    const args = parseCommandArgs(argv, spec);
    if (args.help) {
        process.stdout.write(`${usage(spec)}\n`);
        return undefined;
    }
    const flags = readFlags(args.extra);
    const outputs = await loadStackOutputs({ stack: args.stack, outputsFile: args.outputs });
    quietSdkNodeWarning();
    return { args, flags, outputs, region: resolveRegion(args.region, outputs) };
}
