import * as pulumi from "@pulumi/pulumi";
import { Role } from "./roles";

export interface LastRunArgs {
    /** The stack to read; this stack itself (`<organization>/<project>/<stack>`) unless a test says otherwise. */
    stackName?: string;
}

/**
 * What this stack's last run recorded in its outputs, read through a reference to the stack itself:
 * the images its task definitions named and the repository it pushed to. A stack may reference
 * itself: the engine's builtin provider reads the named stack's last checkpoint (pulumi/pulumi
 * pkg/resource/deploy/builtins.go, readStackReference → the backend's GetStackOutputs), which
 * during an update is still the previous run's. A stack that never completed a run has none.
 */
export class LastRun extends pulumi.ComponentResource {
    /** The `images` output: role to `<repository>@sha256:<hex>`. */
    readonly images: pulumi.Output<Partial<Record<Role, string>> | undefined>;
    /** The `repositoryName` output. */
    readonly repositoryName: pulumi.Output<string | undefined>;

    constructor(name: string, args: LastRunArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:stack:LastRun", name, {}, opts);
        const self = args.stackName ?? `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
        const reference = new pulumi.StackReference(`${name}-last-run`, { name: self }, { parent: this });
        this.images = reference.getOutput("images") as pulumi.Output<Partial<Record<Role, string>> | undefined>;
        this.repositoryName = reference.getOutput("repositoryName") as pulumi.Output<string | undefined>;
        this.registerOutputs({});
    }
}
