// The CGAP portal on ECS: four images of one build, rolled out together.
import * as pulumi from "@pulumi/pulumi";

import { ServiceAutoscaling } from "./components/autoscaling";
import { loadStackConfig } from "./components/config";
import { Estate, originsOf } from "./components/estate";
import { describeOrigins } from "./components/exports";
import { ImageBundle } from "./components/imageBundle";
import { LastRun } from "./components/lastRun";
import { PortalLoadBalancer } from "./components/loadBalancer";
import { Network } from "./components/network";
import { indexerQueueNames, IngestionQueues } from "./components/queues";
import { ImageRegistry } from "./components/registry";
import { capacityProvider, CONTAINER_PORT, ROLE_SPECS, ROLES, runsOnSpot } from "./components/roles";
import { PortalServices } from "./components/services";
import { SpotInterruptionDrain } from "./components/spotDrain";

const config = loadStackConfig(pulumi.runtime.allConfig(), (warning) => pulumi.log.warn(warning));

// What exists (4dn-cloud-infra's exports, the stack file's keys) is used; what does not is created.
const estate = new Estate("cgap", { config });
const lastRun = new LastRun("cgap");
const network = new Network("cgap", { existing: estate.network });
const registry = new ImageRegistry("cgap", {
    repositoryName: config.envName,
    existing: estate.repository,
    recordedRepositoryName: lastRun.repositoryName,
});
const bundle = new ImageBundle("cgap", {
    repository: registry.repository,
    credentials: registry.credentials,
    rollout: config.rollout,
    image: config.image,
    recorded: lastRun.images,
});
const queues = new IngestionQueues("cgap", { envName: config.envName, existing: estate.ingestionQueue });
const loadBalancer = new PortalLoadBalancer("cgap", {
    envName: config.envName,
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    certificateArn: config.certificateArn,
    accessLogsBucket: config.accessLogsBucket,
});
const containerSecurityGroups = network.taskSecurityGroupIds.apply((joined) => [loadBalancer.containerSecurityGroupId, ...joined]);
const portal = new PortalServices("cgap", {
    envName: config.envName,
    environment: config.environment,
    identity: estate.identity.value,
    identityResource: estate.identity.iamResource,
    sizing: config.sizing,
    images: bundle.refs,
    keepRunning: bundle.leftOut,
    pushes: Object.values(bundle.images),
    platform: config.image.platform,
    indexerIntervalSeconds: config.indexerIntervalSeconds,
    privateSubnetIds: network.privateSubnetIds,
    securityGroupIds: containerSecurityGroups,
    wsgiTargetGroupArn: loadBalancer.targetGroup.arn,
    listeners: loadBalancer.listeners,
    wsgiDeploymentAlarmNames: loadBalancer.deploymentAlarms.map((a) => a.name),
    repositoryArn: registry.repositoryArn,
    ingestionQueueArn: queues.queueArn,
    deadLetterQueueArn: queues.deadLetterQueueArn,
    dataBuckets: estate.dataBuckets,
    searchDomainArn: estate.searchDomainArn,
    globalEnvBucket: estate.globalEnvBucket,
    s3KmsKeyArn: config.s3KmsKeyArn,
    portalUrl: loadBalancer.url,
    exec: config.exec,
});
// A reclaimed Spot task would keep receiving requests until it stops: take it out of the target group.
if (runsOnSpot(config.sizing.wsgi.capacity)) {
    new SpotInterruptionDrain("cgap", {
        envName: config.envName,
        clusterArn: portal.cluster.arn,
        serviceName: portal.serviceNames.wsgi!,
        targetGroupArn: loadBalancer.targetGroup.arn,
        targetPort: CONTAINER_PORT,
    });
}
const indexerQueues = indexerQueueNames(config.envName);
new ServiceAutoscaling("cgap", {
    envName: config.envName,
    clusterName: portal.cluster.name,
    serviceNames: portal.serviceNames,
    sizing: config.sizing,
    queues: { ingestion: queues.queueName, indexerPrimary: indexerQueues.primary, indexerSecondary: indexerQueues.secondary },
    wsgiRequestCountLabel: loadBalancer.requestCountLabel,
    services: Object.values(portal.services),
});

export const portalUrl = loadBalancer.url;
export const clusterName = portal.cluster.name;
export const repositoryName = registry.repositoryName;
export const repositoryUrl = registry.repositoryUrl;
export const serviceNames = portal.serviceNames;
export const tags = Object.fromEntries(ROLES.map((role) => [role, ROLE_SPECS[role].tag]));
/** What each task definition runs, as the engine recorded it: `<repositoryUrl>@sha256:<digest>`. */
export const images = portal.runningImages;
export const rollout = config.rollout;
/** Everything `npm run deployment-task` needs to start the one-shot deployment task. */
export const deploymentTask = {
    cluster: portal.cluster.name,
    taskDefinitionArn: portal.taskDefinitions.deployment.arn,
    containerName: ROLE_SPECS.deployment.containerName,
    subnets: network.privateSubnetIds,
    securityGroups: containerSecurityGroups,
    assignPublicIp: "DISABLED",
    // The parser allows the deployment role one capacity only: it runs one task at a time.
    capacityProvider: capacityProvider(config.sizing.deployment.capacity[0].capacity),
    logGroupName: portal.logGroup.name,
    logStreamPrefix: ROLE_SPECS.deployment.logStreamPrefix,
    /** `npm run deployment-task -- --initial` asks for a confirmation on production. */
    environment: config.environment,
};
export const ingestionQueueUrl = queues.queueUrl;
/** What `npm run preflight` checks: whether the task role can use the datastore's S3 KMS key. */
export const appAccess = {
    taskRoleArn: portal.taskRoleArn,
    globalEnvBucket: estate.globalEnvBucket,
    s3KmsKeyArn: config.s3KmsKeyArn ?? "",
};
/** Where `npm run logs` reads each role's CloudWatch log streams (`<prefix>/<container>/<task id>`). */
export const logs = {
    groupName: portal.logGroup.name,
    groupArn: portal.logGroup.arn,
    streamPrefixes: Object.fromEntries(ROLES.map((role) => [role, ROLE_SPECS[role].logStreamPrefix])),
};
/** Where the network, the repository and the ingestion queue came from: estate exports, stack config, or created here. */
export const sources = Object.fromEntries(Object.entries(originsOf(config)).map(([what, origins]) => [what, describeOrigins(origins)]));
