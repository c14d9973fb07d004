// Pulumi Deployments for one portal stack: where the program comes from, what starts a deployment,
// the AWS credentials it gets, and the preview that gates every update.
import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";

export interface StackDeploymentsArgs {
    organization: string;
    /** The portal's Pulumi project name. */
    project: string;
    stack: string;
    /** GitHub `owner/name`. */
    repository: string;
    branch: string;
    /** Push-to-deploy on merge; otherwise the stack is deployed only on demand. */
    deployOnMerge: boolean;
    awsRoleArn: string;
    /** Tag the stack `environment=production` (the policy pack reads it). */
    production: boolean;
}

/**
 * Files whose change changes what `pulumi up` of `stack` does: the program and its dependencies,
 * the image build context, the policy pack, and this stack's own file (not the other stacks').
 * Globs relative to the repository root, as Pulumi's path filters take them.
 */
export function deploymentPaths(stack: string): string[] {
    return [
        "index.ts",
        "components/**",
        "package.json",
        "package-lock.json",
        "images/**",
        "policy/**",
        "Pulumi.yaml",
        `Pulumi.${stack}.yaml`,
    ];
}

/**
 * Shell lines run before the Pulumi operation, each in its own shell. Pulumi's documentation says
 * an update deployment runs `pulumi up`, not whether a preview comes first, and in an update
 * the pack's stack policies (both rollout gates) run only after every step has completed. So an
 * update first runs a full `pulumi preview` of the stack: the preventative policy group runs on
 * it, a mandatory violation fails it, and the deployment stops before anything changes. The
 * operation comes from PULUMI_CI_OPERATION, which Deployments sets; unset counts as an update.
 */
export function preRunCommands(organization: string, project: string, stack: string): string[] {
    return [
        // Dependencies are installed here, not by Deployments, so that they exist before the gate.
        "npm ci --no-audit --no-fund",
        `case "\${PULUMI_CI_OPERATION:-update}" in update|remediate-drift) ` +
            `pulumi preview --stack ${organization}/${project}/${stack} --non-interactive ;; esac`,
    ];
}

export class StackDeployments extends pulumi.ComponentResource {
    readonly settings: pulumiservice.DeploymentSettings;
    readonly environmentTag?: pulumiservice.StackTag;

    constructor(name: string, args: StackDeploymentsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:platform:StackDeployments", name, {}, opts);
        const stackRef = { organization: args.organization, project: args.project, stack: args.stack };

        this.settings = new pulumiservice.DeploymentSettings(
            `${name}-settings`,
            {
                ...stackRef,
                sourceContext: { git: { branch: `refs/heads/${args.branch}`, repoDir: "." } },
                vcs: {
                    provider: "github",
                    repository: args.repository,
                    // The provider's SDK defaults deployCommits to true: always say it.
                    deployCommits: args.deployOnMerge,
                    previewPullRequests: true,
                    pullRequestTemplate: false,
                    paths: deploymentPaths(args.stack),
                },
                operationContext: {
                    preRunCommands: preRunCommands(args.organization, args.project, args.stack),
                    options: { skipIntermediateDeployments: true, skipInstallDependencies: true },
                    // Short-lived credentials for each deployment: no keys are stored anywhere.
                    oidc: {
                        aws: {
                            roleARN: args.awsRoleArn,
                            sessionName: "cgap-${stack.name}-${operation}-${deployment.version}",
                        },
                    },
                },
            },
            { parent: this },
        );

        if (args.production) {
            this.environmentTag = new pulumiservice.StackTag(
                `${name}-environment`,
                { ...stackRef, name: "environment", value: "production" },
                { parent: this },
            );
        }

        this.registerOutputs({ settings: this.settings, environmentTag: this.environmentTag });
    }
}
