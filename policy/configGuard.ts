// Refuses policy config the pack cannot use, with one message that names every culprit.
//
// What reaches the pack unchecked (pulumi/pulumi pkg/resource/analyzer/config.go,
// ReconcilePolicyPackConfig/applyConfig, and @pulumi/policy 1.21.0 server.js `configure`): the
// engine fills in each policy's defaults, then copies every entry of the --policy-pack-config
// file (or the policy group's config) into the config it sends with Configure, including entries
// whose name is no policy of the pack; it validates properties against a policy's configSchema
// (JSON schema, properties and required only) but not names, and not properties of a policy
// without a schema. The SDK stores whatever arrives. So a misspelled policy name was silently
// ignored (the real policy kept its default level) and a stray property did nothing. The pack
// now checks the Configure request itself and answers INVALID_ARGUMENT, which stops the preview
// before any resource is judged. It also refuses a rollout gate set below its fixed level
// (gates.ts): the engine would otherwise run it at whatever level the config asks.
//
// What the user then sees (pulumi/pulumi at 1b5949891b3c, pkg/engine/update.go
// `loadPolicyPlugins`, called from `newUpdateSource` before the program runs): the engine calls
// GetAnalyzerInfo, reconciles the config, then Configure; pkg/resource/plugin/analyzer_plugin.go
// `Configure` returns `rpcerror.Convert(err)`, whose text is the gRPC status message, i.e. the
// `details` sent below. The engine wraps it as `configuring policy pack "cgap-rollout" at
// "<dir>": <message>` for a `--policy-pack` directory, or `configuring policy pack "cgap-rollout":
// <message>` for a policy group's pack, and the preview or update ends with that error before any
// step runs. The whole refusal (every problem, one per line) is in it.
import * as path from "path";

import { Policies } from "@pulumi/policy";

import { schemaProblems, SettingSchema } from "./compliance";
import { levelProblems, refusal } from "./gates";

export { refusal };

/** What a Configure request carries per policy: the properties besides the enforcement level. */
export type ReceivedConfig = ReadonlyMap<string, Record<string, unknown>>;

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}

function closest(name: string, names: readonly string[]): string | undefined {
    const ranked = names.map((n) => ({ n, d: editDistance(name, n) })).sort((x, y) => x.d - y.d);
    return ranked.length > 0 && ranked[0].d <= Math.max(3, Math.floor(name.length / 4)) ? ranked[0].n : undefined;
}

/** Every problem of a policy config: unknown policy names, unknown settings, values of the wrong type. */
export function policyConfigProblems(policies: Policies, config: ReceivedConfig): string[] {
    const names = policies.map((p) => p.name);
    const problems: string[] = [];
    for (const [name, properties] of config) {
        if (name === "all") {
            continue;
        }
        const policy = policies.find((p) => p.name === name);
        if (!policy) {
            const suggestion = closest(name, names);
            problems.push(
                `"${name}" is not a policy of this pack ` +
                    (suggestion ? `(did you mean "${suggestion}"?)` : `(its policies: ${names.join(", ")})`),
            );
            continue;
        }
        const schema: SettingSchema = {
            type: "object",
            properties: (policy.configSchema?.properties ?? {}) as Record<string, SettingSchema>,
            additionalProperties: false,
        };
        const { enforcementLevel: _level, ...settings } = properties;
        problems.push(...schemaProblems(name, settings, schema));
    }
    return problems;
}

interface ConfigureCall {
    request: {
        getPolicyconfigMap(): {
            entries(): Iterable<[string, { getEnforcementlevel(): number; getProperties(): { toJavaScript(): Record<string, unknown> } | undefined }]>;
        };
    };
}
type Callback = (error: { code: number; details: string; message: string } | null | undefined, response?: unknown) => void;
type Handler = (call: ConfigureCall, callback: Callback) => unknown;

/**
 * Wraps the analyzer's Configure handler so that it refuses bad config. The SDK builds its gRPC
 * server inside `new PolicyPack()` with no hook, so the wrapper goes in where the SDK registers
 * the service: addService of the same @grpc/grpc-js the SDK loads.
 */
export function refuseBadPolicyConfig(policies: Policies): void {
    const sdkDir = path.dirname(require.resolve("@pulumi/policy"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
    // The SDK's own reading of the request's levels (@pulumi/policy protoutil.js).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { convertEnforcementLevel } = require(path.join(sdkDir, "protoutil"));
    const addService = grpc.Server.prototype.addService;
    grpc.Server.prototype.addService = function (service: unknown, implementation: Record<string, Handler>) {
        const configure = implementation.configure;
        if (typeof configure === "function" && typeof implementation.analyzeStack === "function") {
            implementation = {
                ...implementation,
                configure: (call: ConfigureCall, callback: Callback) => {
                    const received = new Map<string, Record<string, unknown>>();
                    const levels: Record<string, unknown> = {};
                    for (const [name, value] of call.request.getPolicyconfigMap().entries()) {
                        received.set(name, value.getProperties()?.toJavaScript() ?? {});
                        levels[name] = convertEnforcementLevel(value.getEnforcementlevel());
                    }
                    // The engine has resolved "all" into each policy's level already and sends the
                    // "all" entry too, so a gate's received level is the one it would run at.
                    const problems = [...levelProblems(levels), ...policyConfigProblems(policies, received)];
                    if (problems.length > 0) {
                        const message = refusal(problems);
                        callback({ code: grpc.status.INVALID_ARGUMENT, details: message, message });
                        return;
                    }
                    return configure(call, callback);
                },
            };
        }
        return addService.call(this, service, implementation);
    };
}
