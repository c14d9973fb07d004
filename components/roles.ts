// The one place in the program that knows the four roles of the CGAP portal image.
// Every other file asks this table; the policy pack keeps its own copy (it is published on its
// own) and a test checks that the two agree.

export const ROLES = ["wsgi", "indexer", "ingester", "deployment"] as const;
export type Role = (typeof ROLES)[number];

/** How ECS places a role's tasks: on Fargate Spot or on on-demand Fargate. */
export type Capacity = "spot" | "on-demand";

export interface RoleSizing {
    /** Desired task count of the role's service; the deployment role has no service and runs one task on demand. */
    count: number;
    /**
     * Bounds Application Auto Scaling keeps the service's task count within; `count` is where it
     * starts. Both default to `count`: a service scales only when the stack config opens a range.
     */
    min: number;
    max: number;
    cpu: number;
    memory: number;
    capacity: Capacity;
}

/** What the role table states; `min` and `max` follow the stack's `count` unless set. */
export type SizingDefaults = Omit<RoleSizing, "min" | "max">;

export interface RoleSpec {
    /** ECR tag the role's image is pushed to. */
    tag: string;
    /** Script copied in as the image's entrypoint: the `ENTRYPOINT` build arg. */
    entrypoint: string;
    /** Container name inside the task definition, as it ran in production. */
    containerName: string;
    /** awslogs stream prefix. */
    logStreamPrefix: string;
    /** Whether the role runs as a long-lived ECS service (the deployment role is a one-shot task). */
    hasService: boolean;
    /** Default sizing: see the comment on each role and the README's sizing table. */
    defaults: SizingDefaults;
}

export const ROLE_SPECS: Readonly<Record<Role, RoleSpec>> = {
    wsgi: {
        tag: "latest",
        entrypoint: "entrypoint.sh",
        containerName: "WSGI",
        logStreamPrefix: "cgap-wsgi",
        hasService: true,
        // Five pserve workers under supervisord, as cgap-portal v15.6.0 runs them
        // (deploy/docker/production/supervisord.conf; its nginx.conf "assumes 4 vCPU"). Each worker
        // kills itself past 450 MB RSS (base.ini [filter:memlimit] rss_limit, encoded/memlimit.py),
        // so 5 x 450 MB plus nginx and supervisord need well over 2 GiB: 4 vCPU / 8 GiB is
        // 4dn-cloud-infra's ecs_portal_task default, and its 2 tasks (ecs_portal_service) serve
        // with the same 8 busy workers the old 8 single-process 256/512 tasks had.
        defaults: { count: 2, cpu: 4096, memory: 8192, capacity: "spot" },
    },
    indexer: {
        tag: "latest-indexer",
        entrypoint: "entrypoint_indexer.sh",
        containerName: "Indexer",
        logStreamPrefix: "cgap-indexer",
        hasService: true,
        defaults: { count: 4, cpu: 256, memory: 512, capacity: "spot" },
    },
    ingester: {
        tag: "latest-ingester",
        entrypoint: "entrypoint_ingester.sh",
        containerName: "Ingester",
        logStreamPrefix: "cgap-ingester",
        hasService: true,
        defaults: { count: 1, cpu: 512, memory: 1024, capacity: "on-demand" },
    },
    deployment: {
        tag: "latest-deployment",
        entrypoint: "entrypoint_deployment.sh",
        containerName: "DeploymentAction",
        logStreamPrefix: "cgap-deployment",
        hasService: false,
        // Loads the whole app and the inserts in one process (load-data, create-mapping-on-deploy):
        // 4dn-cloud-infra ecs.py DEFAULT_DEPLOYMENT_CPU/MEMORY are 1024 / 2048.
        defaults: { count: 1, cpu: 1024, memory: 2048, capacity: "spot" },
    },
};

/** The port nginx listens on inside every image; the ALB target group forwards to it. */
export const CONTAINER_PORT = 8000;

export function isRole(value: string): value is Role {
    return (ROLES as readonly string[]).includes(value);
}

/** Whether Application Auto Scaling manages the role's service: its sizing leaves room to move. */
export function isAutoscaled(role: Role, sizing: RoleSizing): boolean {
    return ROLE_SPECS[role].hasService && sizing.max > sizing.min;
}

/** ECS capacity provider name for a capacity choice. */
export function capacityProvider(capacity: Capacity): "FARGATE_SPOT" | "FARGATE" {
    return capacity === "spot" ? "FARGATE_SPOT" : "FARGATE";
}

/**
 * The build args the program passes for a role: exactly the ARGs `images/Dockerfile` declares
 * (a test compares them). Only ENTRYPOINT differs between the four images.
 */
export function buildArgs(role: Role, appVersion: string): Record<string, string> {
    return { CGAP_VERSION: appVersion, ENTRYPOINT: ROLE_SPECS[role].entrypoint };
}
