// The policy gate in Pulumi Cloud: the cgap-rollout pack published from policy/, and the
// preventative policy group that runs it on every preview and update of the portal's stacks,
// whoever starts them (a CLI, GitHub Actions or Pulumi Deployments).
import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";

export interface PolicyGateArgs {
    organization: string;
    /** The pack's name, as the pack declares it (`new PolicyPack("cgap-rollout", …)`). */
    packName: string;
    /** The pack's source directory (policy/, with its node_modules installed). */
    packDir: string;
    /** Changes whenever the pack's sources do: see packVersion.ts. */
    versionTag: string;
    /** The group's config for the pack: policy name to level or settings. */
    packConfig: Record<string, unknown>;
    groupName: string;
    /** The portal's Pulumi project name. */
    project: string;
    /** The portal stacks the group gates. */
    stacks: string[];
}

export class PolicyGate extends pulumi.ComponentResource {
    readonly pack: pulumiservice.PolicyPack;
    readonly group: pulumiservice.PolicyGroup;

    constructor(name: string, args: PolicyGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:platform:PolicyGate", name, {}, opts);

        // `policies` is left out: the provider reads each policy's name, description and config
        // schema from the pack itself, as `pulumi policy publish` does. Published versions are
        // kept when a newer one replaces them, so what a past update ran stays inspectable (and a
        // tag is never deleted and then refused for reuse).
        this.pack = new pulumiservice.PolicyPack(
            `${name}-pack`,
            {
                organization: args.organization,
                name: args.packName,
                versionTag: args.versionTag,
                sourcePath: args.packDir,
            },
            { parent: this, retainOnDelete: true },
        );

        // Preventative: a mandatory violation stops the preview or update (the default, audit,
        // only reports). The group names the pack's version tag, so a new pack version moves it.
        this.group = new pulumiservice.PolicyGroup(
            `${name}-group`,
            {
                organizationName: args.organization,
                name: args.groupName,
                entityType: "stacks",
                mode: "preventative",
                policyPacks: [{ name: this.pack.name, versionTag: this.pack.versionTag, config: args.packConfig }],
                stacks: args.stacks.map((stack) => ({ name: stack, routingProject: args.project })),
            },
            { parent: this },
        );

        this.registerOutputs({ pack: this.pack, group: this.group });
    }
}
