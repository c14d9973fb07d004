// The two rollout rules as pure decisions over the stack's role images: no Pulumi, no I/O, so the
// tests can drive them directly and the policies stay thin.
import { compareBuilds, describeDifferences, isChanging, RoleImage } from "./images";
import { RoleState } from "./portal";
import { listTags, Role, ROLE_IMAGES, ROLES, tagOf } from "./roles";

export interface Finding {
    message: string;
    /** The resource the finding is about, when there is one. */
    urn?: string;
}

export interface RolloutContext {
    /** Change detection applies only in a preview. */
    preview: boolean;
    /** The roles the stack config's cgap:rollout names (all four when unset), where the pack can read it. */
    rollout?: readonly Role[];
    /**
     * What each role container will run (portal.ts), when the stack has role task definitions: then
     * a role changes when its container does, whatever builds or tags the image.
     */
    roles?: ReadonlyMap<Role, readonly RoleState[]>;
}

/** Whether a role changes in this preview: by its containers when they are known, else by its images. */
function changes(role: Role, images: readonly RoleImage[], context: RolloutContext): boolean {
    const states = context.roles?.get(role);
    if (context.roles !== undefined) {
        return (states ?? []).some((state) => state.change !== "none");
    }
    return images.some(isChanging);
}

/**
 * Role containers whose change this stack's build does not make, or cannot be told: a role may
 * change only to a docker.Image this stack builds (the program's one build of the four roles).
 */
function outsideTheBuild(roles: readonly Role[], context: RolloutContext, subject: string): Finding[] {
    const findings: Finding[] = [];
    for (const role of roles) {
        for (const state of context.roles?.get(role) ?? []) {
            const tag = tagOf(role);
            if (state.change === "other") {
                findings.push({
                    urn: state.urn,
                    message:
                        `${subject}: the ${role} role (${tag}) would change to an image that is not this stack's build: ${state.detail}. ` +
                        `Fix: roll the role out from source (put "${role}" in cgap:rollout, so the program builds and pushes ${tag} ` +
                        `with the other roles); to go back to an earlier version, check out that version and roll it out the same way.`,
                });
            } else if (state.change === "unknown") {
                findings.push({
                    urn: state.urn,
                    message:
                        `${subject}: what the ${role} role's ${ROLE_IMAGES[role].containerName} container will run cannot be told, so the change is refused: ${state.detail}. ` +
                        `Fix: build the role's image with the program's docker.Image on the default docker provider ` +
                        `(or create what the provider's configuration depends on first), and preview again.`,
                });
            }
        }
    }
    return findings;
}

/**
 * The fix for role images a preview leaves unchanged. When every one of them is already in
 * cgap:rollout, only `pulumi up --target` can have kept them from being rebuilt: dropping --target
 * is the fix, and adding them to cgap:rollout would change nothing.
 */
function fixForUnchanged(unchanged: readonly Role[], context: RolloutContext, addTo: string): string {
    if (context.rollout !== undefined && unchanged.every((role) => context.rollout!.includes(role))) {
        const names = unchanged.map((role) => `"${role}"`).join(", ");
        return (
            `Fix: drop --target. ${names} ${unchanged.length === 1 ? "is" : "are"} already in cgap:rollout; ` +
            `only --target kept ${listTags(unchanged)} from being rebuilt and pushed.`
        );
    }
    return addTo;
}

const ALL_TAGS = listTags(ROLES);

function byRole(images: readonly RoleImage[]): Map<Role, RoleImage[]> {
    const map = new Map<Role, RoleImage[]>();
    for (const image of images) {
        map.set(image.role, [...(map.get(image.role) ?? []), image]);
    }
    return map;
}

function digestNote(image: RoleImage): string {
    switch (image.digest) {
        case "missing":
            return "no digest yet: it will be built";
        case "unknown":
            return "its digest is not known yet: it will be built";
        case "local":
            return "its digest is a local image ID: it is being rebuilt";
        case "malformed":
            return "its digest is not a pushed <repository>@sha256:<digest>";
        default:
            return "pushed digest unchanged";
    }
}

/**
 * indexer-deployment-bundle: the indexer never runs a build the deployment task has not run.
 * Refuses an indexer image without a deployment image; in a preview, an indexer image that changes
 * while the deployment image does not; and indexer and deployment images whose visible build
 * inputs differ in anything but ENTRYPOINT. A deployment image changing alone is fine.
 */
export function judgeIndexerDeploymentBundle(images: readonly RoleImage[], context: RolloutContext): Finding[] {
    const roles = byRole(images);
    const indexer = roles.get("indexer") ?? [];
    // A deployment image that never reaches ECR (skipPush, or not known to push) does not ship with
    // the indexer, so it neither counts as present nor as changing.
    const deployment = (roles.get("deployment") ?? []).filter((image) => image.push === "push");
    const unpushed = (roles.get("deployment") ?? []).filter((image) => image.push !== "push");
    const findings: Finding[] = [];
    const indexerTag = tagOf("indexer");
    const deploymentTag = tagOf("deployment");
    const subject = "indexer-deployment-bundle";
    if (context.preview && context.roles !== undefined && changes("indexer", indexer, context)) {
        // The indexer changes only to this stack's build, and then the deployment image with it.
        const outside = outsideTheBuild(["indexer", "deployment"], context, subject);
        if (outside.length > 0) {
            return outside;
        }
    }
    if (indexer.length === 0) {
        return findings;
    }
    if (deployment.length === 0) {
        const notPushed =
            unpushed.length === 0
                ? "is not"
                : `is not pushed (${unpushed[0].push === "skip" ? "skipPush is true" : "skipPush is not known"}, so it never reaches ECR)`;
        findings.push({
            urn: indexer[0].urn,
            message:
                `The indexer image (${indexerTag}) is in this stack but the deployment image (${deploymentTag}) ${notPushed}: ` +
                `the indexer would run a build whose mappings the deployment task never created. ` +
                `Fix: add "deployment" to cgap:rollout next to "indexer" (or unset cgap:rollout to roll out all four), ` +
                `leave skipPush unset, and drop --target so that both images are built and pushed together.`,
        });
    } else if (context.preview && changes("indexer", indexer, context) && !changes("deployment", deployment, context)) {
        const indexerNote = indexer.find(isChanging) ?? indexer[0];
        findings.push({
            urn: indexer[0].urn,
            message:
                `This preview changes the indexer image (${indexerTag}: ${digestNote(indexerNote)}) ` +
                `but not the deployment image (${deploymentTag}: ${digestNote(deployment[0])}): the new indexer would ` +
                `run against data the matching deployment task never loaded. ` +
                fixForUnchanged(
                    ["deployment"],
                    context,
                    `Fix: add "deployment" to cgap:rollout next to "indexer", and drop --target so that ` +
                        `${deploymentTag} is rebuilt and pushed with ${indexerTag}.`,
                ),
        });
    }
    if (deployment.length > 0) {
        const differences = compareBuilds([...indexer, ...deployment]);
        if (differences.length > 0) {
            findings.push({
                urn: indexer[0].urn,
                message:
                    `The indexer image (${indexerTag}) and the deployment image (${deploymentTag}) must be one build ` +
                    `that differs only in ENTRYPOINT, but their build inputs differ: ${describeDifferences(differences)}. ` +
                    `Fix: build both from the same context, Dockerfile, platform, app version, repository, builder and cache sources ` +
                    `(the program's image settings apply to all four roles), and roll them out together.`,
            });
        }
    }
    return findings;
}

/**
 * production-rollout-complete: a production stack rolls out all four role images together.
 * Refuses an absent role image or one set not to push; in a preview, some role images changing
 * while others do not; and role images whose visible build inputs differ in anything but
 * ENTRYPOINT. A preview that changes none of them passes.
 */
export function judgeProductionRollout(
    images: readonly RoleImage[],
    context: RolloutContext & { stackName: string; why: string },
): Finding[] {
    const roles = byRole(images);
    const findings: Finding[] = [];
    const stack = `The production stack "${context.stackName}" (${context.why})`;

    const absent = ROLES.filter((role) => !roles.has(role));
    if (absent.length > 0) {
        findings.push({
            message:
                `${stack} must carry all four role images (${ALL_TAGS}), but ${listTags(absent)} ` +
                `${absent.length === 1 ? "is" : "are"} absent. ` +
                `Fix: set cgap:rollout to all four roles (or unset it: the default is all four), ` +
                `drop --target, and push all four tags.`,
        });
    }

    const notPushed = images.filter((image) => image.push !== "push" || (!context.preview && image.digest !== "pushed"));
    if (notPushed.length > 0) {
        const roleList = [...new Set(notPushed.map((image) => image.role))];
        const why = notPushed.some((image) => image.push === "unknown")
            ? "skipPush is not known, which counts as not pushed"
            : notPushed.some((image) => image.push === "skip")
              ? "skipPush is true"
              : "no pushed digest after the update";
        findings.push({
            urn: notPushed[0].urn,
            message:
                `${stack} must push every role image, but ${listTags(roleList)} ` +
                `${roleList.length === 1 ? "is" : "are"} not pushed (${why}). ` +
                `Fix: leave skipPush unset or false so that all four tags (${ALL_TAGS}) are pushed to the registry.`,
        });
    }

    if (context.preview) {
        findings.push(...outsideTheBuild(ROLES, context, stack));
        const present = ROLES.filter((role) => roles.has(role));
        const changing = present.filter((role) => changes(role, roles.get(role)!, context));
        const unchanged = present.filter((role) => !changing.includes(role));
        if (changing.length > 0 && unchanged.length > 0) {
            findings.push({
                urn: roles.get(unchanged[0])![0].urn,
                message:
                    `${stack} must roll out all four role images together, but this preview changes ` +
                    `${listTags(changing)} and leaves ${listTags(unchanged)} unchanged. ` +
                    fixForUnchanged(
                        unchanged,
                        context,
                        `Fix: add ${unchanged.map((role) => `"${role}"`).join(", ")} to cgap:rollout (or unset it: the ` +
                            `default is all four), drop --target, and push all four tags.`,
                    ),
            });
        }
    }

    const differences = compareBuilds(images);
    if (differences.length > 0) {
        findings.push({
            message:
                `${stack} must run one build of the portal in all four roles, differing only in ENTRYPOINT, ` +
                `but the role images' build inputs differ: ${describeDifferences(differences)}. ` +
                `Fix: build all four tags from the same context, Dockerfile, platform, app version, repository, builder and cache sources, ` +
                `and push all four together.`,
        });
    }
    return findings;
}
