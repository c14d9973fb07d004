import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Environment, Platform, PLATFORMS } from "./config";
import { capacityProviderStrategy, CONTAINER_PORT, IMAGE_USER, isAutoscaled, Role, ROLE_SPECS, ROLES, RoleSizing } from "./roles";
import { TaskRoles, TaskRolesArgs } from "./taskRoles";

/** What the services pass on to their task roles, as TaskRolesArgs documents it. */
type TaskRoleInputs = Pick<
    TaskRolesArgs,
    "envName" | "identityResource" | "repositoryArn" | "ingestionQueueArn" | "deadLetterQueueArn" | "dataBuckets" | "searchDomainArn" | "globalEnvBucket" | "s3KmsKeyArn"
>;

export interface PortalServicesArgs extends TaskRoleInputs {
    environment: Environment;
    /** The identity secret (name or ARN) every container gets as IDENTITY (identityResource is its IAM resource). */
    identity: pulumi.Input<string>;
    sizing: Record<Role, RoleSizing>;
    /** Digest-pinned image reference per role. */
    images: Record<Role, pulumi.Input<string>>;
    /**
     * Roles left out of this rollout: their task definitions keep the container definitions they
     * have now, whatever `images` says (see `keepWhatRuns`).
     */
    keepRunning: readonly Role[];
    /** Every image this rollout pushes: no service changes before all of them are pushed. */
    pushes: pulumi.Resource[];
    platform: Platform;
    indexerIntervalSeconds: number;
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Every task's security groups: the stack's container group and any the network's tasks must join. */
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Where WSGI registers its tasks, and the listeners that must exist first. */
    wsgiTargetGroupArn: pulumi.Input<string>;
    listeners: pulumi.Resource[];
    /** CloudWatch alarms that roll a WSGI deployment back. */
    wsgiDeploymentAlarmNames: pulumi.Input<string>[];
    /** The portal's public URL: load-access-keys writes it into the access keys it makes. */
    portalUrl: pulumi.Input<string>;
    /** Roles whose services accept ECS Exec sessions. */
    exec: Role[];
}

export interface CapacityProviderStrategy {
    capacityProvider: string;
    base?: number;
    weight?: number;
}

/**
 * Whether updating a service to `desired` must force a new deployment: only when the service
 * exists (`live` is what ECS runs now) with another capacity provider strategy.
 *
 * Why not always: the aws provider (terraform-provider-aws internal/service/ecs/service.go,
 * resourceServiceUpdate) sends `ForceNewDeployment: d.Get("force_new_deployment")` with every
 * UpdateService, so a service that always forces would replace all its running tasks on a plain
 * desiredCount change. `triggers` does not help: it only matters together with forceNewDeployment
 * (triggersCustomizeDiff clears it otherwise), and then the same UpdateService forces again.
 * Why at all: ECS refuses a changed strategy without a forced deployment ("you must force a new
 * deployment"), and the provider checks first: capacityProviderStrategyCustomizeDiff fails the
 * preview with "force_new_deployment should be true when capacity_provider_strategy is being
 * updated" (provider 6.x, which @pulumi/aws 7 is built on; 5.x replaced the service instead).
 */
export function mustForceNewDeployment(
    live: readonly CapacityProviderStrategy[] | undefined,
    desired: readonly CapacityProviderStrategy[],
): boolean {
    if (live === undefined) {
        return false; // a new service: CreateService takes the strategy as it is
    }
    const normal = (strategies: readonly CapacityProviderStrategy[]) =>
        strategies
            .map((s) => `${s.capacityProvider}:${s.base ?? 0}:${s.weight ?? 0}`)
            .sort()
            .join(",");
    return normal(live) !== normal(desired);
}

/** Log retention, as the ECS stack ran it. */
const LOG_RETENTION_DAYS = 365;

/**
 * The ECS side of the portal: the cluster, one log group, a task definition per role, and a service
 * for each long-running role. The deployment role gets a task definition only: it runs once per
 * rollout, on demand.
 */
export class PortalServices extends pulumi.ComponentResource {
    readonly cluster: aws.ecs.Cluster;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly taskDefinitions: Record<Role, aws.ecs.TaskDefinition>;
    /** The role the app's own AWS calls run with. */
    readonly taskRoleArn: pulumi.Output<string>;
    readonly services: Partial<Record<Role, aws.ecs.Service>> = {};
    /** ECS service name per long-running role. */
    readonly serviceNames: Partial<Record<Role, pulumi.Output<string>>> = {};
    /** The image each role's task definition names, as the engine recorded it: what the role runs. */
    readonly runningImages: Record<Role, pulumi.Output<string>>;

    constructor(name: string, args: PortalServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cgap:ecs:PortalServices", name, {}, opts);

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            // Named by prefix, not `/ecs/<envName>`: the group outlives `pulumi destroy` (retainOnDelete),
            // and a fixed name would make the next `up` of the same envName fail on
            // ResourceAlreadyExistsException. Each creation gets a name of its own; the old logs stay.
            { namePrefix: `/ecs/${args.envName}-`, retentionInDays: LOG_RETENTION_DAYS },
            { parent: this, retainOnDelete: true },
        );

        this.cluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            { name: args.envName, settings: [{ name: "containerInsights", value: "enabled" }] },
            { parent: this },
        );
        const capacityProviders = new aws.ecs.ClusterCapacityProviders(
            `${name}-capacity`,
            { clusterName: this.cluster.name, capacityProviders: ["FARGATE", "FARGATE_SPOT"] },
            { parent: this },
        );

        const roles = new TaskRoles(
            `${name}-roles`,
            {
                envName: args.envName,
                identityResource: args.identityResource,
                repositoryArn: args.repositoryArn,
                logGroupArn: this.logGroup.arn,
                ingestionQueueArn: args.ingestionQueueArn,
                deadLetterQueueArn: args.deadLetterQueueArn,
                dataBuckets: args.dataBuckets,
                searchDomainArn: args.searchDomainArn,
                globalEnvBucket: args.globalEnvBucket,
                s3KmsKeyArn: args.s3KmsKeyArn,
                exec: args.exec.length > 0,
            },
            { parent: this },
        );
        this.taskRoleArn = roles.taskRoleArn;
        const region = aws.getRegionOutput({}, { parent: this }).region;

        this.taskDefinitions = {} as Record<Role, aws.ecs.TaskDefinition>;
        for (const role of ROLES) {
            const spec = ROLE_SPECS[role];
            const sizing = args.sizing[role];
            this.taskDefinitions[role] = new aws.ecs.TaskDefinition(
                `${name}-${role}`,
                {
                    family: `${args.envName}-${role}`,
                    requiresCompatibilities: ["FARGATE"],
                    networkMode: "awsvpc",
                    cpu: String(sizing.cpu),
                    memory: String(sizing.memory),
                    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: PLATFORMS[args.platform] },
                    executionRoleArn: roles.executionRoleArn,
                    taskRoleArn: roles.taskRoleArn,
                    containerDefinitions: pulumi.jsonStringify([
                        {
                            name: spec.containerName,
                            image: args.images[role],
                            essential: true,
                            stopTimeout: spec.stopTimeoutSeconds,
                            user: IMAGE_USER,
                            // The tag decides the role; the image's own ENTRYPOINT runs, never overridden.
                            portMappings: role === "wsgi" ? [{ containerPort: CONTAINER_PORT, protocol: "tcp" }] : [],
                            environment: containerEnvironment(role, args),
                            logConfiguration: {
                                logDriver: "awslogs",
                                options: {
                                    "awslogs-group": this.logGroup.name,
                                    "awslogs-region": region,
                                    "awslogs-stream-prefix": spec.logStreamPrefix,
                                },
                            },
                        },
                    ]),
                },
                { parent: this, ...keepWhatRuns(role, args.keepRunning) },
            );
        }
        this.runningImages = Object.fromEntries(
            ROLES.map((role) => [role, this.taskDefinitions[role].containerDefinitions.apply((json) => imageOf(role, json))]),
        ) as Record<Role, pulumi.Output<string>>;

        for (const role of ROLES.filter((r) => ROLE_SPECS[r].hasService)) {
            const sizing = args.sizing[role];
            const isWsgi = role === "wsgi";
            const serviceName = `${args.envName}-${role}`;
            // A capacity provider strategy and never a launch type: ECS rejects both together.
            const strategies: CapacityProviderStrategy[] = capacityProviderStrategy(sizing.capacity);
            this.services[role] = new aws.ecs.Service(
                `${name}-${role}`,
                {
                    name: serviceName,
                    cluster: this.cluster.arn,
                    taskDefinition: this.taskDefinitions[role].arn,
                    desiredCount: sizing.count,
                    // A capacity provider strategy and never a launch type: ECS rejects both together.
                    capacityProviderStrategies: strategies,
                    forceNewDeployment: this.liveStrategies(args.envName, serviceName).apply((live) =>
                        mustForceNewDeployment(live, strategies),
                    ),
                    platformVersion: "LATEST",
                    networkConfiguration: {
                        subnets: args.privateSubnetIds,
                        securityGroups: args.securityGroupIds,
                        assignPublicIp: false,
                    },
                    deploymentCircuitBreaker: { enable: true, rollback: true },
                    deploymentMinimumHealthyPercent: 100,
                    deploymentMaximumPercent: 200,
                    // Opt-in (cgap:exec): an interactive shell in a task is a way around every other control.
                    enableExecuteCommand: args.exec.includes(role),
                    propagateTags: "SERVICE",
                    enableEcsManagedTags: true,
                    ...(isWsgi
                        ? {
                              loadBalancers: [
                                  {
                                      targetGroupArn: args.wsgiTargetGroupArn,
                                      containerName: ROLE_SPECS.wsgi.containerName,
                                      containerPort: CONTAINER_PORT,
                                  },
                              ],
                              healthCheckGracePeriodSeconds: 120,
                              // On top of the circuit breaker: a deployment whose new tasks start but
                              // serve errors or fail health checks rolls back too.
                              alarms: { alarmNames: args.wsgiDeploymentAlarmNames, enable: true, rollback: true },
                          }
                        : {}),
                    // `pulumi up` returns once every service's rollout completed, and fails when one did not
                    // (the circuit breaker rolled it back): for WSGI, the moment the deployment task may run.
                    waitForSteadyState: true,
                },
                {
                    parent: this,
                    // Push all, then roll: a service waits for every image of the rollout, not only its own,
                    // so a push that fails (latest-deployment, say) stops the rollout before any service
                    // runs a build whose partner image never arrived.
                    dependsOn: [capacityProviders, ...(isWsgi ? args.listeners : []), ...args.pushes],
                    // Under autoscaling, count only seeds a new service; `pulumi up` must not undo the autoscaler.
                    ignoreChanges: isAutoscaled(role, sizing) ? ["desiredCount"] : [],
                },
            );
            this.serviceNames[role] = this.services[role].name;
        }

        this.registerOutputs({
            clusterName: this.cluster.name,
            serviceNames: this.serviceNames,
            logGroupName: this.logGroup.name,
        });
    }

    /**
     * The capacity provider strategy ECS runs the service with now, or undefined when there is no
     * such service yet. Any failed lookup counts as no service: if the strategy did change, the
     * provider then refuses the preview itself (see mustForceNewDeployment), so nothing is lost.
     */
    private liveStrategies(cluster: string, serviceName: string): pulumi.Output<CapacityProviderStrategy[] | undefined> {
        const lookup = aws.ecs
            .getService({ clusterArn: cluster, serviceName }, { parent: this })
            .then(
                (service) => (service.status === "ACTIVE" ? service.capacityProviderStrategies : undefined),
                () => undefined,
            );
        return pulumi.output(lookup);
    }
}

/**
 * A role left out of the rollout keeps its task definition as it is. The image it runs is pinned by
 * the program itself (`images` names what the role ran at the stack's last run; see ImageBundle),
 * since the engine drops ignored values when it replaces a resource. What `ignoreChanges` still
 * adds: while the task definition is updated in place, a partial rollout that changes another
 * container setting (the indexer's interval, say, or the portal URL the deployment task gets)
 * leaves the left-out role's revision untouched, so ECS does not restart tasks the rollout left
 * out. A change that replaces the task definition (its cpu or memory, its platform) does register
 * a new revision of the left-out role, with the image it runs and the program's current settings.
 */
export function keepWhatRuns(role: Role, keepRunning: readonly Role[]): pulumi.CustomResourceOptions {
    return keepRunning.includes(role) ? { ignoreChanges: ["containerDefinitions"] } : {};
}

/** The image of the role's container in a task definition's `containerDefinitions` JSON. */
export function imageOf(role: Role, containerDefinitions: string): string {
    const containers = JSON.parse(containerDefinitions) as { name?: string; image?: string }[];
    const container = containers.find((c) => c.name === ROLE_SPECS[role].containerName);
    if (container?.image === undefined) {
        throw new Error(`The ${role} task definition has no container ${ROLE_SPECS[role].containerName} with an image.`);
    }
    return container.image;
}

/**
 * Settings reach the app through its identity secret; the environment names only the secret, what
 * the stack knows better than the secret, and the role's knobs. CGAP_ENV_NAME is the stack's
 * envName, and CGAP_GLOBAL_ENV_BUCKET its globalEnvBucket, which the IAM grants are written for:
 * assume_identity refuses a secret whose ENV_NAME (which names the queues and the env file the app
 * reads) or GLOBAL_ENV_BUCKET differs.
 */
function containerEnvironment(role: Role, args: PortalServicesArgs): { name: string; value: pulumi.Input<string> }[] {
    const environment: { name: string; value: pulumi.Input<string> }[] = [
        { name: "IDENTITY", value: args.identity },
        { name: "CGAP_ENVIRONMENT", value: args.environment },
        { name: "CGAP_ENV_NAME", value: args.envName },
        { name: "CGAP_GLOBAL_ENV_BUCKET", value: args.globalEnvBucket },
    ];
    if (role === "indexer") {
        environment.push({ name: "INDEXER_INTERVAL_SECONDS", value: String(args.indexerIntervalSeconds) });
    }
    if (role === "deployment") {
        environment.push({ name: "CGAP_PORTAL_URL", value: args.portalUrl });
    }
    return environment;
}
