// Runs the platform project (platform/index.ts) under Pulumi's mocks with its real stack file,
// through the same machinery as the portal's program. The mocked Pulumi Cloud provider answers as
// pulumi/pulumi-pulumiservice v1.3.0 does on create: the inputs back, plus a PolicyPack's numeric
// version and source hash.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProgramResult, RecordingMocks, RegisteredResource, runUnderMocks } from "../../ops/offline/program";
import { readStackConfig } from "../../ops/offline/stackFiles";
import { PLATFORM_NAMESPACE } from "../../platform/components/config";
import { packSourceHash } from "../../platform/components/packVersion";

export const PLATFORM_DIR = path.resolve(__dirname, "..", "..", "platform");
export const PLATFORM_STACK = "platform";

export const PT = {
    policyPack: "pulumiservice:index:PolicyPack",
    policyGroup: "pulumiservice:index:PolicyGroup",
    deploymentSettings: "pulumiservice:index:DeploymentSettings",
    stackTag: "pulumiservice:index:StackTag",
    policyGate: "cgap:platform:PolicyGate",
    stackDeployments: "cgap:platform:StackDeployments",
} as const;

type State = Record<string, unknown>;

class PulumiCloudMocks implements RecordingMocks {
    readonly registered = new Map<string, Pick<RegisteredResource, "id" | "plainInputs" | "outputs">>();

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
        const inputs = args.inputs as State;
        const computed: State =
            args.type === PT.policyPack ? { version: 1, contentHash: packSourceHash(String(inputs.sourcePath)) } : {};
        const state = { ...inputs, ...computed };
        const id = `${args.name}-id`;
        this.registered.set(`${args.type}::${args.name}`, { id, plainInputs: inputs, outputs: state });
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): State {
        throw new Error(`The platform project makes no lookups; it asked for ${args.token}.`);
    }
}

/** Runs platform/index.ts once; `config` (namespaced keys) is laid over Pulumi.platform.yaml's. */
export async function runPlatform(config: Record<string, string> = {}): Promise<ProgramResult> {
    const full = { ...readStackConfig(PLATFORM_STACK, PLATFORM_DIR, PLATFORM_NAMESPACE), ...config };
    const run = await runUnderMocks(
        { file: path.join(PLATFORM_DIR, "index.ts"), project: PLATFORM_NAMESPACE, stack: PLATFORM_STACK, config: full, preview: false },
        new PulumiCloudMocks(),
    );
    return { config: full, ...run };
}
