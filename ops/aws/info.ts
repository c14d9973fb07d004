// `npm run info -- --stack <name> [--outputs <file>] [--json]`
//
// What `make info` was meant to be: for each of the four tags, the digest ECR holds and when it
// was pushed, next to the digest the role runs now (the image named by its service's task
// definition; for the deployment role, by the stack's deployment task definition). Exits 1 when
// any role is out of sync: a tag missing in ECR, a pushed digest its service does not run, a
// service that is missing, or a task definition that names a tag instead of a digest. Each service's
// current deployment state (in progress, completed, failed, rolling back, rolled back) comes with the
// latest ECS service events that explain it.

import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import {
    DescribeServicesCommand,
    DescribeTaskDefinitionCommand,
    ECSClient,
    ListServiceDeploymentsCommand,
    type Service,
    type ServiceDeploymentBrief,
} from "@aws-sdk/client-ecs";
import { ROLES, ROLE_SPECS, type Role } from "../../components/roles";
import { driftWarning, shortDigest } from "../drift";
import { EXIT, runMain, type CommandSpec } from "../cli";
import { commandContext } from "./command";
import {
    SERVICE_ROLES,
    readServiceNames,
    readTags,
    type ServiceRole,
    type StackOutputs,
} from "./stackOutputs";

export interface InfoInputs {
    stack: string;
    repositoryName: string;
    clusterName: string;
    serviceNames: Record<ServiceRole, string>;
    deploymentTaskDefinitionArn: string;
    tags: Record<Role, string>;
}

export function readInfoInputs(o: StackOutputs): InfoInputs {
    return {
        stack: o.stack,
        repositoryName: o.string("repositoryName"),
        clusterName: o.string("clusterName"),
        serviceNames: readServiceNames(o),
        deploymentTaskDefinitionArn: o.string("deploymentTask.taskDefinitionArn"),
        tags: readTags(o),
    };
}

export type DeploymentPhase = "in progress" | "completed" | "failed" | "rolling back" | "rolled back";

export interface DeploymentState {
    phase: DeploymentPhase;
    /** ECS's own words for the phase: the deployment's rolloutStateReason or statusReason. */
    reason?: string;
    /** The latest service events, newest first, as `<time> <message>`; only when not completed. */
    events: string[];
}

/** How many of a service's events explain a deployment that did not simply complete. */
const EVENTS_SHOWN = 5;

/**
 * A service's current deployment, from DescribeServices' `deployments` (rolloutState and
 * rolloutStateReason) and, where the caller may list them, its latest service deployment
 * (ListServiceDeployments: the only place that still says ROLLBACK_SUCCESSFUL once a rollback has
 * completed). ECS words a circuit-breaker rollback as a new PRIMARY deployment whose reason is
 * "ECS deployment circuit breaker: rolling back to deploymentId <id>." next to the failed one
 * ("ECS deployment circuit breaker: tasks failed to start."), and logs the service events
 * "(deployment <id>) deployment failed: ..." and "rolling back to deployment <id>."
 */
export function deploymentState(service: Service, latest?: ServiceDeploymentBrief): DeploymentState {
    const deployments = service.deployments ?? [];
    const primary = deployments.find((d) => d.status === "PRIMARY");
    const failed = deployments.find((d) => d.rolloutState === "FAILED");
    const rollingBack = primary?.rolloutState === "IN_PROGRESS" && /rolling back/i.test(primary.rolloutStateReason ?? "");
    const events = (service.events ?? []).slice(0, EVENTS_SHOWN);
    const recentRollback = events.some((e) => /rolling back to deployment/i.test(e.message ?? ""));
    let phase: DeploymentPhase;
    let reason = primary?.rolloutStateReason;
    switch (latest?.status) {
        case "ROLLBACK_REQUESTED":
        case "ROLLBACK_IN_PROGRESS":
            phase = "rolling back";
            break;
        case "ROLLBACK_SUCCESSFUL":
            phase = "rolled back";
            break;
        case "ROLLBACK_FAILED":
        case "STOPPED":
        case "STOP_REQUESTED":
            phase = "failed";
            break;
        default:
            if (rollingBack) {
                phase = "rolling back";
            } else if (primary?.rolloutState === "FAILED") {
                phase = "failed";
            } else if (failed !== undefined && primary?.rolloutState !== "IN_PROGRESS") {
                phase = "failed";
                reason = failed.rolloutStateReason;
            } else if (primary?.rolloutState === "IN_PROGRESS" || deployments.length > 1) {
                phase = "in progress";
            } else if (latest === undefined && recentRollback) {
                // Without ListServiceDeployments the finished rollback shows only in the events.
                phase = "rolled back";
            } else {
                phase = "completed";
            }
    }
    if (latest?.statusReason) {
        reason = latest.statusReason;
    } else if (phase === "rolling back" && failed?.rolloutStateReason) {
        reason = `${failed.rolloutStateReason} ${primary?.rolloutStateReason ?? ""}`.trim();
    }
    return {
        phase,
        reason,
        events: phase === "completed" ? [] : events.map((e) => `${formatPushedAt(e.createdAt?.toISOString())} ${e.message ?? ""}`),
    };
}

/**
 * The service's newest service deployment, or undefined when the caller may not list them
 * (ecs:ListServiceDeployments is newer than many operator policies): the state then comes from
 * DescribeServices alone.
 */
async function latestServiceDeployment(
    ecs: ECSClient,
    cluster: string,
    service: string,
): Promise<ServiceDeploymentBrief | undefined> {
    try {
        const res = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service, maxResults: 10 }));
        const time = (d: ServiceDeploymentBrief) => (d.createdAt ?? d.startedAt)?.getTime() ?? 0;
        return [...(res.serviceDeployments ?? [])].sort((a, b) => time(b) - time(a))[0];
    } catch (err) {
        if ((err as { name?: string }).name === "AccessDeniedException") {
            return undefined;
        }
        throw err;
    }
}

export type RowStatus = "ok" | "drift" | "tag-missing" | "no-service" | "unpinned";

export interface InfoRow {
    role: Role;
    tag: string;
    /** Digest the tag points at in ECR; undefined when the tag is missing. */
    pushedDigest?: string;
    pushedAt?: string;
    /** Where the role runs: `service <name>` or `task definition <family:revision>`. */
    runsIn: string;
    /** running/desired for services, plus whether a rollout is in flight. */
    runState?: string;
    /** The service's current deployment, for long-running roles. */
    deployment?: DeploymentState;
    /** Image reference in the task definition, as written. */
    runningImage?: string;
    /** Digest part of `runningImage`, when it names one. */
    runningDigest?: string;
    status: RowStatus;
    /** Why the row is not ok, in words. */
    problem?: string;
}

const DIGEST_RE = /@(sha256:[0-9a-f]{64})$/;

export function digestOf(image: string | undefined): string | undefined {
    return image?.match(DIGEST_RE)?.[1];
}

/** `arn:...:task-definition/CGAPDeployment:7` -> `CGAPDeployment:7`. */
export function familyRevision(taskDefinitionArn: string): string {
    return taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf("/") + 1);
}

async function pushedImage(
    ecr: ECRClient,
    repositoryName: string,
    tag: string,
): Promise<{ digest: string; pushedAt?: string } | undefined> {
    try {
        const res = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag: tag }] }));
        const detail = res.imageDetails?.[0];
        if (detail?.imageDigest === undefined) {
            return undefined;
        }
        return { digest: detail.imageDigest, pushedAt: detail.imagePushedAt?.toISOString() };
    } catch (err) {
        if ((err as { name?: string }).name === "ImageNotFoundException") {
            return undefined;
        }
        throw err;
    }
}

function runState(service: Service): string {
    const rolling =
        (service.deployments ?? []).length > 1 ||
        (service.deployments ?? []).some((d) => d.status === "PRIMARY" && d.rolloutState === "IN_PROGRESS");
    return `${service.runningCount ?? 0}/${service.desiredCount ?? 0}${rolling ? " rolling out" : ""}`;
}

/** Asks ECR and ECS, one row per role in the order of `ROLES`. */
export async function collectInfo(inputs: InfoInputs, clients: { ecs: ECSClient; ecr: ECRClient }): Promise<InfoRow[]> {
    const { ecs, ecr } = clients;
    const serviceNames = SERVICE_ROLES.map((r) => inputs.serviceNames[r]);
    const [pushed, described] = await Promise.all([
        Promise.all(ROLES.map((r) => pushedImage(ecr, inputs.repositoryName, inputs.tags[r]))),
        ecs.send(new DescribeServicesCommand({ cluster: inputs.clusterName, services: serviceNames })),
    ]);
    const services = new Map((described.services ?? []).map((s) => [s.serviceName, s]));

    const taskDefinitionImages = new Map<string, Promise<Map<string, string>>>();
    const containerImages = (arn: string): Promise<Map<string, string>> => {
        let cached = taskDefinitionImages.get(arn);
        if (cached === undefined) {
            cached = (async () => {
                const res = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
                return new Map((res.taskDefinition?.containerDefinitions ?? []).map((c) => [c.name ?? "", c.image ?? ""]));
            })();
            taskDefinitionImages.set(arn, cached);
        }
        return cached;
    };

    const rows: InfoRow[] = [];
    for (const [i, role] of ROLES.entries()) {
        const tag = inputs.tags[role];
        const image = pushed[i];
        const row: InfoRow = {
            role,
            tag,
            pushedDigest: image?.digest,
            pushedAt: image?.pushedAt,
            runsIn: "",
            status: "ok",
        };
        let taskDefinitionArn: string | undefined;
        if (!ROLE_SPECS[role].hasService) {
            taskDefinitionArn = inputs.deploymentTaskDefinitionArn;
            row.runsIn = `task definition ${familyRevision(taskDefinitionArn)}`;
        } else {
            const name = inputs.serviceNames[role as ServiceRole];
            const service = services.get(name);
            row.runsIn = `service ${name}`;
            if (service === undefined || service.status !== "ACTIVE") {
                row.status = "no-service";
                row.problem = `service ${name} is ${service?.status ?? "missing"} in cluster ${inputs.clusterName}`;
            } else {
                row.runState = runState(service);
                row.deployment = deploymentState(service, await latestServiceDeployment(ecs, inputs.clusterName, name));
                taskDefinitionArn = service.taskDefinition;
            }
        }
        if (taskDefinitionArn !== undefined) {
            const containerName = ROLE_SPECS[role].containerName;
            const runningImage = (await containerImages(taskDefinitionArn)).get(containerName);
            row.runningImage = runningImage;
            row.runningDigest = digestOf(runningImage);
            if (runningImage === undefined) {
                row.status = "no-service";
                row.problem = `task definition ${familyRevision(taskDefinitionArn)} has no container ${containerName}`;
            }
        }
        if (row.status === "ok") {
            if (image === undefined) {
                row.status = "tag-missing";
                row.problem = `tag ${tag} is missing in ECR repository ${inputs.repositoryName}`;
            } else if (row.runningDigest === undefined) {
                row.status = "unpinned";
                row.problem = `${row.runsIn} names ${row.runningImage}, not a digest: what runs depends on when tasks started`;
            } else if (row.runningDigest !== image.digest) {
                row.status = "drift";
                row.problem =
                    `${tag} points at ${shortDigest(image.digest)} but ${row.runsIn} runs ` +
                    `${shortDigest(row.runningDigest)}`;
            }
        }
        rows.push(row);
    }
    return rows;
}

export { shortDigest };

function formatPushedAt(iso: string | undefined): string {
    return iso === undefined ? "-" : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

const STATUS_LABEL: Record<RowStatus, string> = {
    ok: "ok",
    drift: "DRIFT",
    "tag-missing": "TAG MISSING",
    "no-service": "NOT RUNNING",
    unpinned: "UNPINNED",
};

/** A deployment that failed or was rolled back needs the runbook even when the digests agree. */
function deploymentTrouble(row: InfoRow): boolean {
    return row.deployment !== undefined && ["failed", "rolling back", "rolled back"].includes(row.deployment.phase);
}

export function infoExitCode(rows: InfoRow[]): number {
    return rows.every((r) => r.status === "ok" && !deploymentTrouble(r)) ? EXIT.ok : EXIT.findings;
}

/** The table and a verdict, as printed. */
export function renderInfo(inputs: InfoInputs, rows: InfoRow[]): string {
    const header = ["ROLE", "TAG", "ECR DIGEST", "PUSHED (UTC)", "RUNNING DIGEST", "RUNS IN", "STATE", "DEPLOYMENT", "STATUS"];
    const body = rows.map((r) => [
        r.role,
        r.tag,
        r.pushedDigest === undefined ? "(tag missing)" : shortDigest(r.pushedDigest),
        formatPushedAt(r.pushedAt),
        r.runningImage === undefined ? "-" : r.runningDigest === undefined ? "(no digest)" : shortDigest(r.runningDigest),
        r.runsIn,
        r.runState ?? "-",
        r.deployment?.phase ?? "-",
        STATUS_LABEL[r.status],
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    const out = [
        `stack ${inputs.stack}: ECR repository ${inputs.repositoryName}, ECS cluster ${inputs.clusterName}`,
        "",
        line(header),
        ...body.map(line),
        "",
    ];
    const bad = rows.filter((r) => r.status !== "ok");
    if (bad.length === 0) {
        out.push(`all ${rows.length} roles run the digest their tag points at`);
    } else {
        out.push(`${bad.length} of ${rows.length} roles out of sync:`);
        for (const r of bad) {
            out.push(`  ${r.role}: ${r.problem}`);
        }
    }
    const drifted = rows.filter((r) => r.status === "drift");
    if (drifted.length > 0) {
        out.push("");
        for (const r of drifted) {
            out.push(driftWarning({ role: r.role, tag: r.tag, ecrDigest: r.pushedDigest!, runningDigest: r.runningDigest! }));
        }
    }
    for (const r of rows) {
        if (r.deployment === undefined || r.deployment.phase === "completed") {
            continue;
        }
        out.push("", `${r.role} (${r.runsIn}): deployment ${r.deployment.phase}${r.deployment.reason ? `: ${r.deployment.reason}` : ""}`);
        out.push(...r.deployment.events.map((e) => `  ${e}`));
    }
    return out.join("\n");
}

export const SPEC: CommandSpec = {
    name: "info",
    summary:
        "For each of the four tags: the digest in ECR, when it was pushed, and the digest its role runs\n" +
        "now. Exit 0 when every role runs what its tag points at, 1 when not, 2 on bad input or a\n" +
        "missing stack output, 3 when AWS refuses.",
    options: {
        json: { type: "boolean", description: "print the rows as JSON (full digests) instead of the table" },
    },
};

export async function main(argv: string[]): Promise<number> {
    const context = await commandContext(argv, SPEC);
    if (context === undefined) {
        return EXIT.ok;
    }
    const { args, outputs, region } = context;
    const inputs = readInfoInputs(outputs);
    const ecs = new ECSClient({ region });
    const ecr = new ECRClient({ region });
    try {
        const rows = await collectInfo(inputs, { ecs, ecr });
        process.stdout.write(
            args.extra.json === true ? `${JSON.stringify(rows, null, 2)}\n` : `${renderInfo(inputs, rows)}\n`,
        );
        return infoExitCode(rows);
    } finally {
        ecs.destroy();
        ecr.destroy();
    }
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2)));
}
