"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ecsPolicies = exports.ecsServiceCircuitBreaker = exports.ecsClusterContainerInsights = exports.ecsFargatePlatformLatest = exports.ecsServiceNoPublicIp = exports.ecsContainerNotPrivileged = exports.ecsTaskNoHostPid = exports.ecsTaskNoHostNetwork = exports.ecsContainerLogging = exports.ecsNoSecretsInEnvironment = exports.ecsTaskImagePinnedByDigest = exports.CLUSTER_TYPE = exports.SERVICE_TYPE = exports.TASK_DEFINITION_TYPE = void 0;
exports.containerDefinitions = containerDefinitions;
const guard_1 = require("./guard");
const props_1 = require("./props");
exports.TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition";
exports.SERVICE_TYPE = "aws:ecs/service:Service";
exports.CLUSTER_TYPE = "aws:ecs/cluster:Cluster";
/**
 * The task definition's containers. `containerDefinitions` is a JSON string, unknown in a preview
 * while it embeds an image digest that is not built yet: the check is then left to the update,
 * where the engine runs every resource policy again on known values.
 */
function containerDefinitions(view, report) {
    const parsed = (0, props_1.parseJsonDocument)(view.props.containerDefinitions);
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
    const list = (0, props_1.knownArray)(parsed.value);
    if (!list) {
        report(`Task definition "${view.name}" has containerDefinitions that are not a JSON array.`);
        return undefined;
    }
    return list.map((c) => (0, props_1.knownObject)(c) ?? {});
}
function containerName(container, index) {
    return (0, props_1.knownString)(container.name) ?? `#${index + 1}`;
}
const DIGEST_REFERENCE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;
exports.ecsTaskImagePinnedByDigest = {
    name: "ecs-task-image-pinned-by-digest",
    description: "Task definitions name every container image by digest (<repository>@sha256:<digest>), never by a " +
        "movable tag, so a new image is a new task definition revision and a rolling deploy.",
    enforcementLevel: "advisory",
    severity: "high",
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            const image = container.image;
            if ((0, props_1.isUnknown)(image)) {
                return;
            }
            if (typeof image !== "string" || !DIGEST_REFERENCE.test(image)) {
                report(`Container ${containerName(container, i)} of task definition "${view.name}" names its image ` +
                    `${JSON.stringify(image ?? null)}, not a digest. Use the docker.Image's repoDigest ` +
                    `(<repository>@sha256:<digest>) as the container image.`);
            }
        });
    }),
};
/** Environment variable names that hold credentials (the FSBP ECS.8 list, and the obvious others). */
const SECRET_NAMES = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ECS_ENGINE_AUTH_DATA)$/;
const SECRET_LIKE_NAMES = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL)/i;
const ACCESS_KEY_VALUE = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
exports.ecsNoSecretsInEnvironment = {
    name: "ecs-no-plaintext-secrets-in-environment",
    description: "Containers get no credentials through plaintext environment variables; secrets come from Secrets " +
        "Manager (the container's `secrets`, or the IDENTITY secret the entrypoint reads).",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECS.8", "Secrets should not be passed as container environment variables"),
    url: (0, guard_1.fsbpUrl)("ECS.8"),
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            for (const variable of (0, props_1.knownArray)(container.environment) ?? []) {
                const name = (0, props_1.knownString)((0, props_1.at)(variable, "name"));
                const value = (0, props_1.knownString)((0, props_1.at)(variable, "value"));
                if (name === undefined) {
                    continue;
                }
                const nameLooksSecret = SECRET_NAMES.test(name) || SECRET_LIKE_NAMES.test(name);
                const valueLooksSecret = value !== undefined && ACCESS_KEY_VALUE.test(value);
                if (nameLooksSecret || valueLooksSecret) {
                    report(`Container ${containerName(container, i)} of task definition "${view.name}" passes ` +
                        `${name} as a plaintext environment variable. Store it in Secrets Manager and reference ` +
                        `it from the container's "secrets" (valueFrom) instead.`);
                }
            }
        });
    }),
};
exports.ecsContainerLogging = {
    name: "ecs-container-logging-configured",
    description: "Every container in a task definition has a log configuration.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: (0, guard_1.fsbp)("ECS.9", "ECS task definitions should have a logging configuration"),
    url: (0, guard_1.fsbpUrl)("ECS.9"),
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            const driver = (0, props_1.at)(container, "logConfiguration", "logDriver");
            if ((0, props_1.isUnknown)(driver)) {
                return;
            }
            if (typeof driver !== "string" || driver === "") {
                report(`Container ${containerName(container, i)} of task definition "${view.name}" has no log ` +
                    `configuration. Give it logConfiguration { logDriver: "awslogs", options: {...} }.`);
            }
        });
    }),
};
exports.ecsTaskNoHostNetwork = {
    name: "ecs-task-no-host-network",
    description: "Task definitions do not use the host network mode (use awsvpc).",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECS.1", "Amazon ECS task definitions should have secure networking modes and user definitions"),
    url: (0, guard_1.fsbpUrl)("ECS.1"),
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        if ((0, props_1.knownString)(view.props.networkMode) === "host") {
            report(`Task definition "${view.name}" uses networkMode "host". Use "awsvpc".`);
        }
    }),
};
exports.ecsTaskNoHostPid = {
    name: "ecs-task-no-host-pid",
    description: "Task definitions do not share the host's process namespace.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECS.3", "ECS task definitions should not share the host's process namespace"),
    url: (0, guard_1.fsbpUrl)("ECS.3"),
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        if ((0, props_1.knownString)(view.props.pidMode) === "host") {
            report(`Task definition "${view.name}" sets pidMode "host". Leave pidMode unset (or "task").`);
        }
    }),
};
exports.ecsContainerNotPrivileged = {
    name: "ecs-container-not-privileged",
    description: "No container in a task definition runs privileged.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECS.4", "ECS containers should run as non-privileged"),
    url: (0, guard_1.fsbpUrl)("ECS.4"),
    validateResource: (0, guard_1.forTypes)([exports.TASK_DEFINITION_TYPE], (view, _args, report) => {
        (containerDefinitions(view, report) ?? []).forEach((container, i) => {
            if ((0, props_1.knownBoolean)(container.privileged) === true) {
                report(`Container ${containerName(container, i)} of task definition "${view.name}" is privileged. ` +
                    `Remove "privileged": true.`);
            }
        });
    }),
};
exports.ecsServiceNoPublicIp = {
    name: "ecs-service-no-public-ip",
    description: "ECS services do not assign public IP addresses to their tasks.",
    enforcementLevel: "advisory",
    severity: "high",
    framework: (0, guard_1.fsbp)("ECS.2", "ECS services should not have public IP addresses assigned to them automatically"),
    url: (0, guard_1.fsbpUrl)("ECS.2"),
    validateResource: (0, guard_1.forTypes)([exports.SERVICE_TYPE], (view, _args, report) => {
        if ((0, props_1.knownBoolean)((0, props_1.at)(view.props.networkConfiguration, "assignPublicIp")) === true) {
            report(`Service "${view.name}" assigns public IPs to its tasks. Set networkConfiguration.assignPublicIp ` +
                `to false and run the tasks in private subnets.`);
        }
    }),
};
exports.ecsFargatePlatformLatest = {
    name: "ecs-fargate-platform-latest",
    description: "Fargate services run on the latest platform version.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: (0, guard_1.fsbp)("ECS.10", "ECS Fargate services should run on the latest Fargate platform version"),
    url: (0, guard_1.fsbpUrl)("ECS.10"),
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
    validateResource: (0, guard_1.forTypes)([exports.SERVICE_TYPE], (view, args, report) => {
        const configured = (0, guard_1.policyConfig)(args).allowedPlatformVersions;
        const allowed = Array.isArray(configured) ? configured : ["LATEST", "1.4.0"];
        const version = view.props.platformVersion;
        if ((0, props_1.isMissing)(version) || (0, props_1.isUnknown)(version)) {
            return; // unset means LATEST
        }
        const launchType = (0, props_1.knownString)(view.props.launchType);
        if (launchType !== undefined && launchType !== "FARGATE") {
            return; // not a Fargate service
        }
        if (typeof version !== "string" || !allowed.includes(version)) {
            report(`Service "${view.name}" pins Fargate platform version ${JSON.stringify(version)}. ` +
                `Set platformVersion to "LATEST" (or leave it unset).`);
        }
    }),
};
exports.ecsClusterContainerInsights = {
    name: "ecs-cluster-container-insights",
    description: "ECS clusters have Container Insights enabled.",
    enforcementLevel: "advisory",
    severity: "medium",
    framework: (0, guard_1.fsbp)("ECS.12", "ECS clusters should use Container Insights"),
    url: (0, guard_1.fsbpUrl)("ECS.12"),
    validateResource: (0, guard_1.forTypes)([exports.CLUSTER_TYPE], (view, _args, report) => {
        const settings = view.props.settings;
        if ((0, props_1.isUnknown)(settings)) {
            return;
        }
        const insights = ((0, props_1.knownArray)(settings) ?? []).find((s) => (0, props_1.knownString)((0, props_1.at)(s, "name")) === "containerInsights");
        const value = (0, props_1.at)(insights, "value");
        if ((0, props_1.isUnknown)(value)) {
            return;
        }
        if (value !== "enabled" && value !== "enhanced") {
            report(`Cluster "${view.name}" does not have Container Insights on. Add settings ` +
                `[{ name: "containerInsights", value: "enabled" }] (or "enhanced").`);
        }
    }),
};
exports.ecsServiceCircuitBreaker = {
    name: "ecs-service-circuit-breaker-rollback",
    description: "Every ECS service deploys with the deployment circuit breaker and automatic rollback, so a bad image " +
        "rolls back instead of cycling failing tasks.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: (0, guard_1.forTypes)([exports.SERVICE_TYPE], (view, _args, report) => {
        const controller = (0, props_1.knownString)((0, props_1.at)(view.props.deploymentController, "type"));
        if (controller !== undefined && controller !== "ECS") {
            return; // the circuit breaker applies to the ECS deployment controller only
        }
        const breaker = view.props.deploymentCircuitBreaker;
        if ((0, props_1.isUnknown)(breaker)) {
            return;
        }
        const enable = (0, props_1.at)(breaker, "enable");
        const rollback = (0, props_1.at)(breaker, "rollback");
        if ((0, props_1.isUnknown)(enable) || (0, props_1.isUnknown)(rollback)) {
            return;
        }
        if ((0, props_1.knownBoolean)(enable) !== true || (0, props_1.knownBoolean)(rollback) !== true) {
            report(`Service "${view.name}" deploys without the circuit breaker and rollback. Set ` +
                `deploymentCircuitBreaker { enable: true, rollback: true }.`);
        }
    }),
};
exports.ecsPolicies = [
    exports.ecsTaskImagePinnedByDigest,
    exports.ecsNoSecretsInEnvironment,
    exports.ecsContainerLogging,
    exports.ecsTaskNoHostNetwork,
    exports.ecsTaskNoHostPid,
    exports.ecsContainerNotPrivileged,
    exports.ecsServiceNoPublicIp,
    exports.ecsFargatePlatformLatest,
    exports.ecsClusterContainerInsights,
    exports.ecsServiceCircuitBreaker,
];
