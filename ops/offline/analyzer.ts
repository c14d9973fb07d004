// A client for the cgap-rollout policy pack that starts and talks to it exactly as the Pulumi CLI
// does, so tests, the offline check and the benchmark judge a stack with the real analyzer.
//
// How the CLI runs a TypeScript policy pack, and what this client reproduces:
// 1. It spawns `node node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine-address> <pack-dir>`
//    with the pack directory as working directory, and the environment PULUMI_NODEJS_STACK,
//    PULUMI_NODEJS_PROJECT, PULUMI_NODEJS_ORGANIZATION, PULUMI_NODEJS_DRY_RUN ("true"/"false") and
//    PULUMI_CONFIG (the stack's config as a JSON object of "namespace:key" -> string), plus the
//    PULUMI_* variants. run-policy-pack drops the engine address (it never dials the engine; a
//    pack's log output goes to stderr), so no engine service is needed here.
// 2. `new PolicyPack()` serves the Analyzer gRPC service on 127.0.0.1 and prints its port as the
//    first line of stdout.
// 3. The CLI then calls Handshake (unimplemented by @pulumi/policy, which is fine), ConfigureStack
//    (stack, project, dry run, config, stack tags), GetAnalyzerInfo, and Configure with the policy
//    config reconciled from the policies' defaults and the --policy-pack-config file.
// 4. During the preview or update it calls Analyze once per resource with the resource's inputs,
//    and AnalyzeStack once at the end with every resource's outputs.
//
// API:
//   const pack = await startPolicyPack({ stack: "mastertest", dryRun: true, config });
//   await pack.info();                                   // name, version, policies and levels
//   await pack.judge(resources, { stackTags });          // what one preview/update asks: Analyze
//                                                        // per resource, then AnalyzeStack;
//                                                        // every diagnostic of every policy
//   await pack.analyze(resource); await pack.analyzeStack(resources); // the single calls
//   await pack.reconfigure({ "ecs-service-no-public-ip": "mandatory" }); // new policy config
//   await pack.close();                                  // kills the process
// Use judge() to judge a stack: the compliance checks on single resources are resource policies,
// which only Analyze runs; analyzeStack() alone runs the stack policies (the rollout gates, ECR.3
// and ELB.1).
// `StackResource.props` are plain JS values shaped as the engine sends them: an unknown value is
// the engine's sentinel string (`UNKNOWN`), a secret is `secret(value)`. A pack that is not closed
// is killed when this process exits or is ended by SIGINT, SIGTERM or SIGHUP.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

import * as grpc from "@grpc/grpc-js";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import { BinaryWriter } from "google-protobuf";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { POLICY_PACK_DIR, PROJECT } from "../project";

/** The sentinel the engine sends in place of a value that is not known yet (a preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The engine's marker for a secret value: `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function secret<T>(value: T): { [SECRET_SIG_KEY]: string; value: T } {
    return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

/** A place in this repository's files: a path relative to its root ("/"-separated), 1-based line and column. */
export interface SourceLocation {
    file: string;
    line: number;
    column?: number;
}

/** One resource of a stack, as the engine describes it to the analyzer. */
export interface StackResource {
    /** Type token, e.g. `docker:index/image:Image`. */
    type: string;
    /** The resource's name (the last part of its URN). */
    name: string;
    /** Defaults to a URN built from the stack, project, parent and type. */
    urn?: string;
    /** Outputs as AnalyzeStack sees them (for a preview's "same" resource: its old outputs). */
    props: Record<string, unknown>;
    /** Inputs as Analyze sees them; defaults to `props`. */
    inputs?: Record<string, unknown>;
    /** The parent's URN. */
    parent?: string;
    /** URNs the resource depends on. */
    dependencies?: string[];
    /** Per input property, the URNs it depends on (e.g. `{ loadBalancerArn: [albUrn] }`). */
    propertyDependencies?: Record<string, string[]>;
    /** The URNs the resource was known by before (its `aliases` option), as the engine sends them. */
    aliases?: string[];
    /**
     * Where the program declares it (the registration's source position, or its nearest ancestor's);
     * for the report, not sent to the pack: the analyzer protocol carries no position.
     */
    location?: SourceLocation;
}

export interface Diagnostic {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    enforcementLevel: EnforcementLevel;
    message: string;
    description: string;
    /** The resource the diagnostic is about, if any. */
    urn?: string;
}

export interface PolicyInfo {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    type: "resource" | "stack" | "unknown";
    /** The control a compliance policy mirrors, e.g. "ECS.8" (its framework reference). */
    control?: string;
    /** The framework the control belongs to, e.g. "AWS Foundational Security Best Practices". */
    framework?: string;
    /** The severity the pack declares, as the engine receives it. */
    severity?: "low" | "medium" | "high" | "critical";
    remediationSteps?: string;
    url?: string;
    configSchema?: Record<string, unknown>;
}

/** analyzer.proto's PolicySeverity, by number (0, unspecified, is left undefined). */
const SEVERITIES: Record<number, PolicyInfo["severity"]> = { 1: "low", 2: "medium", 3: "high", 4: "critical" };

export interface PackInfo {
    name: string;
    version: string;
    policies: PolicyInfo[];
}

/**
 * Policy config as in a `--policy-pack-config` file: per policy name (or "all") either a level, or
 * an object with an optional `enforcementLevel` and the policy's properties.
 */
export type PolicyPackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface StartOptions {
    /** Stack name; undefined starts the pack without PULUMI_NODEJS_STACK, as if the engine had not said. */
    stack: string | undefined;
    /** true for a preview, false for the update itself. */
    dryRun: boolean;
    /** Pulumi project name; defaults to `cgap`. */
    project?: string;
    organization?: string;
    /** The stack's config, "namespace:key" -> string value (e.g. `{ "cgap:environment": "production" }`). */
    config?: Record<string, string>;
    /** Policy config, as a `--policy-pack-config` file holds it. */
    policyConfig?: PolicyPackConfig;
    /** Stack tags sent with ConfigureStack; `analyze*`/`judge` can override them per call. */
    stackTags?: Record<string, string>;
    /** The pack directory; defaults to this repository's `policy/`. */
    packDir?: string;
    /** How long to wait for the port line; default 120 s (the pack type-checks itself on start). */
    startTimeoutMs?: number;
}

export interface CallOptions {
    /** Stack tags for this call (sent with ConfigureStack first, as the CLI does at start-up). */
    stackTags?: Record<string, string>;
}

const LEVELS: Record<number, EnforcementLevel> = {
    [analyzerproto.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerproto.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerproto.EnforcementLevel.DISABLED]: "disabled",
    [analyzerproto.EnforcementLevel.REMEDIATE]: "remediate",
};

function levelToProto(level: EnforcementLevel): analyzerproto.EnforcementLevel {
    switch (level) {
        case "advisory":
            return analyzerproto.EnforcementLevel.ADVISORY;
        case "mandatory":
            return analyzerproto.EnforcementLevel.MANDATORY;
        case "disabled":
            return analyzerproto.EnforcementLevel.DISABLED;
        case "remediate":
            return analyzerproto.EnforcementLevel.REMEDIATE;
        default:
            throw new Error(`invalid enforcement level ${JSON.stringify(level)}: use advisory, mandatory, remediate or disabled`);
    }
}

function levelFromProto(level: number): EnforcementLevel {
    const result = LEVELS[level];
    if (!result) {
        throw new Error(`the pack answered an unknown enforcement level ${level}`);
    }
    return result;
}

/** Plain JSON for protobuf's Struct: undefined object members are dropped, undefined array items become null. */
function toJson(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map((v) => (v === undefined ? null : toJson(v)));
    }
    if (value !== null && typeof value === "object") {
        const result: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            if (v !== undefined) {
                result[k] = toJson(v);
            }
        }
        return result;
    }
    return value;
}

function toStruct(value: Record<string, unknown>): Struct {
    // Struct.fromJavaScript's typing wants its own JSON type; toJson produced exactly that.
    return Struct.fromJavaScript(toJson(value) as Parameters<typeof Struct.fromJavaScript>[0]);
}

// Encoding resource properties. google-protobuf's Struct.fromJavaScript builds one message object
// per value, which makes a 10,000-resource request take longer to encode than the pack takes to
// judge it. These functions write the same bytes (google.protobuf.Struct: fields = 1, a map of
// string to Value; Value: null_value = 1, number_value = 2, string_value = 3, bool_value = 4,
// struct_value = 5, list_value = 6; ListValue: values = 1) straight into a BinaryWriter, and a
// test checks them against the generated classes.

function writeValue(value: unknown, writer: BinaryWriter): void {
    if (value === null || value === undefined) {
        writer.writeEnum(1, 0);
    } else if (typeof value === "number") {
        writer.writeDouble(2, value);
    } else if (typeof value === "string") {
        writer.writeString(3, value);
    } else if (typeof value === "boolean") {
        writer.writeBool(4, value);
    } else if (Array.isArray(value)) {
        writer.writeMessage(6, value, writeList);
    } else if (typeof value === "object") {
        writer.writeMessage(5, value, writeStruct);
    } else {
        throw new Error(`cannot send a ${typeof value} as a resource property`);
    }
}

/** A Value holding null_value (field 1, NULL_VALUE = 0); writeMessage skips a null message. */
const NULL_VALUE = new Uint8Array([0x08, 0x00]);

function writeValueField(field: number, value: unknown, writer: BinaryWriter): void {
    if (value === null || value === undefined) {
        writer.writeBytes(field, NULL_VALUE);
    } else {
        writer.writeMessage(field, value, writeValue);
    }
}

function writeList(values: unknown[], writer: BinaryWriter): void {
    for (const value of values) {
        writeValueField(1, value, writer);
    }
}

function writeEntry(entry: [string, unknown], writer: BinaryWriter): void {
    writer.writeString(1, entry[0]);
    writeValueField(2, entry[1], writer);
}

function writeStruct(object: Record<string, unknown>, writer: BinaryWriter): void {
    for (const entry of Object.entries(object)) {
        if (entry[1] !== undefined) {
            writer.writeMessage(1, entry, writeEntry);
        }
    }
}

/** The bytes of `google.protobuf.Struct.fromJavaScript(props).serializeBinary()`, fast. */
export function encodeStruct(props: Record<string, unknown>): Uint8Array {
    const writer = new BinaryWriter();
    writeStruct(props, writer);
    return writer.getResultBuffer();
}

/** Field number of `properties` in both AnalyzeRequest and AnalyzerResource (analyzer.proto). */
const PROPERTIES_FIELD = 2;

/**
 * A message's bytes with `properties` appended: protobuf fields may come in any order, so the
 * generated serializer writes every other field and the Struct is added after it.
 */
function withProperties(message: { serializeBinary(): Uint8Array }, props: Record<string, unknown>): Uint8Array {
    const writer = new BinaryWriter();
    const head = message.serializeBinary();
    writer.writeSerializedMessage(head, 0, head.length);
    writer.writeBytes(PROPERTIES_FIELD, encodeStruct(props));
    return writer.getResultBuffer();
}

/** Makes a generated message send the given bytes (gRPC's serializer calls serializeBinary). */
function sendingBytes<T extends { serializeBinary(): Uint8Array }>(message: T, bytes: Uint8Array): T {
    message.serializeBinary = () => bytes;
    return message;
}

/** `urn:pulumi:<stack>::<project>::<parent type$>type::<name>`, as the engine names resources. */
export function makeUrn(stack: string, project: string, type: string, name: string, parentUrn?: string): string {
    const qualifiedType = parentUrn ? `${parentUrn.split("::")[2]}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}

const livePacks = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLivePacks(): void {
    for (const child of livePacks) {
        child.kill("SIGKILL");
    }
}

/**
 * Packs die with this process: on a normal exit, and on SIGINT/SIGTERM/SIGHUP (which would
 * otherwise end this process without an "exit" event and orphan them). After killing them, a
 * signal nobody else listens for is raised again, so this process still ends as it would have.
 */
function installExitHook(): void {
    if (exitHookInstalled) {
        return;
    }
    exitHookInstalled = true;
    process.on("exit", killLivePacks);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(signal, () => {
            killLivePacks();
            if (process.listenerCount(signal) === 0) {
                process.kill(process.pid, signal);
            }
        });
    }
}

/** Promisifies one unary gRPC call: `unary<Res>((callback) => client.method(request, callback))`. */
function unary<Res>(call: (callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
    return new Promise((resolve, reject) => {
        call((error, response) => (error ? reject(error) : resolve(response)));
    });
}

export class PolicyPackProcess {
    private readonly client: analyzerrpc.AnalyzerClient;
    private cachedInfo: PackInfo | undefined;
    private currentTags: Record<string, string>;
    /** The policy config it was started with, and whether it is configured with it now. */
    private readonly startPolicyConfig: PolicyPackConfig;
    private configuredAsStarted: boolean;
    private closed = false;
    private readonly exited: Promise<void>;

    constructor(
        private readonly child: ChildProcess,
        readonly port: number,
        /** Milliseconds from spawn to the port line. */
        readonly startupMs: number,
        private readonly options: StartOptions,
        private readonly stderrText: () => string,
    ) {
        this.client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
            "grpc.max_receive_message_length": 400 * 1024 * 1024,
            "grpc.max_send_message_length": 400 * 1024 * 1024,
        });
        this.currentTags = { ...(options.stackTags ?? {}) };
        this.startPolicyConfig = options.policyConfig ?? {};
        this.configuredAsStarted = false;
        this.exited = new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
                resolve();
            } else {
                child.once("exit", () => resolve());
            }
        });
    }

    /** The pack's process id. */
    get pid(): number | undefined {
        return this.child.pid;
    }

    /** What the pack wrote to stderr so far. */
    get stderr(): string {
        return this.stderrText();
    }

    /** The stack name the pack was started for. */
    get stack(): string | undefined {
        return this.options.stack;
    }

    /** Handshake, ConfigureStack, GetAnalyzerInfo and Configure, in the CLI's order. */
    async initialize(): Promise<void> {
        const handshake = new analyzerproto.AnalyzerHandshakeRequest();
        handshake.setEngineAddress("127.0.0.1:0");
        handshake.setRootDirectory(this.options.packDir ?? POLICY_PACK_DIR);
        handshake.setProgramDirectory(this.options.packDir ?? POLICY_PACK_DIR);
        try {
            await unary((callback) => this.client.handshake(handshake, callback));
        } catch (e) {
            if ((e as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
                throw e;
            }
        }
        await this.configureStack(this.currentTags);
        await this.reconfigure(this.startPolicyConfig);
    }

    /**
     * Configure with a new policy config, reconciled as the CLI does (each policy's default level
     * and schema defaults, then "all", then each policy's entry). The CLI configures a pack once;
     * the pack accepts a new config at any time, which lets one process serve several tests.
     */
    async reconfigure(policyConfig: PolicyPackConfig): Promise<void> {
        // Until the pack has taken the new config, what it holds is unknown: a refused config
        // leaves it to the next reset() to configure it as started.
        this.configuredAsStarted = false;
        await this.configure(reconcilePolicyConfig(await this.info(), policyConfig));
        this.configuredAsStarted = policyConfig === this.startPolicyConfig;
    }

    /**
     * Back to the stack tags and policy config it was started with, so that a process shared by
     * several callers answers each as a fresh one would. Costs an RPC only for what changed.
     */
    async reset(): Promise<void> {
        const tags = this.options.stackTags ?? {};
        if (JSON.stringify(tags) !== JSON.stringify(this.currentTags)) {
            await this.configureStack(tags);
        }
        if (!this.configuredAsStarted) {
            await this.reconfigure(this.startPolicyConfig);
        }
    }

    private async configureStack(tags: Record<string, string>): Promise<void> {
        const request = new analyzerproto.AnalyzerStackConfigureRequest();
        request.setStack(this.options.stack ?? "");
        request.setProject(this.options.project ?? PROJECT);
        request.setOrganization(this.options.organization ?? "");
        request.setDryRun(this.options.dryRun);
        for (const [k, v] of Object.entries(this.options.config ?? {})) {
            request.getConfigMap().set(k, v);
        }
        for (const [k, v] of Object.entries(tags)) {
            request.getTagsMap().set(k, v);
        }
        await unary((callback) => this.client.configureStack(request, callback));
        this.currentTags = { ...tags };
    }

    private async configure(config: Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>): Promise<void> {
        const request = new analyzerproto.ConfigureAnalyzerRequest();
        for (const [name, value] of Object.entries(config)) {
            const policyConfig = new analyzerproto.PolicyConfig();
            policyConfig.setEnforcementlevel(levelToProto(value.enforcementLevel));
            policyConfig.setProperties(toStruct(value.properties));
            request.getPolicyconfigMap().set(name, policyConfig);
        }
        await unary((callback) => this.client.configure(request, callback));
    }

    /** GetAnalyzerInfo: the pack's name, version, and each policy's type and default level. */
    async info(): Promise<PackInfo> {
        if (this.cachedInfo) {
            return this.cachedInfo;
        }
        const info = await unary<analyzerproto.AnalyzerInfo>((callback) => this.client.getAnalyzerInfo(new Empty(), callback));
        this.cachedInfo = {
            name: info.getName(),
            version: info.getVersion(),
            policies: info.getPoliciesList().map((p) => ({
                name: p.getName(),
                description: p.getDescription(),
                enforcementLevel: levelFromProto(p.getEnforcementlevel()),
                type:
                    p.getPolicyType() === analyzerproto.PolicyType.POLICY_TYPE_RESOURCE
                        ? "resource"
                        : p.getPolicyType() === analyzerproto.PolicyType.POLICY_TYPE_STACK
                          ? "stack"
                          : "unknown",
                control: p.getFramework()?.getReference() || undefined,
                framework: p.getFramework()?.getName() || undefined,
                severity: SEVERITIES[p.getSeverity()],
                remediationSteps: p.getRemediationSteps() || undefined,
                url: p.getUrl() || undefined,
                configSchema: p.getConfigschema()?.getProperties()?.toJavaScript() as Record<string, unknown> | undefined,
            })),
        };
        return this.cachedInfo;
    }

    private async withTags(options: CallOptions | undefined): Promise<void> {
        const tags = options?.stackTags;
        if (tags && JSON.stringify(tags) !== JSON.stringify(this.currentTags)) {
            await this.configureStack(tags);
        }
    }

    private urnOf(resource: StackResource): string {
        return (
            resource.urn ??
            makeUrn(this.options.stack ?? "stack", this.options.project ?? PROJECT, resource.type, resource.name, resource.parent)
        );
    }

    private withUrn(resource: StackResource): StackResource & { urn: string } {
        return { ...resource, urn: this.urnOf(resource) };
    }

    /** Analyze: the resource policies, on one resource's inputs. */
    async analyze(resource: StackResource, options?: CallOptions): Promise<Diagnostic[]> {
        await this.withTags(options);
        const request = encodeAnalyzeRequest(this.withUrn(resource));
        const response = await unary<analyzerproto.AnalyzeResponse>((callback) => this.client.analyze(request, callback));
        return convertDiagnostics(response, request.getUrn());
    }

    /** AnalyzeStack: the stack policies, on every resource's outputs. */
    async analyzeStack(resources: readonly StackResource[], options?: CallOptions): Promise<Diagnostic[]> {
        await this.withTags(options);
        const request = encodeAnalyzeStackRequest(resources.map((r) => this.withUrn(r)));
        const response = await unary<analyzerproto.AnalyzeResponse>((callback) => this.client.analyzeStack(request, callback));
        return convertDiagnostics(response, undefined);
    }

    /**
     * What one preview (or update) asks of the pack: Analyze for every resource, then AnalyzeStack
     * for the whole stack. Returns every diagnostic, resource policies' first.
     */
    async judge(resources: readonly StackResource[], options?: CallOptions): Promise<Diagnostic[]> {
        await this.withTags(options);
        const perResource: Diagnostic[][] = new Array(resources.length);
        let next = 0;
        const worker = async () => {
            while (next < resources.length) {
                const i = next++;
                perResource[i] = await this.analyze(resources[i]);
            }
        };
        await Promise.all(Array.from({ length: Math.min(16, resources.length) }, worker));
        const stack = await this.analyzeStack(resources);
        return [...perResource.flat(), ...stack];
    }

    /** Kills the pack and waits for it to exit. Safe to call twice. */
    async close(): Promise<void> {
        if (!this.closed) {
            this.closed = true;
            this.client.close();
            this.child.kill("SIGKILL");
        }
        await this.exited;
        livePacks.delete(this.child);
    }
}

function resourceOptions(resource: StackResource): analyzerproto.AnalyzerResourceOptions {
    const options = new analyzerproto.AnalyzerResourceOptions();
    if (resource.parent) {
        options.setParent(resource.parent);
    }
    options.setAliasesList(resource.aliases ?? []);
    return options;
}

/** The AnalyzeRequest the engine sends for one resource (its inputs). */
export function encodeAnalyzeRequest(resource: StackResource & { urn: string }): analyzerproto.AnalyzeRequest {
    const request = new analyzerproto.AnalyzeRequest();
    request.setType(resource.type);
    request.setName(resource.name);
    request.setUrn(resource.urn);
    request.setOptions(resourceOptions(resource));
    return sendingBytes(request, withProperties(request, resource.inputs ?? resource.props));
}

/** The AnalyzeStackRequest the engine sends at the end of a preview or update (every resource's outputs). */
export function encodeAnalyzeStackRequest(resources: readonly (StackResource & { urn: string })[]): analyzerproto.AnalyzeStackRequest {
    const writer = new BinaryWriter();
    for (const resource of resources) {
        const r = new analyzerproto.AnalyzerResource();
        r.setType(resource.type);
        r.setName(resource.name);
        r.setUrn(resource.urn);
        r.setOptions(resourceOptions(resource));
        if (resource.parent) {
            r.setParent(resource.parent);
        }
        r.setDependenciesList(resource.dependencies ?? []);
        for (const [key, urns] of Object.entries(resource.propertyDependencies ?? {})) {
            const dependencies = new analyzerproto.AnalyzerPropertyDependencies();
            dependencies.setUrnsList(urns);
            r.getPropertydependenciesMap().set(key, dependencies);
        }
        writer.writeBytes(1, withProperties(r, resource.props)); // AnalyzeStackRequest.resources = 1
    }
    return sendingBytes(new analyzerproto.AnalyzeStackRequest(), writer.getResultBuffer());
}

function convertDiagnostics(response: analyzerproto.AnalyzeResponse, defaultUrn: string | undefined): Diagnostic[] {
    return response.getDiagnosticsList().map((d) => ({
        policyName: d.getPolicyname(),
        policyPackName: d.getPolicypackname(),
        policyPackVersion: d.getPolicypackversion(),
        enforcementLevel: levelFromProto(d.getEnforcementlevel()),
        message: d.getMessage(),
        description: d.getDescription(),
        urn: d.getUrn() || defaultUrn,
    }));
}

/**
 * The config the CLI sends with Configure: every policy at its default level with its schema's
 * defaults, then "all", then each policy's own entry from the config file.
 */
export function reconcilePolicyConfig(
    info: PackInfo,
    config: PolicyPackConfig,
): Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }> {
    const result: Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }> = {};
    for (const policy of info.policies) {
        const properties: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries(policy.configSchema ?? {})) {
            const dflt = (schema as { default?: unknown } | null)?.default;
            if (dflt !== undefined) {
                properties[key] = dflt;
            }
        }
        result[policy.name] = { enforcementLevel: policy.enforcementLevel, properties };
    }
    const split = (entry: PolicyPackConfig[string]) =>
        typeof entry === "string"
            ? { level: entry, properties: {} }
            : (({ enforcementLevel, ...properties }) => ({ level: enforcementLevel, properties }))(entry);
    if (config.all !== undefined) {
        const { level } = split(config.all);
        if (level) {
            levelToProto(level);
            for (const name of Object.keys(result)) {
                result[name].enforcementLevel = level;
            }
        }
    }
    // Every entry, "all" included, is then copied in: the engine sends the "all" entry on to the
    // pack too (pulumi/pulumi pkg/resource/analyzer/config.go, applyConfig).
    for (const [name, entry] of Object.entries(config)) {
        const { level, properties } = split(entry);
        if (level) {
            levelToProto(level);
        }
        const current = result[name] ?? { enforcementLevel: "advisory" as EnforcementLevel, properties: {} };
        result[name] = {
            enforcementLevel: level ?? current.enforcementLevel,
            properties: { ...current.properties, ...properties },
        };
    }
    return result;
}

/**
 * The environment the CLI gives the pack process: its own environment plus the stack's identity
 * and config. Variables the options leave unset are removed, so the pack sees what a CLI that
 * did not set them would give it.
 */
export function packEnvironment(options: StartOptions, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base };
    for (const key of Object.keys(env)) {
        if (/^PULUMI_(NODEJS_)?(STACK|PROJECT|ORGANIZATION|DRY_RUN)$/.test(key) || key === "PULUMI_CONFIG") {
            delete env[key];
        }
    }
    const set = (key: string, value: string | undefined) => {
        if (value) {
            env[`PULUMI_NODEJS_${key}`] = value;
            env[`PULUMI_${key}`] = value;
        }
    };
    set("STACK", options.stack);
    set("PROJECT", options.project ?? PROJECT);
    set("ORGANIZATION", options.organization);
    set("DRY_RUN", String(options.dryRun));
    if (options.config) {
        env.PULUMI_CONFIG = JSON.stringify(options.config);
    }
    return env;
}

/**
 * The pack's own packages are missing: `npm ci --ignore-scripts` skips the postinstall that installs
 * them, and a fresh clone has none until `npm ci`.
 */
export class PackNotInstalledError extends Error {
    constructor(readonly packDir: string) {
        const dir = path.relative(process.cwd(), packDir) || ".";
        super(
            `The policy pack in ${dir} has no packages installed (${path.join(dir, "node_modules")} has no @pulumi/pulumi). ` +
                `Install them with \`npm ci --prefix ${dir}\` (the project's \`npm ci\` does this unless run with --ignore-scripts).`,
        );
        this.name = "PackNotInstalledError";
    }
}

/** Starts the pack as the CLI does and configures it; the caller must `close()` it. */
export async function startPolicyPack(options: StartOptions): Promise<PolicyPackProcess> {
    installExitHook();
    const packDir = options.packDir ?? POLICY_PACK_DIR;
    const runner = path.join("node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    if (!fs.existsSync(path.join(packDir, runner))) {
        throw new PackNotInstalledError(packDir);
    }
    const started = Date.now();
    const child = spawn(
        process.execPath,
        [runner, "127.0.0.1:0", "."],
        { cwd: packDir, env: packEnvironment(options), stdio: ["ignore", "pipe", "pipe"] },
    );
    livePacks.add(child);
    child.once("exit", () => livePacks.delete(child));

    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-64 * 1024);
    });

    const port = await new Promise<number>((resolve, reject) => {
        let stdout = "";
        let settled = false;
        const timeoutMs = options.startTimeoutMs ?? 120_000;
        const settle = (outcome: () => void) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                outcome();
            }
        };
        const fail = (why: string) =>
            settle(() => {
                child.kill("SIGKILL");
                reject(new Error(`policy pack in ${packDir} ${why}${stderr ? `:\n${stderr.trim()}` : ""}`));
            });
        const timer = setTimeout(() => fail(`printed no port within ${timeoutMs} ms`), timeoutMs);
        child.stdout?.setEncoding("utf8");
        child.stdout?.on("data", (chunk: string) => {
            if (settled) {
                return;
            }
            stdout += chunk;
            const newline = stdout.indexOf("\n");
            if (newline >= 0) {
                const line = stdout.slice(0, newline).trim();
                const value = Number(line);
                if (Number.isInteger(value) && value > 0) {
                    settle(() => resolve(value));
                } else {
                    fail(`printed ${JSON.stringify(line)} instead of its port`);
                }
            }
        });
        child.once("error", (e) => fail(`could not be started (${e.message})`));
        child.once("exit", (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before printing its port`));
    });

    const pack = new PolicyPackProcess(child, port, Date.now() - started, { ...options, packDir }, () => stderr);
    try {
        await pack.initialize();
    } catch (e) {
        await pack.close();
        throw e;
    }
    return pack;
}

/** Diagnostics of the given level(s). */
export function atLevel(diagnostics: readonly Diagnostic[], ...levels: EnforcementLevel[]): Diagnostic[] {
    return diagnostics.filter((d) => levels.includes(d.enforcementLevel));
}

/** One line per diagnostic: `[mandatory] policy-name: message`. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
    return diagnostics.map((d) => `[${d.enforcementLevel}] ${d.policyName}: ${d.message}`).join("\n");
}
