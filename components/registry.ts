import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface ImageRegistryArgs {
    /** Repository name: the environment's name, as the Makefile's ECR repo was. */
    repositoryName: string;
    /** Import a repository that already exists under that name instead of creating it. */
    adopt: boolean;
    /** Days an untagged image (a digest a `latest*` tag moved away from) is kept. */
    untaggedExpiryDays?: number;
}

/** Every role tag is movable; any other tag (a release tag, say) can be pushed only once. */
export const MOVABLE_TAG_FILTER = "latest*";

/**
 * The ECR repository the four role images are pushed to, its lifecycle policy, and the push
 * credentials.
 */
export class ImageRegistry extends pulumi.ComponentResource {
    readonly repository: aws.ecr.Repository;
    readonly repositoryName: pulumi.Output<string>;
    readonly repositoryUrl: pulumi.Output<string>;
    readonly repositoryArn: pulumi.Output<string>;
    /** docker.Image `registry` input; the password stays secret. */
    readonly credentials: { server: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> };

    constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:registry:ImageRegistry", name, {}, opts);

        this.repository = new aws.ecr.Repository(
            `${name}-repository`,
            {
                name: args.repositoryName,
                imageScanningConfiguration: { scanOnPush: true },
                imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
                imageTagMutabilityExclusionFilters: [{ filter: MOVABLE_TAG_FILTER, filterType: "WILDCARD" }],
                forceDelete: false,
            },
            {
                parent: this,
                import: args.adopt ? args.repositoryName : undefined,
                // The repository holds every image ever shipped; tearing the stack down must not take
                // them with it.
                retainOnDelete: true,
            },
        );

        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: this.repository.name,
                policy: untaggedExpiryPolicy(args.untaggedExpiryDays ?? 14),
            },
            { parent: this },
        );

        // Docker logs in with a short-lived ECR token; the provider ignores registry credentials
        // when diffing, so a fresh token never shows as a change.
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
        this.credentials = {
            server: this.repository.repositoryUrl.apply((url) => url.split("/")[0]),
            username: token.userName,
            password: pulumi.secret(token.password),
        };

        this.repositoryName = this.repository.name;
        this.repositoryUrl = this.repository.repositoryUrl;
        this.repositoryArn = this.repository.arn;
        this.registerOutputs({ repositoryName: this.repositoryName, repositoryUrl: this.repositoryUrl });
    }
}

/**
 * Untagged images are the digests a `latest*` tag moved away from. They are kept long enough for a
 * circuit-breaker rollback to the previous task definition revision, then expired.
 */
export function untaggedExpiryPolicy(days: number): string {
    return JSON.stringify({
        rules: [
            {
                rulePriority: 1,
                description: `Expire untagged images ${days} days after push`,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: days },
                action: { type: "expire" },
            },
        ],
    });
}
