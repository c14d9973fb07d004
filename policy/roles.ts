// The four roles of the CGAP portal image, as the policy pack knows them. The pack is published
// on its own, so it keeps its own copy of the program's role table (components/roles.ts); a test
// checks that the two agree.

export const ROLES = ["wsgi", "indexer", "ingester", "deployment"] as const;
export type Role = (typeof ROLES)[number];

export interface RoleImageSpec {
    /** The ECR tag the role's image is pushed to. */
    tag: string;
    /** The `ENTRYPOINT` build arg that selects the role's script. */
    entrypoint: string;
    /** The container that runs the role in its ECS task definition. */
    containerName: string;
}

export const ROLE_IMAGES: Readonly<Record<Role, RoleImageSpec>> = {
    wsgi: { tag: "latest", entrypoint: "entrypoint.sh", containerName: "WSGI" },
    indexer: { tag: "latest-indexer", entrypoint: "entrypoint_indexer.sh", containerName: "Indexer" },
    ingester: { tag: "latest-ingester", entrypoint: "entrypoint_ingester.sh", containerName: "Ingester" },
    deployment: { tag: "latest-deployment", entrypoint: "entrypoint_deployment.sh", containerName: "DeploymentAction" },
};

/** The build arg that differs between the four images, and only it. */
export const ROLE_BUILD_ARG = "ENTRYPOINT";

export function roleForTag(tag: string): Role | undefined {
    return ROLES.find((role) => ROLE_IMAGES[role].tag === tag);
}

export function roleForEntrypoint(entrypoint: string): Role | undefined {
    return ROLES.find((role) => ROLE_IMAGES[role].entrypoint === entrypoint);
}

export function tagOf(role: Role): string {
    return ROLE_IMAGES[role].tag;
}

/** "latest-indexer and latest-deployment", for messages. */
export function listTags(roles: readonly Role[]): string {
    const tags = roles.map(tagOf);
    if (tags.length <= 1) {
        return tags.join("");
    }
    return `${tags.slice(0, -1).join(", ")} and ${tags[tags.length - 1]}`;
}
