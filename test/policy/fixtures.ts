// Resources shaped as the engine sends them to the policy pack (see the provider notes in
// policy/images.ts): the program's resources in their preview and post-update forms, plus foreign
// resources for the "must not trip" cases and the benchmark.
import { makeUrn, secret, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { PROJECT } from "../../ops/project";
import { Role, ROLE_IMAGES, ROLES } from "../../policy/roles";
import { BUILD_CACHE_TAG, CACHE_STAGE, INLINE_CACHE_ARGS } from "../../components/roles";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

export function repoUrl(envName = "cgap-mastertest"): string {
    return `${REGISTRY}/${envName}`;
}

/** A deterministic 64-hex digest. */
export function hex64(seed: string): string {
    let h = 2166136261;
    let out = "";
    while (out.length < 64) {
        for (const c of seed + out.length) {
            h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
        }
        out += h.toString(16).padStart(8, "0");
    }
    return out.slice(0, 64);
}

export interface ImageOptions {
    stack?: string;
    envName?: string;
    appVersion?: string;
    platform?: string;
    context?: string;
    dockerfile?: string;
    contextDigest?: string;
    /** Overrides merged into build.args (ENTRYPOINT stays the role's). */
    args?: Record<string, string>;
    /** build.cacheFrom; default the program's two cache sources in the image's repository. */
    cacheFrom?: unknown;
    builderVersion?: string;
    skipPush?: boolean | string;
    parent?: string;
}

const IMAGE = "docker:index/image:Image";

function imageName(role: Role, o: ImageOptions): string {
    return `${repoUrl(o.envName)}:${ROLE_IMAGES[role].tag}`;
}

/** The cache sources the program gives every build: the build cache image and the WSGI image. */
export function cacheSources(repository: string): { images: string[] } {
    return { images: [`${repository}:${BUILD_CACHE_TAG}`, `${repository}:${ROLE_IMAGES.wsgi.tag}`] };
}

function build(role: Role | undefined, o: ImageOptions, repository = repoUrl(o.envName)): Record<string, unknown> {
    const context = o.context ?? "images";
    const args = { CGAP_VERSION: o.appVersion ?? "1.0.0", ...INLINE_CACHE_ARGS, ...(o.args ?? {}) };
    return {
        context,
        dockerfile: o.dockerfile ?? `${context}/Dockerfile`,
        contextDigest: o.contextDigest ?? hex64(`context-${o.appVersion ?? "1.0.0"}`),
        platform: o.platform ?? "linux/amd64",
        builderVersion: o.builderVersion ?? "BuilderBuildKit",
        cacheFrom: "cacheFrom" in o ? o.cacheFrom : cacheSources(repository),
        ...(role ? { args: { ...args, ENTRYPOINT: ROLE_IMAGES[role].entrypoint } } : { target: CACHE_STAGE, args }),
    };
}

function imageResource(role: Role, o: ImageOptions, props: Record<string, unknown>): LocatedResource {
    return {
        type: IMAGE,
        name: `cgap-${role}-image`,
        urn: makeUrn(o.stack ?? "mastertest", PROJECT, IMAGE, `cgap-${role}-image`, o.parent),
        parent: o.parent,
        props,
    };
}

/**
 * An image this preview builds (create or update with buildOnPreview false): the checked inputs,
 * no repoDigest.
 */
export function changingImage(role: Role, o: ImageOptions = {}): StackResource {
    return imageResource(role, o, {
        imageName: imageName(role, o),
        build: build(role, o),
        registry: { server: REGISTRY, username: "AWS", password: secret("ecr-token") },
        skipPush: o.skipPush ?? false,
        buildOnPreview: false,
    });
}

/** An image the preview leaves alone ("same"), or any image after the update: outputs only. */
export function pushedImage(role: Role, o: ImageOptions & { digestSeed?: string } = {}): StackResource {
    const name = imageName(role, o);
    const context = o.context ?? "images";
    return imageResource(role, o, {
        imageName: name,
        baseImageName: name,
        registryServer: REGISTRY,
        repoDigest: `${repoUrl(o.envName)}@sha256:${hex64(o.digestSeed ?? `${role}-${o.appVersion ?? "1.0.0"}`)}`,
        context,
        dockerfile: "Dockerfile",
        platform: o.platform ?? "linux/amd64",
    });
}

/** An image built during the preview (buildOnPreview: true): outputs with the local image ID. */
export function builtOnPreviewImage(role: Role, o: ImageOptions = {}): StackResource {
    const name = imageName(role, o);
    return imageResource(role, o, {
        imageName: name,
        baseImageName: name,
        registryServer: REGISTRY,
        repoDigest: `sha256:${hex64(`local-${role}`)}`,
        context: o.context ?? "images",
        dockerfile: "Dockerfile",
        platform: o.platform ?? "linux/amd64",
    });
}

/** The first rollout: the repository is created in the same preview, so imageName is unknown. */
export function firstRolloutImage(role: Role, o: ImageOptions = {}): StackResource {
    return imageResource(role, o, {
        imageName: UNKNOWN,
        build: build(role, o, UNKNOWN),
        registry: { server: UNKNOWN, username: UNKNOWN, password: secret(UNKNOWN) },
        skipPush: o.skipPush ?? false,
        buildOnPreview: false,
    });
}

export type ImageState = "changing" | "pushed" | "builtOnPreview" | "firstRollout" | "absent";

export function image(role: Role, state: ImageState, o: ImageOptions = {}): StackResource[] {
    switch (state) {
        case "changing":
            return [changingImage(role, o)];
        case "pushed":
            return [pushedImage(role, o)];
        case "builtOnPreview":
            return [builtOnPreviewImage(role, o)];
        case "firstRollout":
            return [firstRolloutImage(role, o)];
        case "absent":
            return [];
    }
}

/** The four role images, each in the given state (default: all changing). */
export function roleImages(states: Partial<Record<Role, ImageState>> = {}, o: ImageOptions = {}): StackResource[] {
    return ROLES.flatMap((role) => image(role, states[role] ?? "changing", o));
}

/** A resource with its URN, as the engine names it. */
export type LocatedResource = StackResource & { urn: string };

function resource(stack: string, type: string, name: string, props: Record<string, unknown>, extra: Partial<StackResource> = {}): LocatedResource {
    return { ...extra, type, name, urn: makeUrn(stack, PROJECT, type, name, extra.parent), props };
}

export const PRODUCTION_CERTIFICATE = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;

export interface InfraOptions {
    stack?: string;
    envName?: string;
    /** An ACM certificate: HTTPS listener plus an HTTP->HTTPS redirect. */
    certificateArn?: string;
    /** A preview that creates everything: ARNs and ids unknown. */
    creating?: boolean;
    /** Container images as the task definitions name them; unknown while the digests are. */
    taskImages?: Partial<Record<Role, string>>;
}

/** The rest of the rollout stack, in the shapes the program registers. */
export function infrastructure(o: InfraOptions = {}): StackResource[] {
    const stack = o.stack ?? "mastertest";
    const envName = o.envName ?? "cgap-mastertest";
    // Every stack but the development one serves HTTPS (mastertest's plain HTTP is an accepted exception).
    const certificateArn = o.certificateArn ?? (stack === "mastertest" ? undefined : PRODUCTION_CERTIFICATE);
    const known = (value: string) => (o.creating ? UNKNOWN : value);
    const arn = (service: string, rest: string) => known(`arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`);
    const out: LocatedResource[] = [];
    const add = (type: string, name: string, props: Record<string, unknown>, extra: Partial<StackResource> = {}) => {
        const r = resource(stack, type, name, props, extra);
        out.push(r);
        return r;
    };

    const root = add("pulumi:pulumi:Stack", `${PROJECT}-${stack}`, {});
    add("pulumi:providers:aws", "default_7_48_0", { region: REGION, version: "7.48.0" });
    add("pulumi:providers:docker", "default_5_2_0", { version: "5.2.0" });

    const registry = add("cgap:registry:ImageRegistry", "cgap-registry", {}, { parent: root.urn });
    const repository = add(
        "aws:ecr/repository:Repository",
        "cgap-repository",
        {
            name: envName,
            arn: arn("ecr", `repository/${envName}`),
            repositoryUrl: known(repoUrl(envName)),
            registryId: known(ACCOUNT),
            imageScanningConfiguration: { scanOnPush: true },
            imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters: [{ filter: "latest*", filterType: "WILDCARD" }],
            encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0f3c1a52-6b1e-4f4e-9a61-2a3d5e6f7a8b` }],
            forceDelete: false,
        },
        { parent: registry.urn },
    );
    add(
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "cgap-registry-lifecycle",
        {
            repository: envName,
            registryId: known(ACCOUNT),
            policy: JSON.stringify({
                rules: [
                    {
                        rulePriority: 1,
                        description: "Expire untagged images 14 days after push",
                        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 },
                        action: { type: "expire" },
                    },
                ],
            }),
        },
        { parent: registry.urn, propertyDependencies: { repository: [repository.urn] }, dependencies: [repository.urn] },
    );

    add("aws:cloudwatch/logGroup:LogGroup", "cgap-logs", { name: `/ecs/${envName}`, retentionInDays: 365 });
    add("aws:sqs/queue:Queue", "cgap-ingestion-dlq", { name: `${envName}-ingestion-queue-dlq`, sqsManagedSseEnabled: true });
    add("aws:sqs/queue:Queue", "cgap-ingestion-queue", {
        name: `${envName}-ingestion-queue`,
        visibilityTimeoutSeconds: 10800,
        messageRetentionSeconds: 604800,
        receiveWaitTimeSeconds: 20,
        sqsManagedSseEnabled: true,
    });

    const cluster = add("aws:ecs/cluster:Cluster", "cgap-cluster", {
        name: envName,
        arn: arn("ecs", `cluster/${envName}`),
        settings: [{ name: "containerInsights", value: "enabled" }],
    });
    add("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "cgap-capacity", {
        clusterName: envName,
        capacityProviders: ["FARGATE", "FARGATE_SPOT"],
    });

    const assumeEcsTasks = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const executionRole = add("aws:iam/role:Role", "cgap-execution-role", {
        name: `${envName}-execution`,
        arn: known(`arn:aws:iam::${ACCOUNT}:role/${envName}-execution`),
        assumeRolePolicy: assumeEcsTasks,
    });
    add("aws:iam/rolePolicy:RolePolicy", "cgap-execution-policy", {
        role: `${envName}-execution`,
        policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
                // ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only resource.
                { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                {
                    Effect: "Allow",
                    Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    Resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${envName}`,
                },
                {
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/${envName}:*`,
                },
            ],
        }),
    }, { dependencies: [executionRole.urn] });
    const taskRole = add("aws:iam/role:Role", "cgap-task-role", {
        name: `${envName}-task`,
        assumeRolePolicy: assumeEcsTasks,
    });
    add("aws:iam/rolePolicy:RolePolicy", "cgap-task-policy", {
        role: `${envName}-task`,
        // Unknown in a preview that creates the queues it names.
        policy: o.creating
            ? UNKNOWN
            : JSON.stringify({
                  Version: "2012-10-17",
                  Statement: [
                      {
                          Effect: "Allow",
                          Action: "secretsmanager:GetSecretValue",
                          Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${envName}-identity-*`,
                      },
                      {
                          Effect: "Allow",
                          Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage", "sqs:GetQueueAttributes"],
                          Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${envName}-*`,
                      },
                  ],
              }),
    }, { dependencies: [taskRole.urn] });

    const specs: Record<Role, { family: string; container: string; prefix: string; cpu: string; memory: string }> = {
        wsgi: { family: "CGAPWSGI", container: "WSGI", prefix: "cgap-wsgi", cpu: "256", memory: "512" },
        indexer: { family: "CGAPIndexer", container: "Indexer", prefix: "cgap-indexer", cpu: "256", memory: "512" },
        ingester: { family: "CGAPIngester", container: "Ingester", prefix: "cgap-ingester", cpu: "512", memory: "1024" },
        deployment: { family: "CGAPDeployment", container: "DeploymentAction", prefix: "cgap-deployment", cpu: "256", memory: "512" },
    };
    const taskDefinitions = {} as Record<Role, LocatedResource>;
    for (const role of ROLES) {
        const spec = specs[role];
        const image = o.taskImages?.[role] ?? `${repoUrl(envName)}@sha256:${hex64(`${role}-1.0.0`)}`;
        taskDefinitions[role] = add("aws:ecs/taskDefinition:TaskDefinition", `cgap-${role}`, {
            family: spec.family,
            arn: arn("ecs", `task-definition/${spec.family}:1`),
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: spec.cpu,
            memory: spec.memory,
            executionRoleArn: known(`arn:aws:iam::${ACCOUNT}:role/${envName}-execution`),
            taskRoleArn: known(`arn:aws:iam::${ACCOUNT}:role/${envName}-task`),
            containerDefinitions:
                image === UNKNOWN
                    ? UNKNOWN
                    : JSON.stringify([
                          {
                              name: spec.container,
                              image,
                              essential: true,
                              user: "nginx",
                              portMappings: role === "wsgi" ? [{ containerPort: 8000, protocol: "tcp" }] : [],
                              environment: [{ name: "IDENTITY", value: `${envName}-identity` }],
                              logConfiguration: {
                                  logDriver: "awslogs",
                                  options: {
                                      "awslogs-group": `/ecs/${envName}`,
                                      "awslogs-region": REGION,
                                      "awslogs-stream-prefix": spec.prefix,
                                  },
                              },
                          },
                      ]),
        });
    }

    const alb = add("aws:lb/loadBalancer:LoadBalancer", "cgap-alb", {
        name: `${envName}-alb`,
        arn: arn("elasticloadbalancing", `loadbalancer/app/${envName}-alb/50dc6c495c0c9188`),
        loadBalancerType: "application",
        internal: false,
        dropInvalidHeaderFields: true,
        enableDeletionProtection: true,
        subnets: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
    });
    const targetGroup = add("aws:lb/targetGroup:TargetGroup", "cgap-wsgi-tg", {
        arn: arn("elasticloadbalancing", `targetgroup/${envName}-wsgi/73e2d6bc24d8a067`),
        port: 8000,
        protocol: "HTTP",
        targetType: "ip",
        healthCheck: { path: "/health?format=json", interval: 60, timeout: 10, matcher: "200" },
    });
    const albArn = alb.props.arn;
    const listenerLinks = { propertyDependencies: { loadBalancerArn: [alb.urn] }, dependencies: [alb.urn] };
    if (certificateArn) {
        add("aws:lb/listener:Listener", "cgap-https", {
            loadBalancerArn: albArn,
            port: 443,
            protocol: "HTTPS",
            certificateArn,
            sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.props.arn }],
        }, listenerLinks);
        add("aws:lb/listener:Listener", "cgap-http", {
            loadBalancerArn: albArn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
        }, listenerLinks);
    } else {
        add("aws:lb/listener:Listener", "cgap-http", {
            loadBalancerArn: albArn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.props.arn }],
        }, listenerLinks);
    }

    const counts: Record<Role, number> = { wsgi: 8, indexer: 4, ingester: 1, deployment: 0 };
    for (const role of ROLES) {
        if (role === "deployment") {
            continue;
        }
        add("aws:ecs/service:Service", `cgap-${role}-service`, {
            name: `${envName}-${role}`,
            cluster: cluster.props.arn,
            taskDefinition: taskDefinitions[role].props.arn,
            desiredCount: counts[role],
            capacityProviderStrategies: [{ capacityProvider: role === "ingester" ? "FARGATE" : "FARGATE_SPOT", weight: 1 }],
            platformVersion: "LATEST",
            networkConfiguration: {
                subnets: ["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"],
                securityGroups: ["sg-0a1b2c3d4e5f60005"],
                assignPublicIp: false,
            },
            deploymentCircuitBreaker: { enable: true, rollback: true },
            loadBalancers:
                role === "wsgi"
                    ? [{ targetGroupArn: targetGroup.props.arn, containerName: "WSGI", containerPort: 8000 }]
                    : [],
            waitForSteadyState: role === "wsgi",
        });
    }
    return out;
}

/**
 * The build cache image (the Dockerfile's build stage, pushed to its own tag) in the form the
 * engine sends it: being built, or unchanged (outputs only), or built in a first rollout.
 */
export function buildCacheImage(state: Exclude<ImageState, "absent" | "builtOnPreview">, o: ImageOptions = {}): StackResource {
    const name = "cgap-build-cache";
    const located = { type: IMAGE, name, urn: makeUrn(o.stack ?? "mastertest", PROJECT, IMAGE, name, o.parent), parent: o.parent };
    const imageName = `${repoUrl(o.envName)}:${BUILD_CACHE_TAG}`;
    if (state === "pushed") {
        const digest = `${repoUrl(o.envName)}@sha256:${hex64(`cache-${o.appVersion ?? "1.0.0"}`)}`;
        const outputs = { imageName, baseImageName: imageName, registryServer: REGISTRY, repoDigest: digest };
        return { ...located, props: { ...outputs, context: o.context ?? "images", dockerfile: "Dockerfile", platform: o.platform ?? "linux/amd64" } };
    }
    const first = state === "firstRollout";
    return {
        ...located,
        props: {
            imageName: first ? UNKNOWN : imageName,
            build: build(undefined, o, first ? UNKNOWN : repoUrl(o.envName)),
            registry: first ? { server: UNKNOWN, username: UNKNOWN, password: secret(UNKNOWN) } : { server: REGISTRY, username: "AWS", password: secret("ecr-token") },
            skipPush: false,
            buildOnPreview: false,
        },
    };
}

/** The state the build cache image is in when the role images are in the given states. */
function buildCacheState(states: Partial<Record<Role, ImageState>>): ImageState {
    const all = ROLES.map((role) => states[role] ?? "changing");
    if (all.includes("firstRollout")) {
        return "firstRollout";
    }
    if (all.includes("changing") || all.includes("builtOnPreview")) {
        return "changing";
    }
    return all.includes("pushed") ? "pushed" : "absent";
}

/**
 * The whole stack of a rollout: the four images in the given states, the build cache image the
 * program builds with them, and the infrastructure.
 */
export function rolloutStack(
    states: Partial<Record<Role, ImageState>> = {},
    o: ImageOptions & InfraOptions = {},
): StackResource[] {
    const cache = buildCacheState(states);
    const cacheImage = cache === "absent" || cache === "builtOnPreview" ? [] : [buildCacheImage(cache, o)];
    return asTheEngineSends([...infrastructure(o), ...roleImages(states, o), ...cacheImage]);
}

/**
 * Wires each role's task definition to the role image the program declares for it
 * (`cgap-<role>-image`), as the engine sends them: an image with a pushed `repoDigest` (unchanged)
 * is the image the container definitions name; one being built (or built on preview) leaves them
 * unknown, with the image (and the log group they also name) as their propertyDependencies. A
 * role without an image keeps what its task definition names (a role left out of the rollout).
 */
export function asTheEngineSends(resources: StackResource[]): StackResource[] {
    const images = new Map(
        resources.filter((r) => r.type === IMAGE && /^cgap-(.*)-image$/.test(r.name)).map((r) => [r.name.replace(/^cgap-(.*)-image$/, "$1"), r]),
    );
    const logGroup = resources.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup")?.urn;
    return resources.map((r) => {
        const role = r.type === "aws:ecs/taskDefinition:TaskDefinition" ? r.name.replace(/^cgap-/, "") : undefined;
        const image = role ? images.get(role) : undefined;
        if (!image) {
            return r;
        }
        // The program names only a pushed digest; in a preview any other (a buildOnPreview local ID)
        // leaves the reference unknown (components/imageBundle.ts, pushedRef).
        const digest = image.props.repoDigest;
        if (typeof digest === "string" && digest.includes("@sha256:") && typeof r.props.containerDefinitions === "string" && r.props.containerDefinitions !== UNKNOWN) {
            const containers = JSON.parse(r.props.containerDefinitions) as { image: string }[];
            return { ...r, props: { ...r.props, containerDefinitions: JSON.stringify(containers.map((c) => ({ ...c, image: digest }))) } };
        }
        return { ...r, props: { ...r.props, containerDefinitions: UNKNOWN }, propertyDependencies: { containerDefinitions: [image.urn!, ...(logGroup ? [logGroup] : [])] } };
    });
}

/** Resources of other kinds, including unknown-heavy and foreign docker images, for noise and load. */
export function foreignResource(i: number, stack = "mastertest"): StackResource {
    const kinds: (() => StackResource)[] = [
        () => resource(stack, "aws:s3/bucket:Bucket", `bucket-${i}`, { bucket: `cgap-files-${i}`, acl: "private", tags: { n: String(i) } }),
        () => resource(stack, "aws:sqs/queue:Queue", `queue-${i}`, { name: `q-${i}`, visibilityTimeoutSeconds: 30, arn: UNKNOWN, sqsManagedSseEnabled: UNKNOWN }),
        () =>
            resource(stack, "docker:index/image:Image", `sidecar-${i}`, {
                imageName: `${REGISTRY}/sidecar:v${i}`,
                build: { context: "sidecar", args: { ENTRYPOINT: "run.sh" } },
                repoDigest: UNKNOWN,
            }),
        () =>
            resource(stack, "aws:iam/rolePolicy:RolePolicy", `policy-${i}`, {
                role: `role-${i}`,
                policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::cgap-files-${i}/*` }] }),
            }),
        () => resource(stack, "aws:ec2/securityGroupRule:SecurityGroupRule", `rule-${i}`, { type: "ingress", fromPort: 8000, toPort: 8000, protocol: "tcp", securityGroupId: UNKNOWN, cidrBlocks: ["10.0.0.0/16"] }),
        () => resource(stack, "aws:cloudwatch/metricAlarm:MetricAlarm", `alarm-${i}`, { name: `alarm-${i}`, threshold: 80, dimensions: { ClusterName: UNKNOWN }, alarmActions: [`arn:aws:sns:us-east-1:123456789012:ops-${i}`] }),
        () => resource(stack, "random:index/randomPet:RandomPet", `pet-${i}`, { id: UNKNOWN, length: 2, keepers: UNKNOWN }),
    ];
    return kinds[i % kinds.length]();
}

/** A generated stack of exactly `size` resources: a full rollout plus foreign resources. */
export function generatedStack(size: number, stack = "mastertest"): StackResource[] {
    const base = rolloutStack({}, { stack });
    const out = base.slice(0, size);
    for (let i = 0; out.length < size; i++) {
        out.push(foreignResource(i, stack));
    }
    return out;
}

/** A role image of the same build renamed into another stack resource, e.g. a second application's. */
export function renamed(resource: StackResource, name: string, stack = "mastertest"): LocatedResource {
    return { ...resource, name, urn: makeUrn(stack, PROJECT, resource.type, name, resource.parent) };
}

/**
 * Images that are not the portal's, in the shapes a preview sends: a helper tagged `latest` and an
 * untagged sidecar (which means `latest`), both being built, in repositories of their own; and a
 * second application's four images with the portal's tags and build args, pushed to its own
 * repository, each in the given state.
 */
export function foreignImages(stack: string, secondApp: ImageState = "pushed"): StackResource[] {
    const helper = (name: string, imageName: string): LocatedResource =>
        resource(stack, IMAGE, name, {
            imageName,
            build: { context: name, dockerfile: `${name}/Dockerfile`, args: { VERSION: "2" } },
            registry: { server: REGISTRY, username: "AWS", password: secret("ecr-token") },
            skipPush: false,
            buildOnPreview: false,
        });
    return [
        helper("helper", `${REGISTRY}/cgap-helper:latest`),
        helper("sidecar", `${REGISTRY}/log-router`),
        ...ROLES.flatMap((role) => image(role, secondApp, { stack, envName: "other-app" }).map((r) => renamed(r, `other-app-${role}`, stack))),
    ];
}

/**
 * Wires each task definition to the role image it will run, as the engine sends it in a preview
 * where the container definitions wait on the push: unknown, with the image as their dependency.
 */
export function waitingOnPush(resources: StackResource[]): StackResource[] {
    const images = new Map(
        resources
            .filter((r) => r.type === IMAGE && r.name.startsWith("cgap-"))
            .map((r) => [r.name.replace(/^cgap-(.*)-image$/, "$1"), r.urn!]),
    );
    return resources.map((r) => {
        const role = r.type === "aws:ecs/taskDefinition:TaskDefinition" ? r.name.replace(/^cgap-/, "") : undefined;
        const image = role ? images.get(role) : undefined;
        return image ? { ...r, props: { ...r.props, containerDefinitions: UNKNOWN }, propertyDependencies: { containerDefinitions: [image] } } : r;
    });
}

/**
 * The program's record of its last run: a `cgap:stack:LastRun` component holding a StackReference
 * to the stack itself, whose outputs carry `images`, what each task definition ran (index.ts).
 * A StackReference's state is `name`, `outputs` and `secretOutputNames` (@pulumi/pulumi
 * stackReference.ts).
 */
export function lastRun(stack: string, images: Partial<Record<Role, string>>): LocatedResource[] {
    const component = resource(stack, "cgap:stack:LastRun", "cgap-last-run", {});
    const reference = resource(
        stack,
        "pulumi:pulumi:StackReference",
        "cgap-last-run",
        { name: `dbmi-bgm/${PROJECT}/${stack}`, outputs: { images, repositoryUrl: repoUrl() }, secretOutputNames: [] },
        { parent: component.urn },
    );
    return [component, reference];
}

/** What each role's task definition runs after a rollout of `pushedImage`s (the default digests). */
export function ranImages(o: ImageOptions = {}): Record<Role, string> {
    return Object.fromEntries(ROLES.map((role) => [role, String(pushedImage(role, o).props.repoDigest)])) as Record<Role, string>;
}

/** A task definition of the stack changed: `containers` replaces its container definitions, or `waitsOn` leaves them unknown. */
export function withTask(
    resources: StackResource[],
    role: Role,
    change: { image?: string; waitsOn?: string[]; extraContainers?: Record<string, unknown>[] },
): StackResource[] {
    return resources.map((r) => {
        if (r.type !== "aws:ecs/taskDefinition:TaskDefinition" || r.name !== `cgap-${role}`) {
            return r;
        }
        if (change.waitsOn) {
            return { ...r, props: { ...r.props, containerDefinitions: UNKNOWN }, propertyDependencies: { containerDefinitions: change.waitsOn } };
        }
        const containers = JSON.parse(String(r.props.containerDefinitions)) as Record<string, unknown>[];
        const edited = containers.map((c) => (change.image ? { ...c, image: change.image } : c));
        return { ...r, props: { ...r.props, containerDefinitions: JSON.stringify([...edited, ...(change.extraContainers ?? [])]) } };
    });
}

/** Another resource of the stack, as the engine names it. */
export function stackResource(stack: string, type: string, name: string, props: Record<string, unknown>, extra: Partial<StackResource> = {}): LocatedResource {
    return resource(stack, type, name, props, extra);
}
