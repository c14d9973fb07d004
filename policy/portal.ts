// Which role images are the portal's. A tag alone cannot say: a helper image tagged `latest`, an
// untagged sidecar (which means `latest`) or a second application pushing the same four tags to
// its own repository would trip the rollout rules, or worse, satisfy them. The portal's images are
// the ones in the repository this stack runs its roles from, and the pack learns that repository
// from what the stack wires into its ECS task definitions, not from an ECR repository resource
// (the stack may create the repository, import it, or only look it up):
// - a task definition whose container definitions are known names, for each role container
//   (WSGI, Indexer, Ingester, DeploymentAction), the image it runs: `<repository>@sha256:...`;
// - one whose container definitions are not known yet (a rolled-out role in a preview: they wait
//   on the digest the push will report) depends on the role image it will run; the engine sends
//   that as the property's dependencies, and the image's ENTRYPOINT (or, for outputs only, its tag)
//   says it is a role image.
// Images in any other repository are foreign: they neither trip nor satisfy a rule. So pushing the
// deployment image to another repository does not ship it with the indexer, and wiring a task
// definition to that other repository makes it one of the portal's, where the rules then see two
// repositories in one build. When nothing tells the repository (no task definitions, or a first
// rollout where every image reference is unknown), every role-tagged image counts, as before:
// the gate fails closed.
import { DOCKER_IMAGE_TYPE, parseImageName, ResourceView, RoleImage, roleImagesOf } from "./images";
import { knownObject, knownString, parseJsonDocument } from "./props";
import { ROLE_BUILD_ARG, ROLE_IMAGES, roleForEntrypoint, roleForTag, ROLES } from "./roles";

export const TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition";

/** The resource types the rollout rules read. */
export const ROLLOUT_TYPES = [DOCKER_IMAGE_TYPE, TASK_DEFINITION_TYPE] as const;

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
