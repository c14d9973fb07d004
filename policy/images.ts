// Role images as a policy sees them: which `docker.Image` is which role, whether it is changing in
// this preview, whether it is pushed, and the build inputs two images can be compared on.
//
// What the engine sends for a docker.Image (pulumi-docker 4.x/5.x):
// - created or updated in a preview with `buildOnPreview: false`: the checked inputs (`imageName`,
//   `build` with `contextDigest` added, `registry`, `skipPush`, ...), and no `repoDigest`;
// - created or updated in a preview with `buildOnPreview: true`: the build's outputs, where
//   `repoDigest` is the local image ID (`sha256:...`, no repository part);
// - unchanged, or after an update: the outputs only (`imageName`, `repoDigest`, `context`,
//   `dockerfile` relative to the context, `platform`, `baseImageName`, `registryServer`).
import { isMissing, isUnknown, knownArray, knownBoolean, knownObject, knownString, Props } from "./props";
import { Role, ROLE_BUILD_ARG, roleForEntrypoint, roleForTag, tagOf } from "./roles";

export const DOCKER_IMAGE_TYPE = "docker:index/image:Image";

/** What a policy needs of a resource; `props` are the raw (unproxied) properties. */
export interface ResourceView {
    type: string;
    urn: string;
    name: string;
    props: Props;
    /** Stack policies only: the parent's URN, when the parent is in the stack. */
    parent?: string;
    /** Stack policies only: the URNs each input property depends on. */
    propertyDependencies?: Record<string, string[]>;
}

export type DigestState =
    | "pushed" // <repository>@sha256:<64 hex>: the image in the registry
    | "local" // a bare image ID (buildOnPreview, or skipPush)
    | "missing"
    | "unknown"
    | "malformed";

export type PushSetting = "push" | "skip" | "unknown";

/** The build inputs two role images are compared on; undefined means not visible. */
export interface BuildFingerprint {
    context?: string;
    contextDigest?: string;
    /** The Dockerfile's path relative to the context, the form the provider's outputs use. */
    dockerfile?: string;
    target?: string;
    platform?: string;
    /** Build args except ENTRYPOINT; undefined when the args are not visible at all. */
    args?: Record<string, string | undefined>;
    /** The repository part of imageName. */
    repository?: string;
    /**
     * The cache sources (`build.cacheFrom.images`) in order, or "(none)". A cache source only
     * offers layers a build would reuse, but a reused layer is the one an earlier build made:
     * two builds from different sources can ship different layers for the same instruction.
     */
    cacheFrom?: string;
    /** `BuilderBuildKit` or `BuilderV1`; the legacy builder ignores inline cache. */
    builderVersion?: string;
}

export interface RoleImage {
    role: Role;
    tag: string;
    urn: string;
    name: string;
    /** How the role was recognised. */
    identifiedBy: "imageName" | "entrypoint";
    digest: DigestState;
    push: PushSetting;
    build: BuildFingerprint;
}

const PUSHED_DIGEST = /^[^\s@]+@sha256:[0-9a-f]{64}$/;
const LOCAL_IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

export function digestState(repoDigest: unknown): DigestState {
    if (isUnknown(repoDigest)) {
        return "unknown";
    }
    if (isMissing(repoDigest) || repoDigest === "") {
        return "missing";
    }
    if (typeof repoDigest !== "string") {
        return "malformed";
    }
    if (PUSHED_DIGEST.test(repoDigest)) {
        return "pushed";
    }
    return LOCAL_IMAGE_ID.test(repoDigest) ? "local" : "malformed";
}

/** Changing, in a preview: anything but a pushed digest. */
export function isChanging(image: Pick<RoleImage, "digest">): boolean {
    return image.digest !== "pushed";
}

/**
 * Splits an image reference into repository and tag. A reference without a tag means `latest`,
 * as for `docker push`; a trailing `@sha256:...` is ignored.
 */
export function parseImageName(imageName: string): { repository: string; tag: string } {
    const withoutDigest = imageName.split("@")[0];
    const lastSlash = withoutDigest.lastIndexOf("/");
    const lastColon = withoutDigest.lastIndexOf(":");
    if (lastColon > lastSlash) {
        return { repository: withoutDigest.slice(0, lastColon), tag: withoutDigest.slice(lastColon + 1) };
    }
    return { repository: withoutDigest, tag: "latest" };
}

/** The role of a docker.Image, or undefined for an image that is not a role image. */
export function identifyRole(props: Props): { role: Role; identifiedBy: RoleImage["identifiedBy"] } | undefined {
    const imageName = knownString(props.imageName);
    if (imageName !== undefined && imageName !== "") {
        const role = roleForTag(parseImageName(imageName).tag);
        return role ? { role, identifiedBy: "imageName" } : undefined;
    }
    // imageName unknown or missing (the repository is created in this same preview): the role
    // comes from the ENTRYPOINT build arg.
    const entrypoint = knownString(knownObject(knownObject(props.build)?.args)?.[ROLE_BUILD_ARG]);
    const role = entrypoint === undefined ? undefined : roleForEntrypoint(entrypoint);
    return role ? { role, identifiedBy: "entrypoint" } : undefined;
}

export function pushSetting(props: Props): PushSetting {
    const skipPush = props.skipPush;
    if (isMissing(skipPush)) {
        return "push"; // the provider's default
    }
    const known = knownBoolean(skipPush);
    if (known === undefined) {
        return "unknown";
    }
    return known ? "skip" : "push";
}

function normalizePath(p: string): string {
    const absolute = p.startsWith("/");
    const parts: string[] = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".") {
            continue;
        }
        if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    const joined = parts.join("/");
    return absolute ? `/${joined}` : joined || ".";
}

/** `dockerfile` relative to `context`, both relative to the program directory. */
export function dockerfileRelativeToContext(context: string, dockerfile: string): string {
    const ctx = normalizePath(context);
    const file = normalizePath(dockerfile);
    if (ctx === ".") {
        return file;
    }
    if (file.startsWith(`${ctx}/`)) {
        return file.slice(ctx.length + 1);
    }
    const up = ctx.startsWith("/") ? [] : ctx.split("/").map(() => "..");
    return ctx.startsWith("/") ? file : [...up, file].join("/");
}

export function buildFingerprint(props: Props): BuildFingerprint {
    const fingerprint: BuildFingerprint = {};
    const imageName = knownString(props.imageName);
    if (imageName) {
        fingerprint.repository = parseImageName(imageName).repository;
    }
    const build = props.build;
    const buildObject = knownObject(build);
    if (buildObject) {
        // Inputs: the provider's Check fills context "." and dockerfile "<context>/Dockerfile" when
        // absent, so an absent one is known. An absent platform becomes the building host's, which
        // a policy cannot know.
        const context = isMissing(buildObject.context) ? "." : knownString(buildObject.context);
        if (context !== undefined) {
            fingerprint.context = normalizePath(context);
            const dockerfile = isMissing(buildObject.dockerfile)
                ? `${context}/Dockerfile`
                : knownString(buildObject.dockerfile);
            if (dockerfile !== undefined) {
                fingerprint.dockerfile = dockerfileRelativeToContext(context, dockerfile);
            }
        }
        fingerprint.contextDigest = knownString(buildObject.contextDigest);
        fingerprint.target = isMissing(buildObject.target) ? "" : knownString(buildObject.target);
        fingerprint.platform = knownString(buildObject.platform);
        // The provider's default builder is BuildKit (pulumi-docker provider/image.go, marshalBuilder).
        fingerprint.builderVersion = isMissing(buildObject.builderVersion) ? "BuilderBuildKit" : knownString(buildObject.builderVersion);
        fingerprint.cacheFrom = cacheSources(buildObject.cacheFrom);
        const args = isMissing(buildObject.args) ? {} : knownObject(buildObject.args);
        if (args) {
            fingerprint.args = {};
            for (const [key, value] of Object.entries(args)) {
                if (key !== ROLE_BUILD_ARG) {
                    fingerprint.args[key] = isMissing(value) ? "" : knownString(value);
                }
            }
        }
    } else if (!isUnknown(build)) {
        // Outputs: context and platform as given, dockerfile already relative to the context.
        const context = knownString(props.context);
        if (context !== undefined) {
            fingerprint.context = normalizePath(context);
        }
        const dockerfile = knownString(props.dockerfile);
        if (dockerfile !== undefined) {
            fingerprint.dockerfile = normalizePath(dockerfile);
        }
        fingerprint.platform = knownString(props.platform) || undefined;
    }
    return fingerprint;
}

/** `build.cacheFrom` as one comparable value; undefined when any part of it is not known. */
function cacheSources(cacheFrom: unknown): string | undefined {
    if (isMissing(cacheFrom)) {
        return "(none)";
    }
    const images = knownObject(cacheFrom)?.images;
    if (!knownObject(cacheFrom)) {
        return undefined;
    }
    if (isMissing(images)) {
        return "(none)";
    }
    const list = knownArray(images)?.map(knownString);
    if (list === undefined || list.some((image) => image === undefined)) {
        return undefined;
    }
    return list.length === 0 ? "(none)" : list.join(", ");
}

/** The role image a resource is, or undefined for every other resource. */
export function roleImageOf(resource: ResourceView): RoleImage | undefined {
    if (resource.type !== DOCKER_IMAGE_TYPE) {
        return undefined;
    }
    const identity = identifyRole(resource.props);
    if (!identity) {
        return undefined;
    }
    return {
        role: identity.role,
        tag: tagOf(identity.role),
        urn: resource.urn,
        name: resource.name,
        identifiedBy: identity.identifiedBy,
        digest: digestState(resource.props.repoDigest),
        push: pushSetting(resource.props),
        build: buildFingerprint(resource.props),
    };
}

export interface BuildDifference {
    /** `platform`, `args.CGAP_VERSION`, `repository`, ... */
    field: string;
    /** Each image's value, for the images on which the field is visible. */
    values: { tag: string; value: string }[];
}

const COMPARED_FIELDS = [
    "repository",
    "context",
    "contextDigest",
    "dockerfile",
    "target",
    "platform",
    "builderVersion",
    "cacheFrom",
] as const;

/**
 * The build inputs on which the given images differ. A field is compared only among the images on
 * which it is visible; ENTRYPOINT is never compared.
 */
export function compareBuilds(images: readonly RoleImage[]): BuildDifference[] {
    const differences: BuildDifference[] = [];
    const collect = (field: string, read: (b: BuildFingerprint) => string | undefined) => {
        const values: { tag: string; value: string }[] = [];
        for (const image of images) {
            const value = read(image.build);
            if (value !== undefined) {
                values.push({ tag: image.tag, value });
            }
        }
        if (new Set(values.map((v) => v.value)).size > 1) {
            differences.push({ field, values });
        }
    };
    for (const field of COMPARED_FIELDS) {
        collect(field, (b) => b[field]);
    }
    const argNames = new Set<string>();
    for (const image of images) {
        Object.keys(image.build.args ?? {}).forEach((name) => argNames.add(name));
    }
    for (const name of [...argNames].sort()) {
        // An arg one image sets and another (whose args are visible) does not is a difference.
        collect(`args.${name}`, (b) => (b.args === undefined ? undefined : name in b.args ? b.args[name] : "(unset)"));
    }
    return differences;
}

export function describeDifferences(differences: readonly BuildDifference[]): string {
    return differences
        .map((d) => `${d.field}: ${d.values.map((v) => `${JSON.stringify(v.value)} (${v.tag})`).join(" vs ")}`)
        .join("; ");
}

/** The role images among the given resources. */
export function roleImagesOf(resources: readonly ResourceView[]): RoleImage[] {
    const images: RoleImage[] = [];
    for (const resource of resources) {
        const image = roleImageOf(resource);
        if (image) {
            images.push(image);
        }
    }
    return images;
}
