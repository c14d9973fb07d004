import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { UsedByUrl } from "./estate";
import { parseRepositoryUrl, repositoryArn } from "./exports";

export interface ImageRegistryArgs {
    /** Repository name of a created repository: the environment's name, as the Makefile's ECR repo was. */
    repositoryName: string;
    /** A repository that exists (the ECR stack's, or the stack file's): pushed to, never created or imported. */
    existing?: UsedByUrl;
    /** Days an untagged image (a digest a `latest*` tag moved away from) is kept. */
    untaggedExpiryDays?: number;
    /** The repository this stack's last run recorded (LastRun); undefined before its first run. */
    recordedRepositoryName?: pulumi.Input<string | undefined>;
}

/** The repository the images are pushed to, whoever owns it. */
export interface RepositoryHandle {
    url: pulumi.Output<string>;
    name: pulumi.Output<string>;
    /** The repository resource, when this stack created it (lookups must wait for it). */
    created?: aws.ecr.Repository;
    /** True when this run creates the repository: it holds no image yet. */
    createdNow?: pulumi.Output<boolean>;
}

/** Every role tag is movable; any other tag (a release tag, say) can be pushed only once. */
export const MOVABLE_TAG_FILTER = "latest*";

/**
 * The ECR repository the four role images are pushed to and the push credentials. An existing
 * repository (4dn-cloud-infra's ECR stack owns it) is only pushed to; otherwise the stack creates
 * one, with its lifecycle policy.
 */
export class ImageRegistry extends pulumi.ComponentResource {
    readonly repository: RepositoryHandle;
    readonly repositoryName: pulumi.Output<string>;
    readonly repositoryUrl: pulumi.Output<string>;
    readonly repositoryArn: pulumi.Output<string>;
    /** docker.Image `registry` input; the password stays secret. */
    readonly credentials: { server: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> };

    constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:registry:ImageRegistry", name, {}, opts);

        let registryId: pulumi.Output<string>;
        if (args.existing) {
            const parsed = args.existing.url.apply((url) => {
                const ref = parseRepositoryUrl(url);
                if (ref.name !== args.repositoryName) {
                    // Role tags are fixed names: two environments pushing to one repository move each other's tags.
                    pulumi.log.warn(
                        `The repository ${url} is not named after this environment (${args.repositoryName}). Every stack ` +
                            "that pushes there moves the same latest* tags: make sure no other environment does.",
                        this,
                    );
                }
                return ref;
            });
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            this.repository = { url: args.existing.url, name: parsed.name };
            this.repositoryArn = pulumi.all([parsed, partition]).apply(([ref, p]) => repositoryArn(ref, p));
            registryId = parsed.registryId;
        } else {
            const repository = new aws.ecr.Repository(
                `${name}-repository`,
                {
                    name: this.unclaimedName(args),
                    imageScanningConfiguration: { scanOnPush: true },
                    imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
                    imageTagMutabilityExclusionFilters: [{ filter: MOVABLE_TAG_FILTER, filterType: "WILDCARD" }],
                    forceDelete: false,
                },
                {
                    parent: this,
                    // The repository holds every image ever shipped; tearing the stack down must not take
                    // them with it.
                    retainOnDelete: true,
                },
            );
            new aws.ecr.LifecyclePolicy(
                `${name}-lifecycle`,
                {
                    repository: repository.name,
                    policy: untaggedExpiryPolicy(args.untaggedExpiryDays ?? 14),
                },
                { parent: this },
            );
            this.repository = {
                url: repository.repositoryUrl,
                name: repository.name,
                created: repository,
                createdNow: pulumi.output(args.recordedRepositoryName).apply((recorded) => recorded !== args.repositoryName),
            };
            this.repositoryArn = repository.arn;
            registryId = repository.registryId;
        }

        // Docker logs in with a short-lived ECR token; the provider ignores registry credentials
        // when diffing, so a fresh token never shows as a change.
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId }, { parent: this });
        this.credentials = {
            server: this.repository.url.apply((url) => url.split("/")[0]),
            username: token.userName,
            password: pulumi.secret(token.password),
        };

        this.repositoryName = this.repository.name;
        this.repositoryUrl = this.repository.url;
        this.registerOutputs({ repositoryName: this.repositoryName, repositoryUrl: this.repositoryUrl });
    }

    /**
     * The name of the repository to create, refused in the preview when a repository of that name
     * exists that this stack did not record: the one a destroyed stack of the same envName kept.
     * A failed lookup means no such repository (RepositoryNotFoundException); any other failure
     * lets CreateRepository answer for itself.
     */
    private unclaimedName(args: ImageRegistryArgs): pulumi.Output<string> {
        const existing = aws.ecr
            .getRepository({ name: args.repositoryName }, { parent: this })
            .then(
                (found) => found.repositoryUrl,
                () => undefined,
            );
        return pulumi.all([pulumi.output(existing), pulumi.output(args.recordedRepositoryName)]).apply(([url, recorded]) => {
            if (url !== undefined && recorded !== args.repositoryName) {
                throw new pulumi.ResourceError(retainedRepositoryMessage(url), this);
            }
            return args.repositoryName;
        });
    }
}

/** The message for a repository of the environment's name that exists although this stack never recorded one. */
export function retainedRepositoryMessage(repositoryUrl: string): string {
    return (
        `The repository ${repositoryUrl} exists but this stack has not recorded it: an earlier \`pulumi destroy\` ` +
        "keeps the repository and its images (retainOnDelete), so creating it again would fail with " +
        "RepositoryAlreadyExistsException. Push to it as it is: `pulumi config set cgap:repositoryUrl " +
        `${repositoryUrl}\`.`
    );
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
