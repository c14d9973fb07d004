// ECS compliance policies: task definitions, services and the cluster.
import { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";

import { forTypes, fsbp, fsbpUrl, policyConfig } from "./guard";
import { ResourceView } from "./images";
import {
    at,
    isMissing,
    isUnknown,
    knownArray,
    knownBoolean,
    knownObject,
    knownString,
    parseJsonDocument,
    Props,
} from "./props";
import { DEFAULT_PRODUCTION_STACKS, productionReason, productionStacksFromConfig, readStackIdentity } from "./stack";

export const TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition";
export const SERVICE_TYPE = "aws:ecs/service:Service";
export const CLUSTER_TYPE = "aws:ecs/cluster:Cluster";

/**
 * The task definition's containers. `containerDefinitions` is a JSON string, unknown in a preview
 * while it embeds an image digest that is not built yet: the check is then left to the update,
 * where the engine runs every resource policy again on known values.
 */
export function containerDefinitions(view: ResourceView, report: ReportViolation): Props[] | undefined {
    const parsed = parseJsonDocument(view.props.containerDefinitions);
    switch (parsed.state) {
        case "unknown":
            return undefined;
        case "missing":
            report(`Task definition "${view.name}" has no containerDefinitions.`);
            return undefined;
        case "invalid":
            report(`Task definition "${view.name}" has containerDefinitions that are not valid JSON: ${parsed.error}.`);
            return undefined;
    }
    const list = knownArray(parsed.value);
    if (!list) {
        report(`Task definition "${view.name}" has containerDefinitions that are not a JSON array.`);
        return undefined;
    }
    return list.map((c) => knownObject(c) ?? {});
}

function containerName(container: Props, index: number): string {
    return knownString(container.name) ?? `#${index + 1}`;
}

const DIGEST_REFERENCE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

export const ecsTaskImagePinnedByDigest: ResourceValidationPolicy = {
    name: "ecs-task-image-pinned-by-digest",
    description:
        "Task definitions name every container image by digest (<repository>@sha256:<digest>), never by a " +
        "movable tag, so a new image is a new task definition revision and a rolling deploy.",
    enforcementLevel: "advisory",
    severity: "high",
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            const image = container.image;
            if (isUnknown(image)) {
                return;
            }
            if (typeof image !== "string" || !DIGEST_REFERENCE.test(image)) {
                report(
                    `Container ${containerName(container, i)} of task definition "${view.name}" names its image ` +
                        `${JSON.stringify(image ?? null)}, not a digest. Use the docker.Image's repoDigest ` +
                        `(<repository>@sha256:<digest>) as the container image.`,
                );
            }
        });
    }),
};

/** Environment variable names that hold credentials (the FSBP ECS.8 list, and the obvious others). */
const SECRET_NAMES = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ECS_ENGINE_AUTH_DATA)$/;
const SECRET_LIKE_NAMES = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL)/i;
const ACCESS_KEY_VALUE = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;

export const ecsNoSecretsInEnvironment: ResourceValidationPolicy = {
    name: "ecs-no-plaintext-secrets-in-environment",
    description:
        "Containers get no credentials through plaintext environment variables; secrets come from Secrets " +
        "Manager (the container's `secrets`, or the IDENTITY secret the entrypoint reads).",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECS.8", "Secrets should not be passed as container environment variables"),
    url: fsbpUrl("ECS.8"),
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            for (const variable of knownArray(container.environment) ?? []) {
                const name = knownString(at(variable, "name"));
                const value = knownString(at(variable, "value"));
                if (name === undefined) {
                    continue;
                }
                const nameLooksSecret = SECRET_NAMES.test(name) || SECRET_LIKE_NAMES.test(name);
                const valueLooksSecret = value !== undefined && ACCESS_KEY_VALUE.test(value);
                if (nameLooksSecret || valueLooksSecret) {
                    report(
                        `Container ${containerName(container, i)} of task definition "${view.name}" passes ` +
                            `${name} as a plaintext environment variable. Store it in Secrets Manager and reference ` +
                            `it from the container's "secrets" (valueFrom) instead.`,
                    );
                }
            }
        });
    }),
};

export const ecsContainerLogging: ResourceValidationPolicy = {
    name: "ecs-container-logging-configured",
    description: "Every container in a task definition has a log configuration.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ECS.9", "ECS task definitions should have a logging configuration"),
    url: fsbpUrl("ECS.9"),
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            const driver = at(container, "logConfiguration", "logDriver");
            if (isUnknown(driver)) {
                return;
            }
            if (typeof driver !== "string" || driver === "") {
                report(
                    `Container ${containerName(container, i)} of task definition "${view.name}" has no log ` +
                        `configuration. Give it logConfiguration { logDriver: "awslogs", options: {...} }.`,
                );
            }
        });
    }),
};

export const ecsTaskNoHostNetwork: ResourceValidationPolicy = {
    name: "ecs-task-no-host-network",
    description: "Task definitions do not use the host network mode (use awsvpc).",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECS.1", "Amazon ECS task definitions should have secure networking modes and user definitions"),
    url: fsbpUrl("ECS.1"),
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        if (knownString(view.props.networkMode) === "host") {
            report(`Task definition "${view.name}" uses networkMode "host". Use "awsvpc".`);
        }
    }),
};

export const ecsTaskNoHostPid: ResourceValidationPolicy = {
    name: "ecs-task-no-host-pid",
    description: "Task definitions do not share the host's process namespace.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECS.3", "ECS task definitions should not share the host's process namespace"),
    url: fsbpUrl("ECS.3"),
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        if (knownString(view.props.pidMode) === "host") {
            report(`Task definition "${view.name}" sets pidMode "host". Leave pidMode unset (or "task").`);
        }
    }),
};

export const ecsContainerNotPrivileged: ResourceValidationPolicy = {
    name: "ecs-container-not-privileged",
    description: "No container in a task definition runs privileged.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECS.4", "ECS containers should run as non-privileged"),
    url: fsbpUrl("ECS.4"),
    validateResource: forTypes([TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            if (knownBoolean(container.privileged) === true) {
                report(
                    `Container ${containerName(container, i)} of task definition "${view.name}" is privileged. ` +
                        `Remove "privileged": true.`,
                );
            }
        });
    }),
};

export const ecsServiceNoPublicIp: ResourceValidationPolicy = {
    name: "ecs-service-no-public-ip",
    description: "ECS services do not assign public IP addresses to their tasks.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: fsbp("ECS.2", "ECS services should not have public IP addresses assigned to them automatically"),
    url: fsbpUrl("ECS.2"),
    validateResource: forTypes([SERVICE_TYPE], (view, _args, report) => {
        if (knownBoolean(at(view.props.networkConfiguration, "assignPublicIp")) === true) {
            report(
                `Service "${view.name}" assigns public IPs to its tasks. Set networkConfiguration.assignPublicIp ` +
                    `to false and run the tasks in private subnets.`,
            );
        }
    }),
};

export const ecsFargatePlatformLatest: ResourceValidationPolicy = {
    name: "ecs-fargate-platform-latest",
    description: "Fargate services run on the latest platform version.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ECS.10", "ECS Fargate services should run on the latest Fargate platform version"),
    url: fsbpUrl("ECS.10"),
    configSchema: {
        properties: {
            allowedPlatformVersions: {
                type: "array",
                items: { type: "string" },
                default: ["LATEST", "1.4.0"],
                description: "Platform versions that count as the latest (LATEST, or the latest Linux version).",
            },
        },
    },
    validateResource: forTypes([SERVICE_TYPE], (view, args, report) => {
        const configured = policyConfig(args).allowedPlatformVersions;
        const allowed = Array.isArray(configured) ? (configured as string[]) : ["LATEST", "1.4.0"];
        const version = view.props.platformVersion;
        if (isMissing(version) || isUnknown(version)) {
            return; // unset means LATEST
        }
        const launchType = knownString(view.props.launchType);
        if (launchType !== undefined && launchType !== "FARGATE") {
            return; // not a Fargate service
        }
        if (typeof version !== "string" || !allowed.includes(version)) {
            report(
                `Service "${view.name}" pins Fargate platform version ${JSON.stringify(version)}. ` +
                    `Set platformVersion to "LATEST" (or leave it unset).`,
            );
        }
    }),
};

export const ecsClusterContainerInsights: ResourceValidationPolicy = {
    name: "ecs-cluster-container-insights",
    description: "ECS clusters have Container Insights enabled.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: fsbp("ECS.12", "ECS clusters should use Container Insights"),
    url: fsbpUrl("ECS.12"),
    validateResource: forTypes([CLUSTER_TYPE], (view, _args, report) => {
        const settings = view.props.settings;
        if (isUnknown(settings)) {
            return;
        }
        const insights = (knownArray(settings) ?? []).find((s) => knownString(at(s, "name")) === "containerInsights");
        const value = at(insights, "value");
        if (isUnknown(value)) {
            return;
        }
        if (value !== "enabled" && value !== "enhanced") {
            report(
                `Cluster "${view.name}" does not have Container Insights on. Add settings ` +
                    `[{ name: "containerInsights", value: "enabled" }] (or "enhanced").`,
            );
        }
    }),
};

export const ecsServiceCircuitBreaker: ResourceValidationPolicy = {
    name: "ecs-service-circuit-breaker-rollback",
    description:
        "Every ECS service deploys with the deployment circuit breaker and automatic rollback, so a bad image " +
        "rolls back instead of cycling failing tasks.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: forTypes([SERVICE_TYPE], (view, _args, report) => {
        const controller = knownString(at(view.props.deploymentController, "type"));
        if (controller !== undefined && controller !== "ECS") {
            return; // the circuit breaker applies to the ECS deployment controller only
        }
        const breaker = view.props.deploymentCircuitBreaker;
        if (isUnknown(breaker)) {
            return;
        }
        const enable = at(breaker, "enable");
        const rollback = at(breaker, "rollback");
        if (isUnknown(enable) || isUnknown(rollback)) {
            return;
        }
        if (knownBoolean(enable) !== true || knownBoolean(rollback) !== true) {
            report(
                `Service "${view.name}" deploys without the circuit breaker and rollback. Set ` +
                    `deploymentCircuitBreaker { enable: true, rollback: true }.`,
            );
        }
    }),
};

export const ECS_EXEC_OFF_IN_PRODUCTION = "ecs-exec-off-in-production";

export const ecsExecOffInProduction: ResourceValidationPolicy = {
    name: ECS_EXEC_OFF_IN_PRODUCTION,
    description:
        "Services of a production stack do not accept ECS Exec sessions: a shell in a running production " +
        "task goes around review, rollout and the app's own audit trail. Exec is for a time-boxed incident.",
    enforcementLevel: "advisory",
    severity: "medium",
    remediationSteps: "Unset cgap:exec (or set it to false) and run pulumi up once the incident is over.",
    configSchema: {
        properties: {
            productionStacks: {
                type: "array",
                items: { type: "string", minLength: 1 },
                default: [...DEFAULT_PRODUCTION_STACKS],
                description: "Stack-name globs that are production, as for production-rollout-complete.",
            },
        },
    },
    validateResource: forTypes([SERVICE_TYPE], (view, args, report) => {
        if (knownBoolean(view.props.enableExecuteCommand) !== true) {
            return;
        }
        const globs = productionStacksFromConfig(policyConfig(args).productionStacks);
        const why = productionReason(readStackIdentity(args.stackTags), globs);
        if (why !== undefined) {
            report(
                `Service "${view.name}" accepts ECS Exec sessions (enableExecuteCommand) in a production stack ` +
                    `(${why}). Turn cgap:exec off again once the incident is over.`,
            );
        }
    }),
};

export const ecsPolicies: ResourceValidationPolicy[] = [
    ecsExecOffInProduction,
    ecsTaskImagePinnedByDigest,
    ecsNoSecretsInEnvironment,
    ecsContainerLogging,
    ecsTaskNoHostNetwork,
    ecsTaskNoHostPid,
    ecsContainerNotPrivileged,
    ecsServiceNoPublicIp,
    ecsFargatePlatformLatest,
    ecsClusterContainerInsights,
    ecsServiceCircuitBreaker,
];
