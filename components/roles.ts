// The one place in the program that knows the four roles of the CGAP portal image.
// Every other file asks this table; the policy pack keeps its own copy (it is published on its
// own) and a test checks that the two agree.

export const ROLES = ["wsgi", "indexer", "ingester", "deployment"] as const;
export type Role = (typeof ROLES)[number];

/** Where ECS places a task: on Fargate Spot or on on-demand Fargate. */
export type Capacity = "spot" | "on-demand";

/**
 * One entry of an ECS capacity provider strategy: ECS first places `base` tasks on this capacity,
 * then spreads the rest over the entries in proportion to their `weight`.
 */
export interface CapacityShare {
    capacity: Capacity;
    base: number;
    weight: number;
}

/** A role's capacity provider strategy, at most one entry per capacity, in the order given. */
export type CapacityStrategy = CapacityShare[];

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
    capacity: CapacityStrategy;
}

/** All of a role's tasks on one capacity: what `capacity: spot` (or `on-demand`) means. */
export function only(capacity: Capacity): CapacityStrategy {
    return [{ capacity, base: 0, weight: 1 }];
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
    /**
     * Seconds between ECS's SIGTERM and its SIGKILL (the container's stopTimeout; Fargate allows at
     * most 120, and a Spot reclaim gives two minutes' notice). See docs/operating.md, *A clean stop*.
     */
    stopTimeoutSeconds: number;
    /** Default sizing: see the comment on each role and the sizing table in docs/rolling-out.md. */
    defaults: SizingDefaults;
    /** What a stack with `environment: production` gets instead, field by field. */
    productionDefaults?: Partial<SizingDefaults>;
}

export const ROLE_SPECS: Readonly<Record<Role, RoleSpec>> = {
    wsgi: {
        tag: "latest",
        entrypoint: "entrypoint.sh",
        containerName: "WSGI",
        logStreamPrefix: "cgap-wsgi",
        hasService: true,
        // In a rolling deployment or scale-in ECS drains the task from the target group first
        // (WSGI_DEREGISTRATION_DELAY_SECONDS) and only then sends SIGTERM; on a Spot reclaim both
        // start together, and the drain must end before the task is killed.
        stopTimeoutSeconds: 120,
        // Five pserve workers, as cgap-portal v15.6.0 runs them under supervisord
        // (deploy/docker/production/supervisord.conf; its nginx.conf "assumes 4 vCPU"); here
        // images/entrypoint.sh starts and restarts them itself, without supervisord. Each worker
        // kills itself past 450 MB RSS (base.ini [filter:memlimit] rss_limit, encoded/memlimit.py),
        // so 5 x 450 MB plus nginx need well over 2 GiB: 4 vCPU / 8 GiB is
        // 4dn-cloud-infra's ecs_portal_task default, and its 2 tasks (ecs_portal_service) serve
        // with the same 8 busy workers the old 8 single-process 256/512 tasks had.
        defaults: { count: 2, cpu: 4096, memory: 8192, capacity: only("spot") },
        // A Spot reclaim can take many tasks at once: production keeps two on-demand tasks behind
        // the load balancer whatever Spot does, and runs the rest on Spot.
        productionDefaults: {
            capacity: [
                { capacity: "on-demand", base: 2, weight: 0 },
                { capacity: "spot", base: 0, weight: 1 },
            ],
        },
    },
    indexer: {
        tag: "latest-indexer",
        entrypoint: "entrypoint_indexer.sh",
        containerName: "Indexer",
        logStreamPrefix: "cgap-indexer",
        hasService: true,
        // The most Fargate allows for the es-index-data run in progress; what it has not deleted
        // from the indexer queues comes back after their visibility timeout (600 s, snovault
        // 11.19.0 elasticsearch/indexer_queue.py) and is indexed again.
        stopTimeoutSeconds: 120,
        defaults: { count: 4, cpu: 256, memory: 512, capacity: only("spot") },
    },
    ingester: {
        tag: "latest-ingester",
        entrypoint: "entrypoint_ingester.sh",
        containerName: "Ingester",
        logStreamPrefix: "cgap-ingester",
        hasService: true,
        // The ingestion listener (snovault 11.19.0 ingestion/ingestion_listener.py) has no SIGTERM
        // handler and deletes a message only after processing it; a submission can take hours,
        // so it is left to the queue: the message is received again after the visibility
        // timeout (21600 s, the datastore's queue and a created one alike; components/queues.ts),
        // up to 3 times before the dead-letter queue of a created queue. ECS's default of 30 s.
        stopTimeoutSeconds: 30,
        defaults: { count: 1, cpu: 512, memory: 1024, capacity: only("on-demand") },
    },
    deployment: {
        tag: "latest-deployment",
        entrypoint: "entrypoint_deployment.sh",
        containerName: "DeploymentAction",
        logStreamPrefix: "cgap-deployment",
        hasService: false,
        stopTimeoutSeconds: 120,
        // Loads the whole app and the inserts in one process (load-data, create-mapping-on-deploy):
        // 4dn-cloud-infra ecs.py DEFAULT_DEPLOYMENT_CPU/MEMORY are 1024 / 2048. On-demand, unlike what
        // ran: a Spot reclaim in the middle of create-mapping-on-deploy or a data load leaves the
        // indexes or the data half-done (see docs/operating.md, *When a rollout fails*).
        defaults: { count: 1, cpu: 1024, memory: 2048, capacity: only("on-demand") },
    },
};

/**
 * How long the ALB keeps a draining WSGI task's requests in flight (the target group's
 * deregistration delay): the ALB's default idle timeout, 60 s, past which it would cut an idle
 * request anyway, and well inside the 120 s a Spot reclaim leaves.
 */
export const WSGI_DEREGISTRATION_DELAY_SECONDS = 60;

/**
 * The Dockerfile stage that holds the heavy work (clone, poetry install, front-end build). It is
 * pushed on its own, as the build cache image, because an image's inline cache covers only the
 * layers of its final stage (BuildKit exports inline cache in min mode only), so the role images
 * alone can never hand this stage's layers to a fresh runner.
 */
export const CACHE_STAGE = "build";

/**
 * Tag of the build cache image. It moves on every build, so it must match the repository's movable
 * tag filter (`latest*`): every other tag is immutable and a second push to it would fail.
 */
export const BUILD_CACHE_TAG = "latest-build-cache";

/**
 * Build args BuildKit reads itself (no Dockerfile declares them): BUILDKIT_INLINE_CACHE=1 makes the
 * Docker daemon export inline cache metadata into the pushed image's config, so that a later
 * build can use the image as a cache source (moby/moby builder/builder-next/builder.go).
 */
export const INLINE_CACHE_ARGS: Readonly<Record<string, string>> = { BUILDKIT_INLINE_CACHE: "1" };

/** The port nginx listens on inside every image; the ALB target group forwards to it. */
export const CONTAINER_PORT = 8000;

/**
 * The unprivileged user the image runs as (images/Dockerfile: `USER nginx`). Task definitions name
 * it too: Security Hub's ECS.20 reads the container definition's `user`, not the image's.
 */
export const IMAGE_USER = "nginx";

export function isRole(value: string): value is Role {
    return (ROLES as readonly string[]).includes(value);
}

/**
 * Whether Application Auto Scaling manages the role's service: its sizing leaves room to move and it
 * is not stopped. `count: 0` stops a service whatever `min`/`max` say: an autoscaled service would
 * scale out again on the first message in the queues it shares with another stack (a cut-over, the
 * way back), and its `desiredCount` is in `ignoreChanges`, so `pulumi up` would never set it to 0.
 */
export function isAutoscaled(role: Role, sizing: RoleSizing): boolean {
    return ROLE_SPECS[role].hasService && sizing.count > 0 && sizing.max > sizing.min;
}

/** Whether a strategy can place any task on Fargate Spot (an entry there with a base or a weight). */
export function runsOnSpot(strategy: CapacityStrategy): boolean {
    return strategy.some((s) => s.capacity === "spot" && (s.base > 0 || s.weight > 0));
}

export type CapacityProviderName = "FARGATE_SPOT" | "FARGATE";

/** ECS capacity provider name for a capacity choice. */
export function capacityProvider(capacity: Capacity): CapacityProviderName {
    return capacity === "spot" ? "FARGATE_SPOT" : "FARGATE";
}

/** The strategy as ECS takes it (`capacityProviderStrategies` of a service, or RunTask's). */
export function capacityProviderStrategy(
    strategy: CapacityStrategy,
): { capacityProvider: CapacityProviderName; base: number; weight: number }[] {
    return strategy.map((s) => ({ capacityProvider: capacityProvider(s.capacity), base: s.base, weight: s.weight }));
}

/**
 * The build args the program passes for a role: exactly the ARGs `images/Dockerfile` declares
 * (a test compares them). Only ENTRYPOINT differs between the four images.
 */
export function buildArgs(role: Role, appVersion: string): Record<string, string> {
    return { ...sharedBuildArgs(appVersion), ENTRYPOINT: ROLE_SPECS[role].entrypoint };
}

/** The build args that are the same for every role: all the Dockerfile's `build` stage reads. */
export function sharedBuildArgs(appVersion: string): Record<string, string> {
    return { CGAP_VERSION: appVersion };
}
