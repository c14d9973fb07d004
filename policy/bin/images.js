"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.DOCKER_IMAGE_TYPE = void 0;
exports.digestState = digestState;
exports.isChanging = isChanging;
exports.parseImageName = parseImageName;
exports.identifyRole = identifyRole;
exports.pushSetting = pushSetting;
exports.dockerfileRelativeToContext = dockerfileRelativeToContext;
exports.buildFingerprint = buildFingerprint;
exports.roleImageOf = roleImageOf;
exports.compareBuilds = compareBuilds;
exports.describeDifferences = describeDifferences;
exports.roleImagesOf = roleImagesOf;
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
const props_1 = require("./props");
const roles_1 = require("./roles");
exports.DOCKER_IMAGE_TYPE = "docker:index/image:Image";
const PUSHED_DIGEST = /^[^\s@]+@sha256:[0-9a-f]{64}$/;
const LOCAL_IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
function digestState(repoDigest) {
    if ((0, props_1.isUnknown)(repoDigest)) {
        return "unknown";
    }
    if ((0, props_1.isMissing)(repoDigest) || repoDigest === "") {
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
function isChanging(image) {
    return image.digest !== "pushed";
}
/**
 * Splits an image reference into repository and tag. A reference without a tag means `latest`,
 * as for `docker push`; a trailing `@sha256:...` is ignored.
 */
function parseImageName(imageName) {
    const withoutDigest = imageName.split("@")[0];
    const lastSlash = withoutDigest.lastIndexOf("/");
    const lastColon = withoutDigest.lastIndexOf(":");
    if (lastColon > lastSlash) {
        return { repository: withoutDigest.slice(0, lastColon), tag: withoutDigest.slice(lastColon + 1) };
    }
    return { repository: withoutDigest, tag: "latest" };
}
/** The role of a docker.Image, or undefined for an image that is not a role image. */
function identifyRole(props) {
    const imageName = (0, props_1.knownString)(props.imageName);
    if (imageName !== undefined && imageName !== "") {
        const role = (0, roles_1.roleForTag)(parseImageName(imageName).tag);
        return role ? { role, identifiedBy: "imageName" } : undefined;
    }
    // imageName unknown or missing (the repository is created in this same preview): the role
    // comes from the ENTRYPOINT build arg.
    const entrypoint = (0, props_1.knownString)((0, props_1.knownObject)((0, props_1.knownObject)(props.build)?.args)?.[roles_1.ROLE_BUILD_ARG]);
    const role = entrypoint === undefined ? undefined : (0, roles_1.roleForEntrypoint)(entrypoint);
    return role ? { role, identifiedBy: "entrypoint" } : undefined;
}
function pushSetting(props) {
    const skipPush = props.skipPush;
    if ((0, props_1.isMissing)(skipPush)) {
        return "push"; // the provider's default
    }
    const known = (0, props_1.knownBoolean)(skipPush);
    if (known === undefined) {
        return "unknown";
    }
    return known ? "skip" : "push";
}
function normalizePath(p) {
    const absolute = p.startsWith("/");
    const parts = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".") {
            continue;
        }
        if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") {
            parts.pop();
        }
        else {
            parts.push(part);
        }
    }
    const joined = parts.join("/");
    return absolute ? `/${joined}` : joined || ".";
}
/** `dockerfile` relative to `context`, both relative to the program directory. */
function dockerfileRelativeToContext(context, dockerfile) {
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
function buildFingerprint(props) {
    const fingerprint = {};
    const imageName = (0, props_1.knownString)(props.imageName);
    if (imageName) {
        fingerprint.repository = parseImageName(imageName).repository;
    }
    const build = props.build;
    const buildObject = (0, props_1.knownObject)(build);
    if (buildObject) {
        // Inputs: the provider's Check fills context "." and dockerfile "<context>/Dockerfile" when
        // absent, so an absent one is known. An absent platform becomes the building host's, which
        // a policy cannot know.
        const context = (0, props_1.isMissing)(buildObject.context) ? "." : (0, props_1.knownString)(buildObject.context);
        if (context !== undefined) {
            fingerprint.context = normalizePath(context);
            const dockerfile = (0, props_1.isMissing)(buildObject.dockerfile)
                ? `${context}/Dockerfile`
                : (0, props_1.knownString)(buildObject.dockerfile);
            if (dockerfile !== undefined) {
                fingerprint.dockerfile = dockerfileRelativeToContext(context, dockerfile);
            }
        }
        fingerprint.contextDigest = (0, props_1.knownString)(buildObject.contextDigest);
        fingerprint.target = (0, props_1.isMissing)(buildObject.target) ? "" : (0, props_1.knownString)(buildObject.target);
        fingerprint.platform = (0, props_1.knownString)(buildObject.platform);
        const args = (0, props_1.isMissing)(buildObject.args) ? {} : (0, props_1.knownObject)(buildObject.args);
        if (args) {
            fingerprint.args = {};
            for (const [key, value] of Object.entries(args)) {
                if (key !== roles_1.ROLE_BUILD_ARG) {
                    fingerprint.args[key] = (0, props_1.isMissing)(value) ? "" : (0, props_1.knownString)(value);
                }
            }
        }
    }
    else if (!(0, props_1.isUnknown)(build)) {
        // Outputs: context and platform as given, dockerfile already relative to the context.
        const context = (0, props_1.knownString)(props.context);
        if (context !== undefined) {
            fingerprint.context = normalizePath(context);
        }
        const dockerfile = (0, props_1.knownString)(props.dockerfile);
        if (dockerfile !== undefined) {
            fingerprint.dockerfile = normalizePath(dockerfile);
        }
        fingerprint.platform = (0, props_1.knownString)(props.platform) || undefined;
    }
    return fingerprint;
}
/** The role image a resource is, or undefined for every other resource. */
function roleImageOf(resource) {
    if (resource.type !== exports.DOCKER_IMAGE_TYPE) {
        return undefined;
    }
    const identity = identifyRole(resource.props);
    if (!identity) {
        return undefined;
    }
    return {
        role: identity.role,
        tag: (0, roles_1.tagOf)(identity.role),
        urn: resource.urn,
        name: resource.name,
        identifiedBy: identity.identifiedBy,
        digest: digestState(resource.props.repoDigest),
        push: pushSetting(resource.props),
        build: buildFingerprint(resource.props),
    };
}
const COMPARED_FIELDS = ["repository", "context", "contextDigest", "dockerfile", "target", "platform"];
/**
 * The build inputs on which the given images differ. A field is compared only among the images on
 * which it is visible; ENTRYPOINT is never compared; cache settings and builder version are not
 * part of the fingerprint at all.
 */
function compareBuilds(images) {
    const differences = [];
    const collect = (field, read) => {
        const values = [];
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
    const argNames = new Set();
    for (const image of images) {
        Object.keys(image.build.args ?? {}).forEach((name) => argNames.add(name));
    }
    for (const name of [...argNames].sort()) {
        // An arg one image sets and another (whose args are visible) does not is a difference.
        collect(`args.${name}`, (b) => (b.args === undefined ? undefined : name in b.args ? b.args[name] : "(unset)"));
    }
    return differences;
}
function describeDifferences(differences) {
    return differences
        .map((d) => `${d.field}: ${d.values.map((v) => `${JSON.stringify(v.value)} (${v.tag})`).join(" vs ")}`)
        .join("; ");
}
/** The role images among the given resources. */
function roleImagesOf(resources) {
    const images = [];
    for (const resource of resources) {
        const image = roleImageOf(resource);
        if (image) {
            images.push(image);
        }
    }
    return images;
}
