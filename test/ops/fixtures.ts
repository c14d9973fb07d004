// Stack outputs of a mastertest stack as `pulumi stack output --json --show-secrets` prints them,
// and the ECS/ECR shapes the commands read, for the operator command tests.

import * as fs from "node:fs";
import * as path from "node:path";
import type { Service } from "@aws-sdk/client-ecs";
import { quietSdkNodeWarning } from "../../ops/cli";
import { tempDir } from "../tempDirs";

// The commands silence the SDK's Node 22 notice the same way.
quietSdkNodeWarning();

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const REPOSITORY_URL = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/cgap-mastertest`;
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/cgap-mastertest`;

export function digest(seed: string): string {
    return `sha256:${seed.repeat(64).slice(0, 64)}`;
}

export function taskDefinitionArn(family: string, revision: number): string {
    return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
}

export function sampleOutputs(): Record<string, unknown> {
    return {
        portalUrl: "http://cgap-mastertest-1234567890.us-east-1.elb.amazonaws.com",
        clusterName: "cgap-mastertest",
        repositoryName: "cgap-mastertest",
        repositoryUrl: REPOSITORY_URL,
        serviceNames: { wsgi: "cgap-wsgi", indexer: "cgap-indexer", ingester: "cgap-ingester" },
        images: {
            wsgi: `${REPOSITORY_URL}@${digest("a")}`,
            indexer: `${REPOSITORY_URL}@${digest("b")}`,
            ingester: `${REPOSITORY_URL}@${digest("c")}`,
            deployment: `${REPOSITORY_URL}@${digest("d")}`,
        },
        tags: { wsgi: "latest", indexer: "latest-indexer", ingester: "latest-ingester", deployment: "latest-deployment" },
        deploymentTask: {
            cluster: CLUSTER_ARN,
            taskDefinitionArn: taskDefinitionArn("CGAPDeployment", 7),
            containerName: "DeploymentAction",
            subnets: ["subnet-0private1", "subnet-0private2"],
            securityGroups: ["sg-0app", "sg-0db"],
            assignPublicIp: "DISABLED",
            capacityProvider: "FARGATE_SPOT",
            logGroupName: "/ecs/cgap-mastertest-10530356517158578424743423",
            logStreamPrefix: "cgap-deployment",
            environment: "development",
        },
        logs: mastertestLogs(),
    };
}

/** The `logs` output of mastertest: one log group, a stream prefix per role. */
function mastertestLogs(): Record<string, unknown> {
    return {
        groupName: "/ecs/cgap-mastertest-10530356517158578424743423",
        groupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/cgap-mastertest-10530356517158578424743423`,
        streamPrefixes: { wsgi: "cgap-wsgi", indexer: "cgap-indexer", ingester: "cgap-ingester", deployment: "cgap-deployment" },
    };
}

/**
 * The outputs of the mastertest stack that the commands read, as the program exports them when it
 * runs under mocks with Pulumi.mastertest.yaml (contract.spec.ts holds them to the program's own).
 * Pinned here because running the program takes over a second, and the README's examples are run
 * against these.
 */
export function mastertestOutputs(): Record<string, unknown> {
    return {
        appAccess: {
            taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/cgap-roles-task-92e16a971d0d49310`,
            s3KmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`,
        },
        clusterName: "cgap-mastertest",
        deploymentTask: {
            cluster: "cgap-mastertest",
            taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/cgap-mastertest-deployment:1`,
            containerName: "DeploymentAction",
            subnets: ["subnet-d0514c640fe10828d", "subnet-1fb2d9d2b31dbb9ab"],
            securityGroups: ["sg-5bf9c001041be3a68", "sg-63c8797b39bf3e4fa", "sg-b137941b61ff9cbf1"],
            assignPublicIp: "DISABLED",
            capacityProvider: "FARGATE",
            logGroupName: "/ecs/cgap-mastertest-10530356517158578424743423",
            logStreamPrefix: "cgap-deployment",
            environment: "development",
        },
        logs: mastertestLogs(),
        repositoryName: "cgap-mastertest",
        repositoryUrl: REPOSITORY_URL,
        serviceNames: { wsgi: "cgap-mastertest-wsgi", indexer: "cgap-mastertest-indexer", ingester: "cgap-mastertest-ingester" },
        tags: { wsgi: "latest", indexer: "latest-indexer", ingester: "latest-ingester", deployment: "latest-deployment" },
    };
}

/** `actual` cut down to the keys `shape` has, at every depth (arrays and leaves are kept whole). */
export function pickShape(actual: unknown, shape: unknown): unknown {
    if (typeof shape !== "object" || shape === null || Array.isArray(shape) || typeof actual !== "object" || actual === null) {
        return actual;
    }
    return Object.fromEntries(
        Object.keys(shape).map((k) => [k, pickShape((actual as Record<string, unknown>)[k], (shape as Record<string, unknown>)[k])]),
    );
}

/** A service at steady state: one COMPLETED primary deployment, running == desired. */
export function settledService(name: string, taskDefinition: string, count = 1): Service {
    return {
        serviceName: name,
        serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/cgap-mastertest/${name}`,
        status: "ACTIVE",
        taskDefinition,
        desiredCount: count,
        runningCount: count,
        pendingCount: 0,
        deployments: [
            {
                id: `ecs-svc/${name}`,
                status: "PRIMARY",
                rolloutState: "COMPLETED",
                taskDefinition,
                desiredCount: count,
                runningCount: count,
            },
        ],
    };
}

/** Deletes `obj`'s value at a dotted path (for missing-output cases). */
export function without(outputs: Record<string, unknown>, dotted: string): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(outputs)) as Record<string, unknown>;
    const keys = dotted.split(".");
    let node = copy;
    for (const k of keys.slice(0, -1)) {
        node = node[k] as Record<string, unknown>;
    }
    delete node[keys[keys.length - 1]];
    return copy;
}

/** Writes outputs JSON to a fresh temporary file and returns its path. */
export function writeOutputsFile(outputs: Record<string, unknown>): string {
    const dir = tempDir("outputs");
    const file = path.join(dir, "outputs.json");
    fs.writeFileSync(file, JSON.stringify(outputs, null, 2));
    return file;
}

/**
 * Environment for a child process with no AWS credentials anywhere in the default chain and
 * instance metadata disabled, so the SDK must fail fast.
 */
export function envWithoutAwsCredentials(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith("AWS_")) {
            env[k] = v;
        }
    }
    env.HOME = home;
    env.USERPROFILE = home;
    env.AWS_EC2_METADATA_DISABLED = "true";
    env.AWS_CONFIG_FILE = path.join(home, "no-aws-config");
    env.AWS_SHARED_CREDENTIALS_FILE = path.join(home, "no-aws-credentials");
    return env;
}
