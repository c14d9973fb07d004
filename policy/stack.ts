// Which stack the pack is judging, and whether this is a preview.
//
// The CLI starts the pack with PULUMI_NODEJS_STACK, PULUMI_NODEJS_PROJECT, PULUMI_NODEJS_DRY_RUN
// and PULUMI_CONFIG (the stack's config) in its environment; stack tags arrive with each request.
// `pulumi.getStack()` quietly answers "stack" when the variable is not set, so the pack reads the
// variable itself to tell "not set" from a stack really named "stack".
import type * as SdkConfig from "@pulumi/pulumi/config";
import type * as SdkSettings from "@pulumi/pulumi/runtime/settings";

import { Role, ROLES } from "./roles";

/**
 * The two SDK modules that hold the engine's view, loaded when it is first read, and not the SDK's
 * root, which loads the whole SDK (main.js). The offline check's report runs this pack's
 * decision functions in its own process, which never reads the engine's view.
 */
function sdk(): { Config: typeof SdkConfig.Config; getStack: typeof SdkSettings.getStack; isDryRun: typeof SdkSettings.isDryRun } {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Config } = require("@pulumi/pulumi/config") as typeof SdkConfig;
    const { getStack, isDryRun } = require("@pulumi/pulumi/runtime/settings") as typeof SdkSettings;
    /* eslint-enable @typescript-eslint/no-require-imports */
    return { Config, getStack, isDryRun };
}

export const DEFAULT_PRODUCTION_STACKS: readonly string[] = ["production", "prod", "*-production", "*-prod"];

/** The stack tag and the stack config key that also mark a production stack. */
export const ENVIRONMENT_TAG = "environment";
export const ENVIRONMENT_CONFIG = "cgap:environment";
/** Where the stack config names the roles a rollout builds (the program reads the same key). */
export const ROLLOUT_CONFIG = "cgap:rollout";
export const PRODUCTION = "production";

export interface StackIdentity {
    /** The stack's name; undefined when the engine did not say. */
    stackName: string | undefined;
    tags: ReadonlyMap<string, string>;
    /** The stack's `cgap:environment` config value, if set. */
    environment: string | undefined;
}

export interface Phase {
    /** A preview (change detection applies) rather than the update itself. */
    preview: boolean;
    /** How the phase was determined, for messages. */
    source: "engine" | "assumed";
}

/**
 * Stack-name globs: `*` matches any run of characters, `?` one character; matching ignores case so
 * that `Production` cannot slip past `production`.
 */
export function globToRegExp(glob: string): RegExp {
    const body = glob
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("");
    return new RegExp(`^${body}$`, "i");
}

/** Strips an `org/project/` prefix, should an engine ever send the fully qualified name. */
export function shortStackName(name: string): string {
    const parts = name.split("/");
    return parts[parts.length - 1];
}

/**
 * Why the stack counts as production, or undefined when it does not. An unreadable stack name
 * counts as production: the gate fails closed.
 */
export function productionReason(stack: StackIdentity, productionStacks: readonly string[]): string | undefined {
    if (stack.stackName === undefined || stack.stackName.trim() === "") {
        return "its name could not be read, so it counts as production";
    }
    const name = shortStackName(stack.stackName.trim());
    const glob = productionStacks.find((g) => globToRegExp(g).test(name));
    if (glob !== undefined) {
        return `its name matches the productionStacks pattern "${glob}"`;
    }
    const tag = stack.tags.get(ENVIRONMENT_TAG);
    if (tag !== undefined && tag.trim().toLowerCase() === PRODUCTION) {
        return `it has the stack tag ${ENVIRONMENT_TAG}=${tag}`;
    }
    if (stack.environment !== undefined && stack.environment.trim().toLowerCase() === PRODUCTION) {
        return `its config sets ${ENVIRONMENT_CONFIG} to ${stack.environment}`;
    }
    return undefined;
}

/** The `productionStacks` setting, as every policy that needs to know production declares it. */
export const PRODUCTION_STACKS_SETTING = {
    type: "array",
    items: { type: "string", minLength: 1 },
    default: [...DEFAULT_PRODUCTION_STACKS],
    description:
        "Stack-name globs (* and ?, case-insensitive) that are production. A stack tagged " +
        "environment=production or configured cgap:environment=production is production too.",
} as const;

/** Validates the `productionStacks` policy config; undefined means the default. */
export function productionStacksFromConfig(value: unknown): readonly string[] {
    if (value === undefined || value === null) {
        return DEFAULT_PRODUCTION_STACKS;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
        throw new Error(
            `policy config productionStacks must be a list of stack-name globs such as ["production", "*-prod"], ` +
                `got ${JSON.stringify(value)}`,
        );
    }
    return value as string[];
}

/** The stack identity from the pack's environment and the request's stack tags. */
export function readStackIdentity(tags: ReadonlyMap<string, string>): StackIdentity {
    const fromEngine = process.env.PULUMI_NODEJS_STACK || process.env.PULUMI_STACK;
    return {
        stackName: fromEngine ? sdk().getStack() || fromEngine : undefined,
        tags,
        environment: readConfigKey(ENVIRONMENT_CONFIG),
    };
}

/**
 * The roles cgap:rollout names in the stack's config (the program's default, all four, when unset).
 * Read leniently: the program validates the setting, and an unreadable one leaves the fix general.
 */
export function readRollout(): Role[] | undefined {
    const raw = readConfigKey(ROLLOUT_CONFIG);
    if (raw === undefined) {
        return [...ROLES];
    }
    const trimmed = raw.trim();
    let names: unknown;
    try {
        names = JSON.parse(trimmed);
    } catch {
        // `[wsgi, indexer]` as `pulumi config set` stores it, or `wsgi,indexer`.
        names = trimmed.replace(/^\[|\]$/g, "").split(",").map((name) => name.trim().replace(/^(["'])(.*)\1$/, "$2"));
    }
    return Array.isArray(names) ? ROLES.filter((role) => names.includes(role)) : undefined;
}

function readConfigKey(key: string): string | undefined {
    const [namespace, name] = key.split(":");
    return new (sdk().Config)(namespace).get(name);
}

/**
 * A preview or the update. When the engine did not say (PULUMI_NODEJS_DRY_RUN unset), the pack
 * assumes a preview: after a real update every image carries a pushed digest, so assuming a
 * preview there refuses nothing extra, while assuming an update during a preview would switch
 * change detection off.
 */
export function readPhase(): Phase {
    const flag = process.env.PULUMI_NODEJS_DRY_RUN ?? process.env.PULUMI_DRY_RUN;
    if (flag === undefined || flag === "") {
        return { preview: true, source: "assumed" };
    }
    return { preview: sdk().isDryRun(), source: "engine" };
}
