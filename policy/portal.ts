// What the rollout rules judge: what each of the four role containers will run (roleStates,
// below), and the docker.Images they run. When the stack has no task definition of a role at all,
// the older reading applies: the portal's role images are the role-tagged images in the
// repositories its task definitions run from (portalRepositories), and when nothing tells the
// repository, every role-tagged image counts (fail closed).
import { buildFingerprint, digestState, DOCKER_IMAGE_TYPE, parseImageName, pushSetting, ResourceView, RoleImage, roleImagesOf } from "./images";
import { isMissing, isUnknown, knownObject, knownString, parseJsonDocument } from "./props";
import { Role, ROLE_BUILD_ARG, ROLE_IMAGES, roleForEntrypoint, roleForTag, ROLES, tagOf } from "./roles";

export const TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition";

/** What the program reads its last run's record through: a StackReference to the stack itself. */
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
export const LAST_RUN_TYPE = "cgap:stack:LastRun";

/**
 * Resource types that build, tag, push or name a container image. A role container that waits on
 * one of them is changing; only a docker.Image is the program's build of the four roles.
 */
export const IMAGE_TYPES = [
    DOCKER_IMAGE_TYPE,
    "docker-build:index:Image", // @pulumi/docker-build, docker.Image's successor (and what awsx.ecr.Image wraps)
    "docker:index/tag:Tag",
    "docker:index/registryImage:RegistryImage",
    "docker:index/remoteImage:RemoteImage",
    "awsx:ecr:Image",
] as const;

/** The resource types the rollout rules read. */
export const ROLLOUT_TYPES = [...IMAGE_TYPES, TASK_DEFINITION_TYPE, STACK_REFERENCE_TYPE] as const;

const ROLE_CONTAINERS = new Set(ROLES.map((role) => ROLE_IMAGES[role].containerName));

/** The images a known `containerDefinitions` document runs in role containers. */
function roleContainerImages(containerDefinitions: unknown): string[] {
    const parsed = parseJsonDocument(containerDefinitions);
    if (parsed.state !== "known" || !Array.isArray(parsed.value)) {
        return [];
    }
    return parsed.value.flatMap((container) => {
        const c = knownObject(container);
        const image = knownString(c?.image);
        return c && ROLE_CONTAINERS.has(knownString(c.name) ?? "") && image ? [image] : [];
    });
}

/** Whether an image a task definition waits on is a role image: by ENTRYPOINT, else (outputs only) by tag. */
function isRoleImage(image: ResourceView): boolean {
    const entrypoint = knownString(knownObject(knownObject(image.props.build)?.args)?.[ROLE_BUILD_ARG]);
    if (entrypoint !== undefined) {
        return roleForEntrypoint(entrypoint) !== undefined;
    }
    const imageName = knownString(image.props.imageName);
    return imageName !== undefined && roleForTag(parseImageName(imageName).tag) !== undefined;
}

/** The repositories the stack's task definitions run its roles from (empty when none is known). */
export function portalRepositories(resources: readonly ResourceView[]): Set<string> {
    const images = new Map(resources.filter((r) => r.type === DOCKER_IMAGE_TYPE).map((r) => [r.urn, r]));
    const repositories = new Set<string>();
    for (const taskDefinition of resources.filter((r) => r.type === TASK_DEFINITION_TYPE)) {
        const running = roleContainerImages(taskDefinition.props.containerDefinitions);
        for (const image of running) {
            repositories.add(parseImageName(image).repository);
        }
        if (running.length > 0) {
            continue;
        }
        for (const urn of taskDefinition.propertyDependencies?.containerDefinitions ?? []) {
            const image = images.get(urn);
            const imageName = image && knownString(image.props.imageName);
            if (image && imageName && isRoleImage(image)) {
                repositories.add(parseImageName(imageName).repository);
            }
        }
    }
    return repositories;
}

/**
 * The portal's role images: role images in the portal's repositories, plus any whose repository is
 * not known yet (it may be the portal's; counting it fails closed).
 */
export function portalRoleImages(resources: readonly ResourceView[]): RoleImage[] {
    const repositories = portalRepositories(resources);
    return roleImagesOf(resources).filter(
        (image) => repositories.size === 0 || image.build.repository === undefined || repositories.has(image.build.repository),
    );
}

// ---------------------------------------------------------------------------------------------
// What each role container will run. The rules judge roles, not images: a role changes when the
// image its container (WSGI, Indexer, Ingester, DeploymentAction) will run changes, whatever
// resource builds, tags or names that image, or when none does (a task definition edited to
// another digest). What the engine sends for a task definition in a preview:
// - containerDefinitions known (the role is left out, or its image is unchanged): the image string,
//   `<repository>@sha256:<digest>` as the program writes it (a buildOnPreview build: the local ID);
// - containerDefinitions unknown (the role's image is being built and pushed, or everything is
//   being created): the whole JSON string is one unknown, and the request's propertyDependencies
//   name, for containerDefinitions, every resource the string was made from, images included.
// A container is a role's when it has the role's container name; a task definition whose containers
// are not known yet, when its family ends with the role's name (`<env>-indexer`, `CGAPIndexer`).
// Anything else (another app's task definitions, sidecars beside a role container) is no role.

/** How a role's container changes in this preview. */
export type RoleChange =
    | "none" // runs what it ran (a left-out role, an unchanged image)
    | "build" // runs a docker.Image of this stack being built or already built (`image`)
    | "other" // runs an image this stack's build does not make: another builder, a tag, a hand-set digest
    | "unknown"; // cannot be told: fails closed

export interface RoleState {
    role: Role;
    /** The task definition the role container is in. */
    urn: string;
    change: RoleChange;
    /** The docker.Image the container runs, when it runs one of this stack's. */
    image?: RoleImage;
    /** What the container will run and why it counts as it does, for messages. */
    detail: string;
}

function familyRole(family: string | undefined): Role | undefined {
    const lower = family?.toLowerCase();
    return lower === undefined ? undefined : ROLES.find((role) => lower.endsWith(role));
}

/** The ENTRYPOINT build arg of an image-making resource (docker.Image `build.args`, docker-build `buildArgs`). */
function entrypointOf(resource: ResourceView): string | undefined {
    const p = resource.props;
    return knownString((knownObject(knownObject(p.build)?.args) ?? knownObject(p.buildArgs))?.[ROLE_BUILD_ARG]);
}

/** The role an image-making resource is built or tagged for: ENTRYPOINT first, then the tag. */
export function imageResourceRole(resource: ResourceView): Role | undefined {
    const p = resource.props;
    const entrypoint = entrypointOf(resource);
    if (entrypoint !== undefined) {
        return roleForEntrypoint(entrypoint);
    }
    const names = [p.imageName, p.name, p.targetImage, ...(Array.isArray(p.tags) ? p.tags : [])].map(knownString);
    for (const name of names) {
        const role = name ? roleForTag(parseImageName(name).tag) : undefined;
        if (role) {
            return role;
        }
    }
    return undefined;
}

/** A docker.Image as the role image of the role whose container runs it, whatever its tag says. */
function roleImageFor(resource: ResourceView, role: Role): RoleImage {
    return {
        role,
        tag: tagOf(role),
        urn: resource.urn,
        name: resource.name,
        identifiedBy: "imageName",
        digest: digestState(resource.props.repoDigest),
        push: pushSetting(resource.props),
        build: buildFingerprint(resource.props),
    };
}

/** Nothing of a docker.Image is known: a provider whose own config is unknown answers a preview with {}. */
function unreadable(image: ResourceView): boolean {
    return ["imageName", "build", "repoDigest"].every((key) => isMissing(image.props[key]) || isUnknown(image.props[key]));
}

function describe(resource: ResourceView): string {
    return `${resource.type} "${resource.name}"`;
}

/** The images the stack last recorded per role (`images` output of the stack itself), if it did. */
export function lastRecorded(resources: readonly ResourceView[], stackName?: string): Partial<Record<Role, string>> | undefined {
    const reference = resources.find(
        (r) =>
            r.type === STACK_REFERENCE_TYPE &&
            r.urn.includes(`${LAST_RUN_TYPE}$`) &&
            (stackName === undefined || (knownString(r.props.name) ?? "").split("/").pop() === stackName),
    );
    if (!reference) {
        return undefined;
    }
    const unwrap = (v: unknown): unknown => knownObject(v)?.value !== undefined && Object.keys(knownObject(v)!).length === 2 ? knownObject(v)!.value : v;
    const images = knownObject(unwrap(knownObject(unwrap(reference.props.outputs))?.images));
    if (!images) {
        return undefined;
    }
    const recorded: Partial<Record<Role, string>> = {};
    for (const role of ROLES) {
        const image = knownString(unwrap(images[role]));
        if (image) {
            recorded[role] = image;
        }
    }
    return recorded;
}

/** The state of one role container, given the stack's image resources by URN. */
function roleState(
    role: Role,
    taskDefinition: ResourceView,
    running: string | undefined,
    images: ReadonlyMap<string, ResourceView>,
    dockerImages: readonly ResourceView[],
    recorded: Partial<Record<Role, string>> | undefined,
): RoleState {
    const container = ROLE_IMAGES[role].containerName;
    const base = { role, urn: taskDefinition.urn };
    if (running !== undefined) {
        const built = dockerImages.find((image) => knownString(image.props.repoDigest) === running);
        if (built) {
            const image = roleImageFor(built, role);
            return { ...base, change: image.digest === "pushed" ? "none" : "build", image, detail: `runs ${describe(built)}` };
        }
        const last = recorded?.[role];
        if (last !== undefined && last !== running) {
            return { ...base, change: "other", detail: `its ${container} container is set to ${running}, but this stack last ran ${last} and builds no image with that digest (a hand-set digest: a rollback or a pin)` };
        }
        // The role's own docker.Image in the same repository, pushed with another digest: the
        // container runs something this stack's build is not.
        const repository = parseImageName(running).repository;
        const own = dockerImages.find(
            (image) =>
                imageResourceRole(image) === role &&
                digestState(image.props.repoDigest) === "pushed" &&
                parseImageName(knownString(image.props.repoDigest)!).repository === repository,
        );
        if (own) {
            // The image still counts as the role's for what the update phase checks (present, pushed,
            // one build): only a preview can tell the container's digest from a hand-set one.
            return { ...base, change: "other", image: roleImageFor(own, role), detail: `its ${container} container is set to ${running}, which is not the digest of this stack's ${describe(own)} (${knownString(own.props.repoDigest)})` };
        }
        return { ...base, change: "none", detail: `keeps ${running}` };
    }
    const waitsOn = (taskDefinition.propertyDependencies?.containerDefinitions ?? []).map((urn) => images.get(urn)).filter((r): r is ResourceView => r !== undefined);
    if (waitsOn.length === 0) {
        // A left-out role in a preview that creates what its definition names (a first rollout):
        // it names the image the stack last recorded, or its tag's digest in ECR, never a build.
        return { ...base, change: "none", detail: "its container definitions are not known yet and wait on no image" };
    }
    // The role's image among what the container waits on: by its ENTRYPOINT build arg first (a
    // sidecar's image tagged `latest`, or untagged, is not the WSGI image), then by its tag, then
    // the one image no role claims.
    const tiers = [
        waitsOn.filter((r) => entrypointOf(r) !== undefined && imageResourceRole(r) === role),
        waitsOn.filter((r) => entrypointOf(r) === undefined && imageResourceRole(r) === role),
        waitsOn.filter((r) => imageResourceRole(r) === undefined),
    ];
    const candidates = tiers.find((tier) => tier.length > 0) ?? [];
    if (candidates.length !== 1) {
        return {
            ...base,
            change: "unknown",
            detail: `its ${container} container waits on ${waitsOn.map(describe).join(", ")}, and none of them can be told to be the ${role} image (by its ENTRYPOINT build arg or its tag)`,
        };
    }
    const source = candidates[0];
    if (source.type !== DOCKER_IMAGE_TYPE) {
        return { ...base, change: "other", detail: `its ${container} container will run the image of ${describe(source)}, not one of this stack's docker.Image builds of the four roles` };
    }
    if (unreadable(source)) {
        return {
            ...base,
            change: "unknown",
            detail: `its ${container} container waits on ${describe(source)}, of which nothing is known in this preview (a docker provider whose own configuration is not known yet answers with nothing)`,
        };
    }
    // Waiting on an image that keeps its pushed digest (an image a --target run leaves alone) changes nothing.
    const image = roleImageFor(source, role);
    return { ...base, change: image.digest === "pushed" ? "none" : "build", image, detail: `waits on ${describe(source)}` };
}

/** The role containers of the stack, per role; empty when the stack has no task definition of a role. */
export function roleStates(resources: readonly ResourceView[], stackName?: string): Map<Role, RoleState[]> {
    const images = new Map(resources.filter((r) => (IMAGE_TYPES as readonly string[]).includes(r.type)).map((r) => [r.urn, r]));
    const dockerImages = resources.filter((r) => r.type === DOCKER_IMAGE_TYPE);
    const recorded = lastRecorded(resources, stackName);
    const states = new Map<Role, RoleState[]>();
    const add = (state: RoleState) => states.set(state.role, [...(states.get(state.role) ?? []), state]);
    for (const taskDefinition of resources.filter((r) => r.type === TASK_DEFINITION_TYPE)) {
        const parsed = parseJsonDocument(taskDefinition.props.containerDefinitions);
        if (parsed.state === "known" && Array.isArray(parsed.value)) {
            for (const container of parsed.value.map(knownObject)) {
                const role = ROLES.find((r) => ROLE_IMAGES[r].containerName === knownString(container?.name));
                if (role) {
                    add(roleState(role, taskDefinition, knownString(container?.image) ?? "", images, dockerImages, recorded));
                }
            }
            continue;
        }
        if (parsed.state !== "unknown") {
            continue;
        }
        // Its containers are not known: a role's only by its family (`<env>-<role>`). What it waits
        // on cannot say, since another app's image may well run the portal's entrypoint.sh.
        const role = familyRole(knownString(taskDefinition.props.family));
        if (role) {
            add(roleState(role, taskDefinition, undefined, images, dockerImages, recorded));
        }
    }
    return states;
}

export interface PortalRollout {
    /** The docker.Images the role containers run (or, with no role container in the stack, every role-tagged image of the portal's repositories). */
    images: RoleImage[];
    /** Per role, its containers' states; undefined when the stack has no role task definition. */
    roles: Map<Role, RoleState[]> | undefined;
}

/** What the rollout rules judge: the role containers, and the images they run. */
export function portalRollout(resources: readonly ResourceView[], stackName?: string): PortalRollout {
    const roles = roleStates(resources, stackName);
    if (roles.size === 0) {
        return { images: portalRoleImages(resources), roles: undefined };
    }
    const images = [...roles.values()].flat().flatMap((state) => (state.image ? [state.image] : []));
    const seen = new Set<string>();
    return { images: images.filter((image) => !seen.has(`${image.role} ${image.urn}`) && seen.add(`${image.role} ${image.urn}`)), roles };
}
