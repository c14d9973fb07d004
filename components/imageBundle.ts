import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as path from "path";
import { ImageSettings } from "./config";
import { RepositoryHandle } from "./registry";
import { BUILD_CACHE_TAG, buildArgs, CACHE_STAGE, INLINE_CACHE_ARGS, Role, ROLE_SPECS, ROLES, sharedBuildArgs } from "./roles";

export interface ImageBundleArgs {
    repository: RepositoryHandle;
    /** docker.Image `registry` input. */
    credentials: docker.types.input.Registry;
    /** Roles this update builds and pushes; every other role stays pinned to its tag's digest in ECR. */
    rollout: readonly Role[];
    image: ImageSettings;
    /** The build context all four images share; its Dockerfile is `<context>/Dockerfile`. */
    context?: string;
    /**
     * What each role's task definition named when this stack last ran (its `images` output, see
     * LastRun). Undefined for a role nothing was recorded for.
     */
    recorded: pulumi.Input<Partial<Record<Role, string>> | undefined>;
}

/**
 * Where a role's image reference comes from: built and pushed by this rollout, recorded by this
 * stack's last run (a left-out role keeps what it runs), or, where nothing ran yet, its tag's
 * digest in ECR as of now.
 */
export type PinSource = "built" | "recorded" | "tag";

/** The build context shared by the four images, relative to the project (the program's cwd). */
export const IMAGES_CONTEXT = "images";

const PUSHED_DIGEST = /@(sha256:[0-9a-f]{64})$/;

/**
 * The four role images of one build. A role in `rollout` is a docker.Image built from the shared
 * context with its own ENTRYPOINT and pushed to its tag. A role left out is not declared as an
 * image at all, so nothing about it changes in the preview the policy pack judges. Its reference is
 * the image its task definition named when this stack last ran (the stack's own `images` output),
 * and only where nothing was recorded (a first `up`, a role new to the stack) the digest its tag
 * has in ECR right now: a `latest*` tag can be moved by hand outside this stack.
 *
 * Why the program itself must name the running image, and `ignoreChanges` alone is not enough: the
 * engine keeps an ignored property's old value only for the diff. Once the provider reports a
 * replacement, the engine runs the provider's Check again on the program's own inputs and creates
 * the replacement from them (pulumi/pulumi pkg/resource/deploy/step_generator.go,
 * continueStepsFromDiff: "If we are going to perform a replacement, we need to recompute the
 * default values", `prov.Check(..., News: goal.Properties)`, v3.248). Every aws_ecs_task_definition
 * argument except tags, tags_all, skip_destroy and track_latest is ForceNew
 * (hashicorp/terraform-provider-aws internal/service/ecs/task_definition.go), so a left-out role's
 * new cpu or memory, platform, role ARN or family, or a `pulumi up --replace`, registers a revision
 * with whatever the program names.
 *
 * With any role rolled out, a fifth image is built and pushed too: the Dockerfile's `build` stage
 * as the build cache image. Every build exports inline cache and names the same cache sources
 * (buildCacheSources), so a fresh runner reuses every layer whose inputs did not change.
 */
export class ImageBundle extends pulumi.ComponentResource {
    /** Digest-pinned reference per role, `<repositoryUrl>@sha256:<hex>`: what task definitions name. */
    readonly refs: Record<Role, pulumi.Output<string>>;
    /** The docker.Image resources of the roles being rolled out. */
    readonly images: Partial<Record<Role, docker.Image>> = {};
    /** Roles left out of the rollout: their task definitions keep the image they run. */
    readonly leftOut: Role[];
    /** Where each role's reference comes from (see PinSource). */
    readonly pinSources: Record<Role, pulumi.Output<PinSource>>;
    /** The pushed `build` stage, every build's cache source; absent when no role is rolled out. */
    readonly buildCache?: docker.Image;

    constructor(name: string, args: ImageBundleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:images:ImageBundle", name, {}, opts);

        const context = args.context ?? IMAGES_CONTEXT;
        const repositoryUrl = args.repository.url;
        this.leftOut = ROLES.filter((r) => !args.rollout.includes(r));
        const registryTags = this.leftOut.length > 0 ? this.tagsInRegistry(args.repository) : undefined;
        const recorded = this.leftOut.length > 0 ? pulumi.output(args.recorded) : undefined;

        const cacheFrom = buildCacheSources(repositoryUrl);
        const build = {
            context,
            dockerfile: path.posix.join(context, "Dockerfile"),
            platform: args.image.platform,
            builderVersion: "BuilderBuildKit" as const,
            cacheFrom,
        };
        const pushed = { registry: args.credentials, skipPush: false, buildOnPreview: args.image.buildOnPreview };

        if (args.rollout.length > 0) {
            // Not ordered before the role images: the five builds run in one Docker daemon, whose
            // BuildKit solver shares a step with the same definition between concurrent builds
            // and runs it once (moby/buildkit docs/dev/solver.md, "Shared graph").
            this.buildCache = new docker.Image(
                `${name}-build-cache`,
                {
                    imageName: pulumi.interpolate`${repositoryUrl}:${BUILD_CACHE_TAG}`,
                    build: { ...build, target: CACHE_STAGE, args: { ...sharedBuildArgs(args.image.appVersion), ...INLINE_CACHE_ARGS } },
                    ...pushed,
                },
                { parent: this },
            );
        }

        const refs = {} as Record<Role, pulumi.Output<string>>;
        const pinSources = {} as Record<Role, pulumi.Output<PinSource>>;
        for (const role of ROLES) {
            const { tag } = ROLE_SPECS[role];
            if (args.rollout.includes(role)) {
                const image = new docker.Image(
                    `${name}-${role}`,
                    {
                        imageName: pulumi.interpolate`${repositoryUrl}:${tag}`,
                        build: { ...build, args: { ...buildArgs(role, args.image.appVersion), ...INLINE_CACHE_ARGS } },
                        ...pushed,
                    },
                    { parent: this },
                );
                this.images[role] = image;
                refs[role] = pulumi
                    .all([repositoryUrl, image.repoDigest])
                    .apply(([url, repoDigest]) => pushedRef(url, tag, repoDigest, this));
                pinSources[role] = pulumi.output("built" as const);
            } else {
                const kept = pulumi
                    .all([recorded!, args.repository.createdNow ?? false])
                    .apply(([images, createdNow]) => recordedRef(images?.[role]) ?? refuseEmptyRepository(role, createdNow, this));
                // The tag is looked up only for a role with nothing recorded: it is what a first creation runs.
                refs[role] = pulumi
                    .all([kept, repositoryUrl, registryTags!])
                    .apply(([ref, url, tags]) => ref ?? pinnedRef(url, tag, role, tags, this));
                pinSources[role] = kept.apply((ref) => (ref ? "recorded" : "tag"));
            }
        }
        this.refs = refs;
        this.pinSources = pinSources;
        this.registerOutputs({ refs, pinSources });
    }

    /** Tag to digest for every tagged image in the repository, looked up once for all pinned roles. */
    private tagsInRegistry(repository: RepositoryHandle): pulumi.Output<Record<string, string>> {
        // dependsOn: when the repository is created in this same run there is nothing to look up yet,
        // and the lookup resolves as unknown in the preview instead of failing.
        const listed = aws.ecr.getImagesOutput(
            { repositoryName: repository.name },
            { parent: this, dependsOn: repository.created ? [repository.created] : [] },
        );
        return listed.imageIds.apply((ids) =>
            Object.fromEntries(ids.filter((i) => i.imageTag).map((i) => [i.imageTag as string, i.imageDigest])),
        );
    }
}

/**
 * The cache sources of every build, the same for all five images so that a cache source can never
 * tell two role builds apart: the build cache image (the `build` stage's layers) and the WSGI image
 * (every layer of the final stage but the role script, which all four roles share).
 *
 * A source that does not exist yet (a first rollout, a new repository) is not an error: the
 * provider pulls each source first and only logs a failed pull (pulumi/pulumi-docker
 * provider/image.go, v5.x, dockerBuild), and BuildKit treats a cache import it cannot resolve as
 * one with no records (moby/buildkit solver/llbsolver/bridge.go, lazyCacheManager.Query). While
 * the repository URL is unknown (a preview before the repository exists) the provider leaves the
 * unknown sources out (marshalCachedImages).
 */
export function buildCacheSources(repositoryUrl: pulumi.Input<string>): { images: pulumi.Output<string>[] } {
    return {
        images: [BUILD_CACHE_TAG, ROLE_SPECS.wsgi.tag].map((tag) => pulumi.interpolate`${repositoryUrl}:${tag}`),
    };
}

/** The reference a freshly pushed image is named by: the repository plus the digest it was pushed as. */
export function pushedRef(
    repositoryUrl: string,
    tag: string,
    repoDigest: string | undefined,
    resource: pulumi.Resource,
): string {
    const digest = repoDigest ? PUSHED_DIGEST.exec(repoDigest)?.[1] : undefined;
    if (digest) {
        return `${repositoryUrl}@${digest}`;
    }
    if (pulumi.runtime.isDryRun()) {
        // A preview builds nothing it pushes: the digest is not known until the update.
        return pulumi.unknown as unknown as string;
    }
    throw new pulumi.ResourceError(
        `The image for tag "${tag}" reported no pushed digest (repoDigest ${JSON.stringify(repoDigest)}); ` +
            "task definitions name images by digest, so this rollout cannot continue. Check that the push to ECR succeeded.",
        resource,
    );
}

/** A recorded image reference, if it is one a task definition can be pinned to (`<repository>@sha256:<hex>`). */
export function recordedRef(ref: unknown): string | undefined {
    return typeof ref === "string" && PUSHED_DIGEST.test(ref) ? ref : undefined;
}

/**
 * A left-out role with nothing recorded takes its tag's digest, but a repository this run creates
 * holds no tag yet. The lookup of its tags is unknown in the preview (it waits for the repository),
 * so without this the preview would pass and the update fail after creating the repository and the
 * load balancer.
 */
export function refuseEmptyRepository(role: Role, createdNow: boolean, resource: pulumi.Resource): undefined {
    if (createdNow) {
        throw new pulumi.ResourceError(
            `The role "${role}" is left out of cgap:rollout, but this run creates the repository, so no image of ` +
                `${role} exists to keep running. Roll out all four for the first \`pulumi up\` (remove cgap:rollout).`,
            resource,
        );
    }
    return undefined;
}

/** The reference a role left out of the rollout gets where nothing was recorded: its tag's digest in ECR as of now. */
export function pinnedRef(
    repositoryUrl: string,
    tag: string,
    role: Role,
    tagDigests: Record<string, string>,
    resource: pulumi.Resource,
): string {
    const digest = tagDigests[tag];
    if (!digest) {
        throw new pulumi.ResourceError(
            `The role "${role}" is left out of cgap:rollout, so it keeps the image its tag "${tag}" has in ECR, ` +
                `but ${repositoryUrl} has no image tagged "${tag}" yet. Add ${role} to cgap:rollout ` +
                "(or remove cgap:rollout to roll out all four) for this first rollout.",
            resource,
        );
    }
    return `${repositoryUrl}@${digest}`;
}
