// ECS compliance policies: task definitions, services, task sets and the cluster.
import { ResourceValidationPolicy } from "@pulumi/policy";

import { combine, ComplianceCheck, excepted, fail, Finding, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { forTypes, policyConfig } from "./guard";
import { ResourceView } from "./images";
import { at, isMissing, isUnknown, knownArray, knownBoolean, knownObject, knownString, parseJsonDocument, Props } from "./props";
import { PRODUCTION_STACKS_SETTING, productionReason, productionStacksFromConfig, readStackIdentity } from "./stack";

export const TASK_DEFINITION_TYPE = "aws:ecs/taskDefinition:TaskDefinition";
export const SERVICE_TYPE = "aws:ecs/service:Service";
export const TASK_SET_TYPE = "aws:ecs/taskSet:TaskSet";
export const CLUSTER_TYPE = "aws:ecs/cluster:Cluster";
export const ACCOUNT_SETTING_TYPE = "aws:ecs/accountSettingDefault:AccountSettingDefault";

/** The one policy that reports an unreadable containerDefinitions; the others call it unknown. */
export const CONTAINER_DEFINITIONS_OWNER = "ecs-container-logging-configured";

type Containers = { state: "known"; containers: Props[] } | { state: "unknown"; why: string } | { state: "unreadable"; why: string };

/**
 * The task definition's containers. `containerDefinitions` is a JSON string, unknown in a preview
 * while it embeds an image digest that is not built yet: the check is then left to the update,
 * where the engine runs every resource policy again on known values.
 */
export function containerDefinitions(view: ResourceView): Containers {
    const parsed = parseJsonDocument(view.props.containerDefinitions);
    switch (parsed.state) {
        case "unknown":
            return { state: "unknown", why: "containerDefinitions is not known yet; the update judges it" };
        case "missing":
            return { state: "unreadable", why: `Task definition "${view.name}" has no containerDefinitions.` };
        case "invalid":
            return { state: "unreadable", why: `Task definition "${view.name}" has containerDefinitions that are not valid JSON: ${parsed.error}.` };
    }
    const list = knownArray(parsed.value);
    if (!list) {
        return { state: "unreadable", why: `Task definition "${view.name}" has containerDefinitions that are not a JSON array.` };
    }
    return { state: "known", containers: list.map((c) => knownObject(c) ?? {}) };
}

function containerLabel(view: ResourceView, container: Props, index: number): string {
    return `Container ${knownString(container.name) ?? `#${index + 1}`} of task definition "${view.name}"`;
}

/**
 * Judges each container of a task definition: `each` returns a problem (a sentence saying what to
 * change), "unknown" while the value it reads is not known, or undefined when the container
 * passes. One root cause, one diagnostic: only {@link CONTAINER_DEFINITIONS_OWNER} fails a task
 * definition whose containers cannot be read.
 */
function judgeContainers(
    owner: string,
    each: (container: Props, label: string) => string | "unknown" | undefined,
): (resources: readonly ResourceView[]) => Finding[] {
    return (resources) =>
        resources.map((view) => {
            const read = containerDefinitions(view);
            if (read.state === "unknown") {
                return unknown(view, read.why);
            }
            if (read.state === "unreadable") {
                return owner === CONTAINER_DEFINITIONS_OWNER
                    ? fail(view, `${read.why} Give it a JSON array of container definitions.`)
                    : unknown(view, `${read.why} (reported once, by ${CONTAINER_DEFINITIONS_OWNER})`);
            }
            const findings = read.containers.map((container, i) => {
                const outcome = each(container, containerLabel(view, container, i));
                return outcome === undefined
                    ? pass(view)
                    : outcome === "unknown"
                      ? unknown(view, `${containerLabel(view, container, i)}: a value it reads is not known yet; the update judges it`)
                      : fail(view, outcome);
            });
            return combine(view, findings);
        });
}

/** A task definition check on its own properties. */
function judgeTaskDefinitions(each: (view: ResourceView) => string | "unknown" | undefined): (resources: readonly ResourceView[]) => Finding[] {
    return (resources) =>
        resources.map((view) => {
            const outcome = each(view);
            return outcome === undefined ? pass(view) : outcome === "unknown" ? unknown(view, "the value it reads is not known yet; the update judges it") : fail(view, outcome);
        });
}

const DIGEST_REFERENCE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

export const ecsTaskImagePinnedByDigest: ComplianceCheck = {
    name: "ecs-task-image-pinned-by-digest",
    description:
        "Task definitions name every container image by digest (<repository>@sha256:<digest>), never by a " +
        "movable tag, so a new image is a new task definition revision and a rolling deploy.",
    severity: "high",
    remediation: "Use the docker.Image's repoDigest (<repository>@sha256:<digest>) as the container image.",
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeContainers("ecs-task-image-pinned-by-digest", (container, label) => {
        const image = container.image;
        if (isUnknown(image)) {
            return "unknown";
        }
        return typeof image === "string" && DIGEST_REFERENCE.test(image)
            ? undefined
            : `${label} names its image ${JSON.stringify(image ?? null)}, not a digest. Use the docker.Image's repoDigest (<repository>@sha256:<digest>) as the container image.`;
    }),
};

/**
 * The variables ECS.8 names (AWS Config rule ecs-no-environment-secrets): Security Hub fails a
 * container that sets any of them in `environment`, whatever the value.
 */
export const ECS8_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"] as const;
/** An AWS access key id: the one credential a value gives away by its shape. */
const ACCESS_KEY_VALUE = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;

export const ecsNoSecretsInEnvironment: ComplianceCheck = {
    name: "ecs-no-plaintext-secrets-in-environment",
    control: CONTROLS["ECS.8"],
    description:
        `Containers set none of ${ECS8_VARIABLES.join(", ")} (the variables ECS.8 names) in their plaintext ` +
        "environment, and no variable holds an AWS access key id.",
    severity: "high",
    remediation:
        "Store the credential in Secrets Manager (or SSM Parameter Store) and pass it through the container's " +
        '"secrets" (valueFrom) instead of "environment"; better, drop static keys and use the task role.',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeContainers("ecs-no-plaintext-secrets-in-environment", (container, label) => {
        if (isUnknown(container.environment)) {
            return "unknown";
        }
        const problems: string[] = [];
        let unknownSeen = false;
        for (const variable of knownArray(container.environment) ?? []) {
            const name = at(variable, "name");
            const value = at(variable, "value");
            if (isUnknown(name)) {
                unknownSeen = true;
                continue;
            }
            if (typeof name === "string" && (ECS8_VARIABLES as readonly string[]).includes(name)) {
                problems.push(`${label} sets ${name}, one of the variables ECS.8 names, in its plaintext environment`);
            } else if (typeof value === "string" && !isUnknown(value) && ACCESS_KEY_VALUE.test(value)) {
                // Beyond ECS.8's three names: the value itself is a credential, whatever it is called.
                problems.push(`${label}: the value of ${String(name)} is an AWS access key id (${value.slice(0, 4)}…)`);
            }
        }
        if (problems.length > 0) {
            return `${problems.join("; ")}. Pass credentials through "secrets" (valueFrom Secrets Manager), not "environment".`;
        }
        return unknownSeen ? "unknown" : undefined;
    }),
};

export const ecsContainerLogging: ComplianceCheck = {
    name: CONTAINER_DEFINITIONS_OWNER,
    control: CONTROLS["ECS.9"],
    description: "Every container in a task definition has a log configuration (and the container definitions can be read).",
    severity: "high",
    remediation: 'Give every container logConfiguration { logDriver: "awslogs", options: { "awslogs-group", "awslogs-region", "awslogs-stream-prefix" } }.',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeContainers(CONTAINER_DEFINITIONS_OWNER, (container, label) => {
        const driver = at(container, "logConfiguration", "logDriver");
        if (isUnknown(driver)) {
            return "unknown";
        }
        return typeof driver === "string" && driver !== ""
            ? undefined
            : `${label} has no log configuration. Give it logConfiguration { logDriver: "awslogs", options: {...} }.`;
    }),
};

export const ecsContainerReadOnlyRoot: ComplianceCheck = {
    name: "ecs-container-read-only-root",
    control: CONTROLS["ECS.5"],
    description: "Every container's root filesystem is read-only; what the container writes goes to volumes.",
    severity: "high",
    remediation:
        'Set "readonlyRootFilesystem": true on every container, and mount a task volume (mountPoints) at each path the ' +
        "container writes to.",
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    // ECS.5 does not apply to Windows task definitions (Windows containers cannot have a read-only root).
    judge: onLinuxOnly(
        "ECS.5",
        judgeContainers("ecs-container-read-only-root", (container, label) => {
            const readOnly = container.readonlyRootFilesystem;
            if (isUnknown(readOnly)) {
                return "unknown";
            }
            return knownBoolean(readOnly) === true
                ? undefined
                : `${label} has a writable root filesystem (readonlyRootFilesystem ${JSON.stringify(readOnly ?? "unset")}). Set "readonlyRootFilesystem": true and give the paths it writes volumes.`;
        }),
    ),
};

/**
 * A task definition judgement for a control that applies to Linux task definitions only: one whose
 * runtimePlatform names another operating system family (WINDOWS_SERVER_...) passes as out of scope.
 * Unset means Linux, ECS's default.
 */
function onLinuxOnly(control: string, judge: ComplianceCheck["judge"]): ComplianceCheck["judge"] {
    return (resources, settings) =>
        resources.map((view) => {
            const family = at(view.props.runtimePlatform, "operatingSystemFamily");
            if (isUnknown(family)) {
                return unknown(view, "runtimePlatform.operatingSystemFamily is not known yet; the update judges it");
            }
            if (typeof family === "string" && family !== "LINUX") {
                return pass(view, `not a Linux task definition (${family}); ${control} applies to Linux containers`);
            }
            return judge([view], settings)[0];
        });
}

/** `root`, `0`, `root:<group>` or `0:<group>`: the user part is root. */
function isRootUser(user: string): boolean {
    const name = user.split(":")[0].trim();
    return name === "root" || name === "0";
}

export const ecsContainerNonRootUser: ComplianceCheck = {
    name: "ecs-container-non-root-user",
    control: CONTROLS["ECS.20"],
    description:
        "Every container of a Linux task definition names a non-root user in the task definition (the image's own USER is " +
        "not what the control reads).",
    severity: "medium",
    remediation: 'Set "user" on every container to the image\'s unprivileged user (for this stack\'s image: "nginx").',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: onLinuxOnly(
        "ECS.20",
        judgeContainers("ecs-container-non-root-user", (container, label) => {
            const user = container.user;
            if (isUnknown(user)) {
                return "unknown";
            }
            if (typeof user !== "string" || user.trim() === "") {
                return `${label} names no user, so the task definition says it runs as root. Set "user" to the image's unprivileged user.`;
            }
            return isRootUser(user) ? `${label} runs as ${JSON.stringify(user)}. Set "user" to an unprivileged user.` : undefined;
        }),
    ),
};

export const ecsTaskNoHostNetwork: ComplianceCheck = {
    name: "ecs-task-no-host-network",
    control: CONTROLS["ECS.17"],
    description: "Task definitions do not use the host network mode.",
    severity: "medium",
    remediation: 'Set networkMode "awsvpc" (Fargate requires it).',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeTaskDefinitions((view) => {
        const mode = view.props.networkMode;
        if (isUnknown(mode)) {
            return "unknown";
        }
        return mode === "host" ? `Task definition "${view.name}" uses networkMode "host". Use "awsvpc".` : undefined;
    }),
};

export const ecsTaskNoHostPid: ComplianceCheck = {
    name: "ecs-task-no-host-pid",
    control: CONTROLS["ECS.3"],
    description: "Task definitions do not share the host's process namespace.",
    severity: "high",
    remediation: 'Leave pidMode unset (or "task").',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeTaskDefinitions((view) => {
        const mode = view.props.pidMode;
        if (isUnknown(mode)) {
            return "unknown";
        }
        return mode === "host" ? `Task definition "${view.name}" sets pidMode "host". Leave pidMode unset (or "task").` : undefined;
    }),
};

export const ecsContainerNotPrivileged: ComplianceCheck = {
    name: "ecs-container-not-privileged",
    control: CONTROLS["ECS.4"],
    description: "No container in a task definition runs privileged.",
    severity: "high",
    remediation: 'Remove "privileged": true from the container definition.',
    types: [TASK_DEFINITION_TYPE],
    scope: "resource",
    judge: judgeContainers("ecs-container-not-privileged", (container, label) => {
        if (isUnknown(container.privileged)) {
            return "unknown";
        }
        return knownBoolean(container.privileged) === true ? `${label} is privileged. Remove "privileged": true.` : undefined;
    }),
};

function publicIpCheck(name: string, control: typeof CONTROLS["ECS.2"] | typeof CONTROLS["ECS.16"], type: string, what: string): ComplianceCheck {
    return {
        name,
        control,
        description: `ECS ${what}s do not assign public IP addresses to their tasks.`,
        severity: "high",
        remediation: "Set networkConfiguration.assignPublicIp to false and run the tasks in private subnets.",
        types: [type],
        scope: "resource",
        judge: (resources) =>
            resources.map((view) => {
                const assign = at(view.props.networkConfiguration, "assignPublicIp");
                if (isUnknown(assign)) {
                    return unknown(view, "networkConfiguration.assignPublicIp is not known yet; the update judges it");
                }
                return knownBoolean(assign) === true || assign === "ENABLED"
                    ? fail(view, `${what[0].toUpperCase()}${what.slice(1)} "${view.name}" assigns public IPs to its tasks. Set networkConfiguration.assignPublicIp to false and run the tasks in private subnets.`)
                    : pass(view);
            }),
    };
}

export const ecsServiceNoPublicIp = publicIpCheck("ecs-service-no-public-ip", CONTROLS["ECS.2"], SERVICE_TYPE, "service");
export const ecsTaskSetNoPublicIp = publicIpCheck("ecs-task-set-no-public-ip", CONTROLS["ECS.16"], TASK_SET_TYPE, "task set");

/**
 * What ECS.10 accepts: LATEST, or the latest Linux platform version by number. Security Hub fixes
 * the control's parameters (latestLinuxVersion 1.4.0, not customizable), so the policy takes no
 * setting for them: a list of "allowed" versions in policy config would pass an old version with no
 * reason on record. A service that must stay on an older version needs an accepted exception.
 */
export const LATEST_PLATFORM_VERSIONS: readonly string[] = ["LATEST", "1.4.0"];

export const ecsFargatePlatformLatest: ComplianceCheck = {
    name: "ecs-fargate-platform-latest",
    control: CONTROLS["ECS.10"],
    description: "Fargate services run on the latest platform version.",
    severity: "medium",
    remediation: 'Set platformVersion to "LATEST" (or leave it unset, which means LATEST).',
    types: [SERVICE_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const version = view.props.platformVersion;
            if (isUnknown(version)) {
                return unknown(view, "platformVersion is not known yet; the update judges it");
            }
            if (isMissing(version)) {
                return pass(view, "platformVersion unset: LATEST");
            }
            const launchType = knownString(view.props.launchType);
            if (launchType !== undefined && launchType !== "FARGATE") {
                return pass(view, `not a Fargate service (launchType ${launchType})`);
            }
            return typeof version === "string" && LATEST_PLATFORM_VERSIONS.includes(version)
                ? pass(view)
                : fail(view, `Service "${view.name}" pins Fargate platform version ${JSON.stringify(version)}. Set platformVersion to "LATEST" (or leave it unset).`);
        }),
};

const INSIGHTS_ON = ["enabled", "enhanced"];

/**
 * A cluster without its own containerInsights setting gets the account's default when it is
 * created: an AccountSettingDefault in the stack says which, else the `accountContainerInsights`
 * setting (for a default set outside the stack), else AWS's default, disabled.
 */
export const ecsClusterContainerInsights: ComplianceCheck = {
    name: "ecs-cluster-container-insights",
    control: CONTROLS["ECS.12"],
    description: "ECS clusters use Container Insights: their own setting, or the account's default when they have none.",
    severity: "medium",
    remediation:
        'Add settings [{ name: "containerInsights", value: "enabled" }] (or "enhanced") to the cluster, or set the account ' +
        "default (aws.ecs.AccountSettingDefault containerInsights).",
    types: [CLUSTER_TYPE],
    reads: [ACCOUNT_SETTING_TYPE],
    scope: "stack",
    settings: {
        accountContainerInsights: {
            type: "string",
            enum: ["enabled", "enhanced", "disabled"],
            default: "disabled",
            description: "The account's containerInsights default when it is set outside this stack (AWS's own default: disabled).",
        },
    },
    judge: (resources, settings) => {
        const accountSetting = resources.find((r) => r.type === ACCOUNT_SETTING_TYPE && knownString(r.props.name) === "containerInsights");
        return resources
            .filter((r) => r.type === CLUSTER_TYPE)
            .map((view) => {
                const list = view.props.settings;
                if (isUnknown(list)) {
                    return unknown(view, "settings is not known yet; the update judges it");
                }
                const own = (knownArray(list) ?? []).find((s) => at(s, "name") === "containerInsights");
                const value = own === undefined ? undefined : at(own, "value");
                if (isUnknown(value)) {
                    return unknown(view, "the containerInsights setting is not known yet; the update judges it");
                }
                if (typeof value === "string") {
                    return INSIGHTS_ON.includes(value)
                        ? pass(view)
                        : fail(view, `Cluster "${view.name}" turns Container Insights off (containerInsights ${JSON.stringify(value)}). Set it to "enabled" or "enhanced".`);
                }
                const accountValue = accountSetting ? accountSetting.props.value : settings.accountContainerInsights;
                if (isUnknown(accountValue)) {
                    return unknown(view, "the account's containerInsights default is not known yet; the update judges it");
                }
                const source = accountSetting ? `the account default set by "${accountSetting.name}"` : "the account default (policy setting accountContainerInsights)";
                const on = typeof accountValue === "string" && INSIGHTS_ON.includes(accountValue);
                if (on && !accountSetting) {
                    // A claim about an account setting the pack cannot see: what it lets through is
                    // reported as excepted, naming the claim, never as a pass.
                    return excepted(
                        view,
                        `accepted exception (accountContainerInsights): "${accountValue}" says the account default, set outside this stack, turns Container Insights on for a cluster without its own setting`,
                    );
                }
                return on
                    ? pass(view, `no setting of its own; ${source} is ${accountValue}`)
                    : fail(view, `Cluster "${view.name}" has no containerInsights setting and ${source} is ${JSON.stringify(accountValue)}. Add settings [{ name: "containerInsights", value: "enabled" }].`);
            });
    },
};

export const ecsServiceCircuitBreaker: ComplianceCheck = {
    name: "ecs-service-circuit-breaker-rollback",
    description:
        "Every ECS service deploys with the deployment circuit breaker and automatic rollback, so a bad image " +
        "rolls back instead of cycling failing tasks.",
    severity: "medium",
    remediation: "Set deploymentCircuitBreaker { enable: true, rollback: true }.",
    types: [SERVICE_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const controller = knownString(at(view.props.deploymentController, "type"));
            if (controller !== undefined && controller !== "ECS") {
                return pass(view, `deployment controller ${controller}: the circuit breaker applies to ECS only`);
            }
            const enable = at(view.props.deploymentCircuitBreaker, "enable");
            const rollback = at(view.props.deploymentCircuitBreaker, "rollback");
            if (isUnknown(view.props.deploymentCircuitBreaker) || isUnknown(enable) || isUnknown(rollback)) {
                return unknown(view, "deploymentCircuitBreaker is not known yet; the update judges it");
            }
            return knownBoolean(enable) === true && knownBoolean(rollback) === true
                ? pass(view)
                : fail(view, `Service "${view.name}" deploys without the circuit breaker and rollback. Set deploymentCircuitBreaker { enable: true, rollback: true }.`);
        }),
};

export const ECS_EXEC_OFF_IN_PRODUCTION = "ecs-exec-off-in-production";

/** The pack's own rule (no control): it depends on the stack being production, which a check cannot see. */
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
            productionStacks: PRODUCTION_STACKS_SETTING,
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

export const ecsChecks: ComplianceCheck[] = [
    ecsTaskImagePinnedByDigest,
    ecsNoSecretsInEnvironment,
    ecsContainerLogging,
    ecsContainerReadOnlyRoot,
    ecsContainerNonRootUser,
    ecsTaskNoHostNetwork,
    ecsTaskNoHostPid,
    ecsContainerNotPrivileged,
    ecsServiceNoPublicIp,
    ecsTaskSetNoPublicIp,
    ecsFargatePlatformLatest,
    ecsClusterContainerInsights,
    ecsServiceCircuitBreaker,
];
