// `npm run info -- --stack <name> [--outputs <file>] [--json]`
//
// What `make info` was meant to be: for each of the four tags, the digest ECR holds and when it
// was pushed, next to the digest the role runs now (the image named by its service's task
// definition; for the deployment role, by the stack's deployment task definition). Exits 1 when
// any role is out of sync: a tag missing in ECR, a pushed digest its service does not run, a
// service that is missing, or a task definition that names a tag instead of a digest.

import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, type Service } from "@aws-sdk/client-ecs";
import { ROLES, ROLE_SPECS, type Role } from "../components/roles";
import { driftWarning, shortDigest } from "./drift";
import { EXIT, parseCommandArgs, quietSdkNodeWarning, runMain, usage, type CommandSpec } from "./cli";
import {
    SERVICE_ROLES,
    loadStackOutputs,
    readServiceNames,
    readTags,
    resolveRegion,
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

export function infoExitCode(rows: InfoRow[]): number {
    return rows.every((r) => r.status === "ok") ? EXIT.ok : EXIT.findings;
}

/** The table and a verdict, as printed. */
export function renderInfo(inputs: InfoInputs, rows: InfoRow[]): string {
    const header = ["ROLE", "TAG", "ECR DIGEST", "PUSHED (UTC)", "RUNNING DIGEST", "RUNS IN", "STATE", "STATUS"];
    const body = rows.map((r) => [
        r.role,
        r.tag,
        r.pushedDigest === undefined ? "(tag missing)" : shortDigest(r.pushedDigest),
        formatPushedAt(r.pushedAt),
        r.runningImage === undefined ? "-" : r.runningDigest === undefined ? "(no digest)" : shortDigest(r.runningDigest),
        r.runsIn,
        r.runState ?? "-",
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
    const args = parseCommandArgs(argv, SPEC);
    if (args.help) {
        process.stdout.write(`${usage(SPEC)}\n`);
        return EXIT.ok;
    }
    const outputs = await loadStackOutputs({ stack: args.stack, outputsFile: args.outputs });
    const inputs = readInfoInputs(outputs);
    const region = resolveRegion(args.region, outputs);
    quietSdkNodeWarning();
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
