"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.PRODUCTION = exports.ENVIRONMENT_CONFIG = exports.ENVIRONMENT_TAG = exports.DEFAULT_PRODUCTION_STACKS = void 0;
exports.globToRegExp = globToRegExp;
exports.shortStackName = shortStackName;
exports.productionReason = productionReason;
exports.productionStacksFromConfig = productionStacksFromConfig;
exports.readStackIdentity = readStackIdentity;
exports.readPhase = readPhase;
// Which stack the pack is judging, and whether this is a preview.
//
// The CLI starts the pack with PULUMI_NODEJS_STACK, PULUMI_NODEJS_PROJECT, PULUMI_NODEJS_DRY_RUN
// and PULUMI_CONFIG (the stack's config) in its environment; stack tags arrive with each request.
// `pulumi.getStack()` quietly answers "stack" when the variable is not set, so the pack reads the
// variable itself to tell "not set" from a stack really named "stack".
const pulumi = __importStar(require("@pulumi/pulumi"));
exports.DEFAULT_PRODUCTION_STACKS = ["production", "prod", "*-production", "*-prod"];
/** The stack tag and the stack config key that also mark a production stack. */
exports.ENVIRONMENT_TAG = "environment";
exports.ENVIRONMENT_CONFIG = "cgap:environment";
exports.PRODUCTION = "production";
/**
 * Stack-name globs: `*` matches any run of characters, `?` one character; matching ignores case so
 * that `Production` cannot slip past `production`.
 */
function globToRegExp(glob) {
    const body = glob
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("");
    return new RegExp(`^${body}$`, "i");
}
/** Strips an `org/project/` prefix, should an engine ever send the fully qualified name. */
function shortStackName(name) {
    const parts = name.split("/");
    return parts[parts.length - 1];
}
/**
 * Why the stack counts as production, or undefined when it does not. An unreadable stack name
 * counts as production: the gate fails closed.
 */
function productionReason(stack, productionStacks) {
    if (stack.stackName === undefined || stack.stackName.trim() === "") {
        return "its name could not be read, so it counts as production";
    }
    const name = shortStackName(stack.stackName.trim());
    const glob = productionStacks.find((g) => globToRegExp(g).test(name));
    if (glob !== undefined) {
        return `its name matches the productionStacks pattern "${glob}"`;
    }
    const tag = stack.tags.get(exports.ENVIRONMENT_TAG);
    if (tag !== undefined && tag.trim().toLowerCase() === exports.PRODUCTION) {
        return `it has the stack tag ${exports.ENVIRONMENT_TAG}=${tag}`;
    }
    if (stack.environment !== undefined && stack.environment.trim().toLowerCase() === exports.PRODUCTION) {
        return `its config sets ${exports.ENVIRONMENT_CONFIG} to ${stack.environment}`;
    }
    return undefined;
}
/** Validates the `productionStacks` policy config; undefined means the default. */
function productionStacksFromConfig(value) {
    if (value === undefined || value === null) {
        return exports.DEFAULT_PRODUCTION_STACKS;
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
        throw new Error(`policy config productionStacks must be a list of stack-name globs such as ["production", "*-prod"], ` +
            `got ${JSON.stringify(value)}`);
    }
    return value;
}
/** The stack identity from the pack's environment and the request's stack tags. */
function readStackIdentity(tags) {
    const fromEngine = process.env.PULUMI_NODEJS_STACK || process.env.PULUMI_STACK;
    return {
        stackName: fromEngine ? pulumi.getStack() || fromEngine : undefined,
        tags,
        environment: readConfigKey(exports.ENVIRONMENT_CONFIG),
    };
}
function readConfigKey(key) {
    const [namespace, name] = key.split(":");
    return new pulumi.Config(namespace).get(name);
}
/**
 * A preview or the update. When the engine did not say (PULUMI_NODEJS_DRY_RUN unset), the pack
 * assumes a preview: after a real update every image carries a pushed digest, so assuming a
 * preview there refuses nothing extra, while assuming an update during a preview would switch
 * change detection off.
 */
function readPhase() {
    const flag = process.env.PULUMI_NODEJS_DRY_RUN ?? process.env.PULUMI_DRY_RUN;
    if (flag === undefined || flag === "") {
        return { preview: true, source: "assumed" };
    }
    return { preview: pulumi.runtime.isDryRun(), source: "engine" };
}
