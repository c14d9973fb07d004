// The portal's stack files, read as the Pulumi CLI reads them: the offline check, the program
// under mocks and the platform project (which declares Deployments for every portal stack) share
// this one reader.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT, PROJECT_DIR } from "../project";

/** The stacks that have a `Pulumi.<stack>.yaml` in the project directory, sorted. */
export function stackNames(dir = PROJECT_DIR): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * The stacks whose `Pulumi.<stack>.yaml` git tracks in `dir`: the repository's stacks, which
 * Deployments deploys, and not a stack file someone (or a test) has only written locally.
 */
export function committedStackNames(dir = PROJECT_DIR): string[] {
    let listed: string;
    try {
        listed = execFileSync("git", ["ls-files", "-z", "--", "Pulumi.*.yaml"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
        const reason = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
        throw new StackFileError(`cannot list the committed stack files in ${dir} (run from a git checkout): ${reason.split("\n")[0]}`);
    }
    return listed
        .split("\0")
        .map((f) => /^Pulumi\.([^/]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The project's name, from its Pulumi.yaml. */
export function projectName(dir = PROJECT_DIR): string {
    const name = (YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name === "") {
        throw new StackFileError(`${path.join(dir, "Pulumi.yaml")} has no project name.`);
    }
    return name;
}

/** A stack config file that is missing or malformed. */
export class StackFileError extends Error {}

/** Reads `Pulumi.<stack>.yaml` into the flat map Pulumi hands a program (structured values as JSON). */
export function readStackConfig(stack: string, dir = PROJECT_DIR, project = PROJECT): Record<string, string> {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new StackFileError(`No stack "${stack}": there is no Pulumi.${stack}.yaml (stacks here: ${stackNames(dir).join(", ")}).`);
    }
    let parsed: unknown;
    const text = fs.readFileSync(file, "utf8");
    try {
        parsed = YAML.parse(text);
    } catch (err) {
        throw new StackFileError(`Pulumi.${stack}.yaml is not valid YAML: ${yamlProblem(err as Error, text)}`);
    }
    const config = (parsed as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) {
        throw new StackFileError(`Pulumi.${stack}.yaml: "config" must be a map of keys to values.`);
    }
    return Object.fromEntries(
        Object.entries(config as Record<string, unknown>).map(([k, v]) => [
            k.includes(":") ? k : `${project}:${k}`,
            typeof v === "object" && v !== null ? JSON.stringify(v) : String(v),
        ]),
    );
}

/**
 * The first line of a YAML parse error, with the key named when the error is a repeated one: the
 * yaml package says only "Map keys must be unique at line 24, column 3" (its DUPLICATE_KEY error,
 * whose `pos` is where the second key starts).
 */
export function yamlProblem(err: Error & { code?: string; pos?: [number, number] }, text: string): string {
    const first = err.message.split("\n")[0];
    if (err.code !== "DUPLICATE_KEY" || err.pos === undefined) {
        return first;
    }
    // A plain key may hold colons (cgap:envName); it ends at the colon that a space or the line's end follows.
    const key = /^(?:"([^"]*)"|'([^']*)'|([^\n]+?))\s*:(?:[ \t]|$)/m.exec(text.slice(err.pos[0]));
    const name = key?.[1] ?? key?.[2] ?? key?.[3];
    return name === undefined ? first : `${name} is given twice (the second ${/at line \d+, column \d+/.exec(first)?.[0] ?? "further down"}); keep one`;
}
