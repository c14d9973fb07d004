// Runs the real program (index.ts) under Pulumi's mocks with a stack's real config file, and
// records every resource it registers: what the tests assert on and what the offline check
// judges with the policy pack. No cloud account and no Pulumi CLI are involved, so every
// cloud-side value (account, ARNs, digests in ECR) is a placeholder made here.
import "./deferredSdk";
import * as crypto from "crypto";
import * as path from "path";
import { fileURLToPath } from "url";
import * as pulumi from "@pulumi/pulumi";
import * as debuggableModule from "@pulumi/pulumi/runtime/debuggable";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { readStackConfig } from "./stackFiles";
import { PROJECT, PROJECT_DIR } from "../project";
import { ownKeys, parseStackConfig } from "../../components/config";
import { exportName } from "../../components/exports";
import { Role, ROLE_SPECS, ROLES } from "../../components/roles";
import { imageOf } from "../../components/services";
import type { SourceLocation } from "./analyzer";

export { readStackConfig, StackFileError } from "./stackFiles";

/** How the engine writes a value not known until the update. */
export { UNKNOWN } from "./analyzer";

export const PLACEHOLDER_ACCOUNT = "123456789012";

export interface RunOptions {
    /** Stack name; its config comes from `Pulumi.<stack>.yaml`. */
    stack: string;
    /** Config values laid over the file's, keyed with their namespace (`cgap:rollout`). */
    config?: Record<string, string>;
    /** Run as `pulumi preview` (true) or as the update of `pulumi up` (false). */
    preview: boolean;
    /**
     * Preview of a stack that does not exist yet: nothing the cloud computes is known. Otherwise the
     * preview is of an existing stack, whose unchanged resources have known outputs.
     */
    firstRollout?: boolean;
    /** Tag to digest in ECR before the run; defaults to a placeholder digest for each role tag. */
    registry?: Record<string, string>;
    /**
     * The stack's state before the run: the resources an earlier run registered. For a resource
     * registered with `ignoreChanges`, the provider then receives the old inputs of the ignored
     * properties, as the engine does (pulumi/pulumi pkg/resource/deploy/step_generator.go,
     * processIgnoreChanges); without state every resource is a first creation.
     */
    state?: RegisteredResource[];
    /**
     * ECS services that exist before the run, by service name, with the capacity provider strategy
     * they run on now (what `aws.ecs.getService` reports). Any other service does not exist yet.
     */
    liveServices?: Record<string, { capacityProvider: string; base?: number; weight?: number }[]>;
    /**
     * This stack's outputs as its last run recorded them, what a reference to the stack itself reads.
     * Defaults to what `state` says the task definitions name; without state, to an existing stack
     * whose roles run their tags' digests in `registry` (none in a first-rollout preview).
     */
    recordedOutputs?: Record<string, unknown>;
    /**
     * Resources in the account that this stack's state does not hold: what an earlier `pulumi
     * destroy` kept (retainOnDelete). Creating one of their names again fails as AWS answers it.
     */
    existing?: RegisteredResource[];
    /**
     * Resources to replace whatever their diff says, as `pulumi up --replace <urn>` does; each
     * entry is a URN or its `<type>::<name>` tail.
     */
    replace?: string[];
}

/**
 * The CloudFormation exports of the placeholder account, shaped like what 4dn-cloud-infra's stacks
 * export (names of v1.0.0 and later, values of the kinds its templates output; see
 * components/exports.ts): a network and an ECR stack for the "main" ecosystem with the mastertest
 * datastore (v4: no secret export), and for the "prod" ecosystem with the production datastore
 * (v1-v3: it exports the identity secret's ARN).
 */
export function placeholderExports(region: string): Record<string, string> {
    const ids = (prefix: string, seed: string) => `${prefix}-${crypto.createHash("sha256").update(seed).digest("hex").slice(0, 17)}`;
    const network = (stack: string) => ({
        [`${stack}-VPC`]: ids("vpc", `${stack}-VPC`),
        ...Object.fromEntries(
            ["PublicSubnetA", "PublicSubnetB", "PrivateSubnetA", "PrivateSubnetB"].map((n) => [`${stack}-${n}`, ids("subnet", `${stack}-${n}`)]),
        ),
        ...Object.fromEntries(
            ["ApplicationSecurityGroup", "DBSecurityGroup", "HTTPSSecurityGroup"].map((n) => [`${stack}-${n}`, ids("sg", `${stack}-${n}`)]),
        ),
    });
    const datastore = (stack: string, env: string) => ({
        [`${stack}-ElasticSearchURL`]: `vpc-os-${env}-${ids("x", env).slice(2, 28).padEnd(26, "0")}.${region}.es.amazonaws.com`,
        [`${stack}-RdsUrl`]: `${env}.${ids("c", env).slice(2, 14)}.${region}.rds.amazonaws.com`,
        [`${stack}-RdsPort`]: "5432",
        ...Object.fromEntries(
            [
                ["ApplicationIndexerPrimaryQueue", "indexer-queue"],
                ["ApplicationIndexerSecondaryQueue", "secondary-indexer-queue"],
                ["ApplicationIndexerDLQ", "indexer-queue-dlq"],
                ["ApplicationIngestionQueue", "ingestion-queue"],
                ["ApplicationIndexerRealtimeQueue", "realtime-indexer-queue"],
            ].map(([n, suffix]) => [`${stack}-${n}`, `https://sqs.${region}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${env}-${suffix}`]),
        ),
        ...Object.fromEntries(
            [
                ["AppFilesBucket", "files"],
                ["AppWfoutBucket", "wfoutput"],
                ["AppBlobsBucket", "blobs"],
                ["AppSystemBucket", "system"],
                ["AppMetadataBundlesBucket", "metadata-bundles"],
                ["AppTibannaLogsBucket", "tibanna-output"],
                ["AppTibannaCWLBucket", "tibanna-cwls"],
            ].map(([n, suffix]) => [`${stack}-${n}`, `${env}-application-${suffix}`]),
        ),
        [`${stack}-FoursightEnvBucket`]: `${env}-foursight-envs`,
    });
    const registry = `${PLACEHOLDER_ACCOUNT}.dkr.ecr.${region}.amazonaws.com`;
    return {
        ...network("c4-network-main-stack"),
        "c4-ecr-main-stack-RepoURL": `${registry}/cgap-mastertest`,
        ...datastore("c4-datastore-cgap-mastertest-stack", "cgap-mastertest"),
        ...network("c4-network-prod-stack"),
        "c4-ecr-prod-stack-RepoURL": `${registry}/cgap-production`,
        ...datastore("c4-datastore-cgap-production-stack", "cgap-production"),
        "c4-datastore-cgap-production-stack-ApplicationConfigurationSecretName":
            `arn:aws:secretsmanager:${region}:${PLACEHOLDER_ACCOUNT}:secret:C4DatastoreCgapProductionApplicationConfiguration-Ab12Cd`,
    };
}

/**
 * What the offline account's stack of a missing export does export, so a name the account lacks
 * (say `ExportVPC`, a name of 4dn-cloud-infra before v1.0.0) is seen next to the ones it has.
 */
function offlineStackExports(exports: Record<string, string>, missing: string): string {
    const stack = Object.keys(exports)
        .map((name) => name.slice(0, name.lastIndexOf("-")))
        .find((prefix) => missing.startsWith(`${prefix}-`));
    if (stack === undefined) {
        return "";
    }
    const names = Object.keys(exports)
        .filter((name) => name.startsWith(`${stack}-`) && !name.slice(stack.length + 1).includes("-"))
        .map((name) => name.slice(stack.length + 1));
    return ` (the offline account's ${stack}, shaped like 4dn-cloud-infra v1.0.0 and later, exports ${names.join(", ")})`;
}

export interface RegisteredResource {
    type: string;
    name: string;
    urn: string;
    /** The cloud id the mocked provider assigned (undefined in a first-rollout preview). */
    id?: string;
    parent?: string;
    /** URNs of the resources this one depends on (dependsOn and inputs). */
    dependencies: string[];
    /** Per input property, the URNs of the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
    custom: boolean;
    /** The existing cloud id given as `import`, if any. */
    importId?: string;
    /** The `ignoreChanges` resource option: properties whose old inputs the engine keeps. */
    ignoreChanges: string[];
    /**
     * The engine replaces this resource (a ForceNew property changed, or `--replace`): the provider
     * then received the program's own inputs, `ignoreChanges` notwithstanding.
     */
    replaced: boolean;
    /** The `retainOnDelete` resource option. */
    retainOnDelete: boolean;
    /** The program's own inputs, before the engine applied `ignoreChanges` against the state. */
    declaredInputs: Record<string, unknown>;
    /** Inputs as the provider receives them (after `ignoreChanges`): unknowns as UNKNOWN, secrets wrapped. */
    inputs: Record<string, unknown>;
    /** Inputs as plain values (unknowns and secrets unwrapped), for assertions. */
    plainInputs: Record<string, unknown>;
    /** Outputs the mocked provider returned; for a component, what it registered with registerOutputs. */
    outputs: Record<string, unknown>;
    /**
     * Where the program declares the resource: the constructor call the SDK sent as the registration's
     * source position, or, for a resource with none in this repository (made inside a provider SDK),
     * its nearest ancestor's. Undefined when no ancestor has one either.
     */
    location?: SourceLocation;
}

export interface ProgramResult {
    /** The config the program ran with: the stack file's, with the run's overrides laid over it. */
    config: Record<string, string>;
    /** The CloudFormation exports the portal program read (full names); runProgram sets it. */
    exportsRead?: string[];
    resources: RegisteredResource[];
    /** Stack outputs; unknown ones are undefined. */
    outputs: Record<string, unknown>;
    /** What the program warned about (pulumi.log.warn), as `pulumi preview` would show it. */
    warnings: string[];
}

/** The digest a mocked push reports: a hash of what was built, so equal builds get equal digests. */
export function mockDigest(seed: unknown): string {
    return `sha256:${crypto.createHash("sha256").update(JSON.stringify(seed)).digest("hex")}`;
}

export function placeholderRegistry(): Record<string, string> {
    return Object.fromEntries(
        ["latest", "latest-indexer", "latest-ingester", "latest-deployment"].map((tag) => [tag, mockDigest(`ecr:${tag}`)]),
    );
}

/**
 * Runs index.ts once. Runs are sequential: the Pulumi runtime is one per process. A program error
 * (bad config, a missing image for a pinned role) rejects with that error.
 */
export async function runProgram(options: RunOptions): Promise<ProgramResult> {
    const config = { ...readStackConfig(options.stack), ...options.config };
    const region = config["aws:region"] ?? "us-east-1";
    const cloud = new PlaceholderCloud(region, options, options.registry ?? placeholderRegistry(), config);
    const run = await runUnderMocks(
        { file: path.join(PROJECT_DIR, "index.ts"), project: PROJECT, stack: options.stack, config, preview: options.preview },
        cloud,
        options.state,
        options.replace,
    );
    return { config, exportsRead: [...cloud.exportsRead].sort(), ...run };
}

/** A Pulumi program of this repository to run under mocks. */
export interface MockedProgram {
    /** The program's entry file. */
    file: string;
    project: string;
    stack: string;
    /** The full config map (`namespace:key` to value, structured values as JSON). */
    config: Record<string, string>;
    preview: boolean;
}

/** Mocks that remember what they were asked to create, keyed `<type>::<name>`. */
export interface RecordingMocks extends pulumi.runtime.Mocks {
    readonly registered: Map<string, Pick<RegisteredResource, "id" | "plainInputs" | "outputs">>;
}

/**
 * Runs a program once under the given mocks and records every resource it registers. Runs are
 * sequential: the Pulumi runtime is one per process. A program error rejects with a ProgramError.
 */
export async function runUnderMocks(
    program: MockedProgram,
    mocks: RecordingMocks,
    state: RegisteredResource[] = [],
    replace: readonly string[] = [],
): Promise<Pick<ProgramResult, "resources" | "outputs" | "warnings">> {
    const records = new Map<string, Partial<RegisteredResource>>();

    // The organization a self-hosted backend gives every stack (`organization/<project>/<stack>`).
    await pulumi.runtime.setMocks(mocks, program.project, program.stack, program.preview, "organization");
    recordRegistrations(records, state, replace);
    pulumi.runtime.setAllConfig(program.config);

    // A program error thrown inside an apply surfaces only as an unhandled rejection (the CLI's
    // runner reports those and exits); the run it belongs to would otherwise wait forever.
    let onRejection: (reason: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (onRejection = reject));
    process.on("unhandledRejection", onRejection);
    // Without an engine the SDK prints a program's warnings to stderr, `warning: [runtime] <message>`
    // (log/index.js); they belong to the run's result, for its caller to show.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        const runtime = /^warning: \[runtime\] ([^]*)$/.exec(text);
        if (runtime) {
            warnings.push(runtime[1]);
        } else {
            consoleWarn(...args);
        }
    };
    const mappedStackTraces = Error.prepareStackTrace;
    // The SDK gives every promise it makes a stack trace and formats it at once (runtime/debuggable.js,
    // for its leak report), and the loader's source-map-support maps each frame of each: that mapping
    // was two thirds of a run. During the run V8 formats stacks itself; an error first read after the
    // run (the program's own, in a ProgramError) is still formatted source-mapped, since V8 formats
    // a stack when it is first read.
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    const restoreCallsites = mapCallsites(mappedStackTraces);
    const restorePromiseStacks = withoutPromiseStacks();
    try {
        forgetProgramModules();
        const run = async () => {
            const outputs = await pulumi.runtime.runInPulumiStack(async () => ({
                ...(await import(program.file)),
            }));
            await waitForRPCs();
            return outputs;
        };
        const outputs = await Promise.race([run(), failed]);
        return { resources: collect(records, mocks), outputs: (outputs ?? {}) as Record<string, unknown>, warnings };
    } catch (err) {
        throw new ProgramError(err, collect(records, mocks));
    } finally {
        // Let stray rejections of a failed run land here rather than in the next run.
        await new Promise((resolve) => setImmediate(resolve));
        process.off("unhandledRejection", onRejection);
        restorePromiseStacks();
        restoreCallsites();
        Error.prepareStackTrace = mappedStackTraces;
        console.warn = consoleWarn;
    }
}

/** A run that failed: the program's own error, and what it had registered by then. */
export class ProgramError extends Error {
    constructor(
        readonly cause: unknown,
        readonly resources: RegisteredResource[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = cause instanceof Error ? cause.name : "Error";
    }
}

function collect(records: Map<string, Partial<RegisteredResource>>, mocks: RecordingMocks): RegisteredResource[] {
    const byUrn = new Map([...records.values()].map((r) => [r.urn, r]));
    return [...records.values()].map((r) => {
        const mocked = mocks.registered.get(`${r.type}::${r.name}`);
        // A component's outputs are what it registered (registerOutputs), not what the mock made up for
        // it; a remote component (awsx) registers none, and its outputs are the mock's.
        const registered = !r.custom && r.outputs !== undefined ? { outputs: r.outputs } : {};
        const location = locationOf(r, byUrn);
        return { outputs: {}, ...r, ...mocked, ...registered, ...(location ? { location } : {}) } as RegisteredResource;
    });
}

type Located = Partial<Pick<RegisteredResource, "urn" | "parent" | "location">>;

/** A resource's own source location, else its nearest ancestor's (parents are registered first, so they are recorded). */
export function locationOf(record: Located, byUrn: ReadonlyMap<string | undefined, Located>): SourceLocation | undefined {
    const seen = new Set<string | undefined>();
    for (let r: Located | undefined = record; r && !seen.has(r.urn); r = r.parent ? byUrn.get(r.parent) : undefined) {
        seen.add(r.urn);
        if (r.location) {
            return r.location;
        }
    }
    return undefined;
}

/** The SDK's source position (@pulumi/pulumi 3.248 runtime/resource.js marshalSourcePosition) as a location in this repository. */
interface SourcePosition {
    getUri(): string;
    getLine(): number;
    getColumn(): number;
}

/**
 * The SDK takes a registration's position from the first frame below the resource classes' own
 * constructors (resource.js, `Resource.stackTrace(4)`): the program's `new X(...)` call. It sends the
 * file as a `file://` URL (`url.pathToFileURL(file)`), with a 1-based line and column. A position
 * outside this repository's own code (a file under node_modules: a resource a provider SDK makes)
 * names nothing a reader could open, and counts as none; so does a machine path outside the project.
 */
export function repositoryLocation(position: SourcePosition | undefined, projectDir: string = PROJECT_DIR): SourceLocation | undefined {
    const uri = position?.getUri();
    if (!position || !uri?.startsWith("file:") || position.getLine() < 1) {
        return undefined;
    }
    const relative = path.relative(projectDir, fileURLToPath(uri));
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative) || relative.split(path.sep).includes("node_modules")) {
        return undefined;
    }
    return { file: relative.split(path.sep).join("/"), line: position.getLine(), ...(position.getColumn() > 0 ? { column: position.getColumn() } : {}) };
}

/**
 * The SDK reads a registration's position from `new Error().stack` (resource.js, Resource.callsites).
 * With the run's stack traces left unmapped (see runUnderMocks), those would be positions in the
 * transpiled JavaScript; the real CLI runs the program under ts-node's source maps (the offline run
 * under the project's loader, ops/register.js, also source-mapped), and records the
 * TypeScript line. So, for the SDK's callsites alone, the mapped formatting is put back: one stack
 * per registration, not one per promise. Returns what undoes it.
 */
function mapCallsites(mapped: typeof Error.prepareStackTrace): () => void {
    const sdk = pulumi.Resource as unknown as { callsites?: () => unknown };
    const callsites = sdk.callsites;
    if (mapped === undefined || typeof callsites !== "function") {
        return () => undefined;
    }
    sdk.callsites = function (this: unknown) {
        const unmapped = Error.prepareStackTrace;
        Error.prepareStackTrace = mapped;
        try {
            const frames = callsites.call(this);
            // The SDK counts frames from its own callsites() down to the program's call; this wrapper
            // is one frame more (the second, under callsites itself), and is dropped so the count holds.
            return Array.isArray(frames) ? [frames[0], ...frames.slice(2)] : frames;
        } finally {
            Error.prepareStackTrace = unmapped;
        }
    };
    return () => {
        sdk.callsites = callsites;
    };
}

/**
 * The SDK records a stack trace with every promise it makes (runtime/debuggable.js
 * `debuggablePromise`), which it prints only when PULUMI_DEBUG_PROMISE_LEAKS is set and a promise
 * outlives the program. Capturing and formatting those stacks was about a third of a run's CPU.
 * Unless that variable is set, the run's promises are made with an empty stack (`Error` alone);
 * the leak check itself, the program's own errors and the callsites above keep their stacks.
 * The SDK calls the function through its module's exports, which is what lets this replace it.
 * Returns what undoes it.
 */
function withoutPromiseStacks(): () => void {
    const debuggable = debuggableModule as { debuggablePromise: (...args: unknown[]) => unknown; debugPromiseLeaks?: boolean };
    const original = debuggable.debuggablePromise;
    if (debuggable.debugPromiseLeaks || typeof original !== "function") {
        return () => undefined;
    }
    debuggable.debuggablePromise = (...args: unknown[]) => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original(...args);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    return () => {
        debuggable.debuggablePromise = original;
    };
}

/** Resources the outputs do not reach may still be registering; wait for every RPC (internal in the SDK's typings). */
function waitForRPCs(): Promise<void> {
    return (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

const OPS_DIR = path.join(PROJECT_DIR, "ops") + path.sep;

/** The program's own modules are loaded afresh each run; the Pulumi SDKs and ops/ stay loaded. */
function forgetProgramModules(): void {
    for (const file of Object.keys(require.cache)) {
        if (file.startsWith(PROJECT_DIR) && !file.includes(`${path.sep}node_modules${path.sep}`) && !file.startsWith(OPS_DIR)) {
            delete require.cache[file];
        }
    }
}

/**
 * The mock monitor does not hand mocks a resource's options, parent or dependencies; record them as
 * they are registered, and play the engine's part for `ignoreChanges` and replacements (engineInputs).
 */
function recordRegistrations(
    records: Map<string, Partial<RegisteredResource>>,
    state: RegisteredResource[],
    replace: readonly string[],
): void {
    const monitor = settings.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, callback: (err: unknown, resp?: { getUrn(): string }) => void): void;
        registerResourceOutputs(req: RegisterOutputsRequest, callback: (err: unknown, resp?: unknown) => void): void;
    };
    const old = new Map(state.map((r) => [`${r.type}::${r.name}`, r]));
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const key = `${req.getType()}::${req.getName()}`;
        const declaredInputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
        const ignoreChanges = req.getIgnorechangesList();
        const targeted = replace.some((r) => r === key || r.endsWith(`${req.getType()}::${req.getName()}`));
        const { inputs, replaced } = engineInputs(req.getType(), declaredInputs, old.get(key)?.inputs, ignoreChanges, targeted);
        if (inputs !== declaredInputs) {
            req.setObject(Struct.fromJavaScript(inputs as Parameters<typeof Struct.fromJavaScript>[0]));
        }
        const location = repositoryLocation(req.getSourceposition());
        register(req, (err, resp) => {
            if (!err && resp) {
                records.set(key, {
                    type: req.getType(),
                    name: req.getName(),
                    urn: resp.getUrn(),
                    parent: req.getParent() || undefined,
                    dependencies: req.getDependenciesList(),
                    propertyDependencies: propertyDependencies(req),
                    custom: req.getCustom(),
                    importId: req.getImportid() || undefined,
                    ignoreChanges,
                    replaced,
                    retainOnDelete: req.getRetainondelete() === true,
                    declaredInputs,
                    inputs,
                    ...(location ? { location } : {}),
                });
            }
            callback(err, resp);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        const record = [...records.values()].find((r) => r.urn === req.getUrn());
        if (record && !record.custom) {
            record.outputs = (req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        }
        registerOutputs(req, callback);
    };
}

function propertyDependencies(req: RegisterRequest): Record<string, string[]> {
    const dependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => (dependencies[key] = value.getUrnsList()));
    return dependencies;
}

/**
 * Properties of a resource type whose change the provider applies in place; a change to any other
 * property replaces the resource. Only the types whose replacement the tests and the check reason
 * about are listed; any other type is updated in place.
 */
export const IN_PLACE_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
    // hashicorp/terraform-provider-aws internal/service/ecs/task_definition.go (v6, under @pulumi/aws 7):
    // every argument is ForceNew but tags, tags_all, skip_destroy and track_latest.
    "aws:ecs/taskDefinition:TaskDefinition": ["tags", "tagsAll", "skipDestroy", "trackLatest"],
};

/**
 * The inputs the provider receives for a resource, as the engine decides them against its old state
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go, v3.248):
 * - no old state: a creation, with the program's inputs;
 * - an update: ignored properties are reset to their old inputs first (processIgnoreChanges);
 * - a replacement, because a property the provider cannot change in place differs after that
 *   reset, or because `--replace` names the resource: the engine runs the provider's Check again on
 *   the program's own inputs (`goal.Properties`) and creates the replacement from them, so nothing
 *   ignored survives (continueStepsFromDiff, "we need to recompute the default values").
 */
export function engineInputs(
    type: string,
    declared: Record<string, unknown>,
    oldInputs: Record<string, unknown> | undefined,
    ignoreChanges: readonly string[],
    targeted = false,
): { inputs: Record<string, unknown>; replaced: boolean } {
    if (oldInputs === undefined) {
        return { inputs: declared, replaced: false };
    }
    const kept = keepIgnored(declared, oldInputs, ignoreChanges);
    const replaced = targeted || forcesReplacement(type, kept, oldInputs);
    return { inputs: replaced ? declared : kept, replaced };
}

function forcesReplacement(type: string, inputs: Record<string, unknown>, oldInputs: Record<string, unknown>): boolean {
    const inPlace = IN_PLACE_PROPERTIES[type];
    if (!inPlace) {
        return false;
    }
    const keys = new Set([...Object.keys(inputs), ...Object.keys(oldInputs)].filter((k) => !inPlace.includes(k)));
    return [...keys].some((k) => JSON.stringify(inputs[k]) !== JSON.stringify(oldInputs[k]));
}

/** The engine's processIgnoreChanges for top-level properties: an ignored property keeps its old input. */
export function keepIgnored(
    inputs: Record<string, unknown>,
    oldInputs: Record<string, unknown> | undefined,
    ignoreChanges: readonly string[],
): Record<string, unknown> {
    const kept = (oldInputs === undefined ? [] : ignoreChanges).filter((p) => p in oldInputs!);
    if (kept.length === 0) {
        return inputs;
    }
    return { ...inputs, ...Object.fromEntries(kept.map((p) => [p, oldInputs![p]])) };
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getImportid(): string;
    getRetainondelete(): boolean | undefined;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(f: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getIgnorechangesList(): string[];
    getObject(): { toJavaScript(): unknown } | undefined;
    setObject(value: Struct): void;
    getSourceposition(): SourcePosition | undefined;
}

interface RegisterOutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): unknown } | undefined;
}

type State = Record<string, unknown>;

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

function createHashHex(seed: string): string {
    return crypto.createHash("sha256").update(seed).digest("hex");
}
const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
const REPOSITORY = "aws:ecr/repository:Repository";

/** The image each role's task definition names in a stack's state: what the stack's `images` output recorded. */
function imagesIn(state: RegisteredResource[]): Partial<Record<Role, string>> {
    const images: Partial<Record<Role, string>> = {};
    for (const role of ROLES) {
        const taskDefinition = state.find((r) => r.type === TASK_DEFINITION && r.name.endsWith(`-${role}`));
        const containerDefinitions = taskDefinition?.plainInputs.containerDefinitions;
        if (typeof containerDefinitions === "string") {
            images[role] = imageOf(role, containerDefinitions);
        }
    }
    return images;
}

/**
 * The repository URL the program resolves for a stack's config in the placeholder account: the
 * stack file's cgap:repositoryUrl, the estate ECR stack's export, or the repository it creates.
 */
function placeholderRepositoryUrl(config: Record<string, string>, region: string): string | undefined {
    let parsed;
    try {
        parsed = parseStackConfig(ownKeys(config), config["aws:region"]);
    } catch {
        return undefined; // the program refuses the same config with its own message
    }
    const ecrStack = parsed.estate?.stacks.ecr;
    if (parsed.repositoryUrl) {
        return parsed.repositoryUrl;
    }
    if (ecrStack) {
        return placeholderExports(region)[exportName(ecrStack, parsed.estate!.exports.repositoryUrl)];
    }
    return `${PLACEHOLDER_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${parsed.envName}`;
}

/** A failed lookup as the engine reports it: the SDK rethrows the gRPC error's `details`. */
function providerError(message: string): Error {
    return Object.assign(new Error(message), { details: message });
}

/**
 * Mocked providers: each resource gets the outputs its real provider would compute, made from its
 * name, so runs are repeatable. A docker.Image in a preview gets none (it builds nothing it pushes).
 */
class PlaceholderCloud implements RecordingMocks {
    readonly registered = new Map<string, Pick<RegisteredResource, "id" | "plainInputs" | "outputs">>();
    /** Full names of the exports the program read. */
    readonly exportsRead = new Set<string>();

    constructor(
        private readonly region: string,
        private readonly options: RunOptions,
        private readonly registry: Record<string, string>,
        private readonly config: Record<string, string>,
    ) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: State } {
        const inputs = args.inputs as State;
        if (args.type === STACK_REFERENCE) {
            // A read of this stack's last checkpoint: known even in a preview.
            return { id: args.id || args.name, state: { ...inputs, outputs: this.recordedOutputs(), secretOutputNames: [] } };
        }
        this.refuseTakenName(args.type, args.name, inputs);
        const id = args.id || this.id(args.type, args.name);
        const unknownToCloud = this.options.preview && this.options.firstRollout;
        const state = { ...inputs, ...(unknownToCloud ? {} : this.computed(args.type, args.name, inputs, id)) };
        const result = { id: unknownToCloud ? undefined : id, state };
        this.registered.set(`${args.type}::${args.name}`, { id: result.id, plainInputs: inputs, outputs: state });
        return result;
    }

    call(args: pulumi.runtime.MockCallArgs): State {
        const inputs = args.inputs as State;
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: PLACEHOLDER_ACCOUNT, arn: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:user/placeholder`, userId: "AIDAPLACEHOLDER", id: PLACEHOLDER_ACCOUNT };
            case "aws:index/getRegion:getRegion":
                return { name: this.region, region: this.region, id: this.region, endpoint: `ec2.${this.region}.amazonaws.com`, description: this.region };
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const names = ["a", "b", "c"].map((zone) => `${this.region}${zone}`);
                return { id: this.region, names, zoneIds: names.map((_, i) => `${this.region}-az${i + 1}`), groupNames: [this.region], state: inputs.state };
            }
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return { userName: "AWS", password: "placeholder-ecr-token", authorizationToken: "placeholder", proxyEndpoint: `https://${this.registryHost()}`, expiresAt: "", id: this.region };
            case "aws:cloudformation/getExport:getExport": {
                const exports = placeholderExports(this.region);
                const value = exports[String(inputs.name)];
                if (value === undefined) {
                    throw providerError(`no CloudFormation export named ${inputs.name} in ${PLACEHOLDER_ACCOUNT}/${this.region}${offlineStackExports(exports, String(inputs.name))}`);
                }
                this.exportsRead.add(String(inputs.name));
                return { id: String(inputs.name), name: inputs.name, value };
            }
            case "aws:ecs/getService:getService": {
                const strategies = this.options.liveServices?.[String(inputs.serviceName)];
                if (!strategies) {
                    throw providerError(`ServiceNotFoundException: service ${inputs.serviceName} not found`);
                }
                return {
                    id: String(inputs.serviceName),
                    serviceName: inputs.serviceName,
                    clusterArn: this.arn("ecs", `cluster/${inputs.clusterArn}`),
                    status: "ACTIVE",
                    capacityProviderStrategies: strategies.map((s) => ({ base: 0, weight: 0, ...s })),
                };
            }
            case "aws:ecr/getRepository:getRepository": {
                const repository = this.options.existing?.find((r) => r.type === REPOSITORY && r.outputs.name === inputs.name);
                if (!repository) {
                    throw providerError(`RepositoryNotFoundException: The repository with name '${inputs.name}' does not exist`);
                }
                return { id: String(inputs.name), name: inputs.name, ...repository.outputs };
            }
            case "aws:ecr/getImages:getImages":
                return {
                    repositoryName: inputs.repositoryName,
                    region: this.region,
                    id: String(inputs.repositoryName),
                    imageIds: Object.entries(this.registry).map(([imageTag, imageDigest]) => ({ imageTag, imageDigest })),
                };
            default:
                throw new Error(`The offline run has no placeholder for the lookup ${args.token}.`);
        }
    }

    /**
     * A creation whose name a resource outside the stack's state already has fails, as AWS answers
     * CreateLogGroup or CreateRepository then. Names are only known in an update or an existing
     * stack's preview; a first-rollout preview cannot tell.
     */
    private refuseTakenName(type: string, name: string, inputs: State): void {
        const created = !this.options.state?.some((r) => r.type === type && r.name === name);
        const taken = this.options.existing?.find((r) => r.type === type && inputs.name !== undefined && r.outputs.name === inputs.name);
        if (created && taken) {
            throw providerError(`ResourceAlreadyExistsException: ${type} ${String(inputs.name)} already exists`);
        }
    }

    /** What a reference to this stack reads: the outputs its last run recorded (RunOptions.recordedOutputs). */
    private recordedOutputs(): State {
        const { recordedOutputs, state, preview, firstRollout } = this.options;
        if (recordedOutputs) {
            return recordedOutputs;
        }
        if (state) {
            const repository = state.find((r) => r.type === REPOSITORY);
            return { images: imagesIn(state), ...(repository ? { repositoryName: repository.outputs.name } : {}) };
        }
        if (preview && firstRollout) {
            return {};
        }
        const repositoryUrl = placeholderRepositoryUrl(this.config, this.region);
        return repositoryUrl
            ? {
                  images: Object.fromEntries(
                      ROLES.filter((r) => this.registry[ROLE_SPECS[r].tag]).map((r) => [r, `${repositoryUrl}@${this.registry[ROLE_SPECS[r].tag]}`]),
                  ),
                  repositoryName: repositoryUrl.split("/").pop(),
              }
            : {};
    }

    /**
     * The provider's name for a resource given a `namePrefix`: the prefix and a unique suffix
     * (terraform-plugin-sdk id.PrefixedUniqueId, 26 characters), different for each creation.
     */
    private autoName(type: string, name: string, prefix: string | undefined): string | undefined {
        if (prefix === undefined) {
            return undefined;
        }
        const generation = this.options.existing?.length ?? 0;
        // The SDK's suffix is a timestamp and a counter, all digits.
        return `${prefix}${BigInt(`0x${createHashHex(`${type}::${name}::${generation}`)}`).toString().slice(0, 26)}`;
    }

    private registryHost(): string {
        return `${PLACEHOLDER_ACCOUNT}.dkr.ecr.${this.region}.amazonaws.com`;
    }

    private id(type: string, name: string): string {
        const hex = crypto.createHash("sha256").update(`${type}::${name}`).digest("hex").slice(0, 17);
        const prefixes: Record<string, string> = {
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
            "aws:ec2/vpc:Vpc": "vpc-",
            "aws:ec2/subnet:Subnet": "subnet-",
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
            "aws:ec2/internetGateway:InternetGateway": "igw-",
            "aws:ec2/natGateway:NatGateway": "nat-",
            "aws:ec2/eip:Eip": "eipalloc-",
            "aws:ec2/routeTable:RouteTable": "rtb-",
            "aws:ec2/flowLog:FlowLog": "fl-",
        };
        return `${prefixes[type] ?? `${name}-`}${hex}`;
    }

    private arn(service: string, resource: string): string {
        return `arn:aws:${service}:${this.region}:${PLACEHOLDER_ACCOUNT}:${resource}`;
    }

    /** Outputs a real provider computes on create. */
    private computed(type: string, name: string, inputs: State, id: string): State {
        const physical = (inputs.name as string | undefined) ?? this.autoName(type, name, inputs.namePrefix as string | undefined) ?? id;
        switch (type) {
            case "aws:ecr/repository:Repository":
                return {
                    name: physical,
                    arn: this.arn("ecr", `repository/${physical}`),
                    registryId: PLACEHOLDER_ACCOUNT,
                    repositoryUrl: `${this.registryHost()}/${physical}`,
                };
            case "docker:index/image:Image":
                if (this.options.preview) {
                    // buildOnPreview builds without pushing: the digest is the bare local image id.
                    return inputs.buildOnPreview ? { repoDigest: mockDigest(inputs.build) } : {};
                }
                return this.pushed(inputs);
            case "aws:ecs/cluster:Cluster":
                return { name: physical, arn: this.arn("ecs", `cluster/${physical}`) };
            case "aws:ecs/service:Service":
                return { name: physical, arn: this.arn("ecs", `service/${physical}`) };
            case "aws:ecs/taskDefinition:TaskDefinition":
                return { arn: this.arn("ecs", `task-definition/${inputs.family}:1`), revision: 1 };
            case "aws:cloudwatch/logGroup:LogGroup":
                return { name: physical, arn: this.arn("logs", `log-group:${physical}`) };
            case "aws:sqs/queue:Queue":
                return {
                    name: physical,
                    arn: this.arn("sqs", physical),
                    url: `https://sqs.${this.region}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${physical}`,
                };
            case "aws:lb/loadBalancer:LoadBalancer":
                return {
                    arn: this.arn("elasticloadbalancing", `loadbalancer/app/${id}`),
                    arnSuffix: `app/${id}`,
                    dnsName: `${id}.${this.region}.elb.amazonaws.com`,
                };
            case "aws:lb/targetGroup:TargetGroup":
                return {
                    arn: this.arn("elasticloadbalancing", `targetgroup/${id}`),
                    arnSuffix: `targetgroup/${id}`,
                };
            case "aws:iam/role:Role":
                return { name: id, arn: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/${id}` };
            default:
                return { arn: this.arn(type.split(":")[1].split("/")[0], id) };
        }
    }

    /** What the docker provider reports after building and pushing. */
    private pushed(inputs: State): State {
        const imageName = String(inputs.imageName);
        const repository = imageName.replace(/:[^:/]+$/, "");
        const { registry: _credentials, ...build } = inputs;
        return {
            repoDigest: `${repository}@${mockDigest(build)}`,
            baseImageName: imageName,
            registryServer: repository.split("/")[0],
        };
    }
}
