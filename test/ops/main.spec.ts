// The commands' `main` wiring (arguments, outputs file, region, clients, printing, exit code),
// with the SDK clients stubbed at the class level so the clients `main` builds are the stubs.

import * as assert from "node:assert/strict";
import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeImagesCommand, ECRClient, type DescribeImagesCommandInput } from "@aws-sdk/client-ecr";
import {
    ListServiceDeploymentsCommand,
    DescribeServicesCommand,
    DescribeTaskDefinitionCommand,
    DescribeTasksCommand,
    ECSClient,
    RunTaskCommand,
    type DescribeTaskDefinitionCommandInput,
} from "@aws-sdk/client-ecs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { ROLE_SPECS, ROLES } from "../../components/roles";
import { EXIT } from "../../ops/cli";
import { main as deploymentTask } from "../../ops/aws/deploymentTask";
import { main as exec } from "../../ops/aws/exec";
import { main as info } from "../../ops/aws/info";
import { main as logsCommand } from "../../ops/aws/logs";
import { main as preflight } from "../../ops/aws/preflight";
import { REPOSITORY_URL, digest, sampleOutputs, settledService, taskDefinitionArn, writeOutputsFile } from "./fixtures";

const TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/cgap-mastertest/4c8e1a2b9d7f4e0a8b6c5d4e3f2a1b0c";

/** Runs `fn` with process.stdout/stderr writes captured. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const originalOut = process.stdout.write.bind(process.stdout);
    const originalErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
        const result = await fn();
        return { result, stdout: out.join(""), stderr: err.join("") };
    } finally {
        process.stdout.write = originalOut;
        process.stderr.write = originalErr;
    }
}

describe("command main functions, with class-level stubbed clients", () => {
    let ecs: AwsClientStub<ECSClient>;
    let ecr: AwsClientStub<ECRClient>;
    let logs: AwsClientStub<CloudWatchLogsClient>;
    let savedRegion: string | undefined;

    beforeEach(() => {
        ecs = mockClient(ECSClient);
        ecr = mockClient(ECRClient);
        logs = mockClient(CloudWatchLogsClient);
        savedRegion = process.env.AWS_REGION;
        // A default region elsewhere must not win over the stack's own.
        process.env.AWS_REGION = "eu-west-1";
        ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [{ status: "SUCCESSFUL" }] });
        ecs.on(DescribeServicesCommand).resolves({
            services: [
                settledService("cgap-wsgi", taskDefinitionArn("CGAPWSGI", 2), 8),
                settledService("cgap-indexer", taskDefinitionArn("CGAPIndexer", 2), 4),
                settledService("cgap-ingester", taskDefinitionArn("CGAPIngester", 2), 1),
            ],
        });
    });
    afterEach(() => {
        ecs.restore();
        ecr.restore();
        logs.restore();
        if (savedRegion === undefined) {
            delete process.env.AWS_REGION;
        } else {
            process.env.AWS_REGION = savedRegion;
        }
    });

    it("deployment-task: log lines on stdout, progress on stderr, the container's exit code returned, the stack's region", async () => {
        ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: "PROVISIONING" }] });
        ecs.on(DescribeTasksCommand)
            .resolvesOnce({ tasks: [{ taskArn: TASK_ARN, lastStatus: "RUNNING" }] })
            .resolves({
                tasks: [
                    {
                        taskArn: TASK_ARN,
                        lastStatus: "STOPPED",
                        stopCode: "EssentialContainerExited",
                        stoppedReason: "Essential container in task exited",
                        containers: [{ name: "DeploymentAction", exitCode: 5 }],
                    },
                ],
            });
        logs.on(GetLogEventsCommand)
            .resolvesOnce({ events: [{ message: "load-data --prod" }], nextForwardToken: "f/1" })
            .resolvesOnce({ events: [], nextForwardToken: "f/1" })
            .resolvesOnce({ events: [{ message: "load-data failed\n" }], nextForwardToken: "f/2" })
            .resolves({ events: [], nextForwardToken: "f/2" });
        const file = writeOutputsFile(sampleOutputs());
        const { result, stdout, stderr } = await captured(() =>
            deploymentTask(["--stack", "mastertest", "--outputs", file, "--poll-interval", "0.001"]),
        );
        assert.equal(result, 5);
        assert.equal(stdout, "load-data --prod\nload-data failed\n");
        const progress = stderr.trim().split("\n");
        assert.ok(progress.every((l) => l.startsWith("deployment-task: ")), stderr);
        assert.match(progress[progress.length - 1], /a deployment step failed: the container exited with 5 \(stop code EssentialContainerExited/);
        const client = ecs.send.firstCall.thisValue as ECSClient;
        assert.equal(await client.config.region(), "us-east-1");
    });

    it("deployment-task: --region wins", async () => {
        ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK_ARN, lastStatus: "PROVISIONING" }] });
        ecs.on(DescribeTasksCommand).resolves({
            tasks: [{ taskArn: TASK_ARN, lastStatus: "STOPPED", containers: [{ name: "DeploymentAction", exitCode: 0 }] }],
        });
        logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: "f/0" });
        const file = writeOutputsFile(sampleOutputs());
        const { result } = await captured(() =>
            deploymentTask(["--stack", "mastertest", "--outputs", file, "--region", "us-west-2", "--poll-interval", "0.001"]),
        );
        assert.equal(result, 0);
        assert.equal(await (ecs.send.firstCall.thisValue as ECSClient).config.region(), "us-west-2");
    });

    const SEED = { wsgi: "a", indexer: "b", ingester: "c", deployment: "d" } as const;

    function stubImages(pushed: Record<string, string>): void {
        ecr.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
            const tag = input.imageIds?.[0]?.imageTag ?? "";
            if (pushed[tag] === undefined) {
                throw Object.assign(new Error(`image ${tag} does not exist`), { name: "ImageNotFoundException" });
            }
            return { imageDetails: [{ imageDigest: pushed[tag], imagePushedAt: new Date("2024-05-02T09:41:07Z") }] };
        });
        ecs.on(DescribeTaskDefinitionCommand).callsFake((input: DescribeTaskDefinitionCommandInput) => {
            const role = ROLES.find((r) =>
                input.taskDefinition?.includes(`/${{ wsgi: "CGAPWSGI", indexer: "CGAPIndexer", ingester: "CGAPIngester", deployment: "CGAPDeployment" }[r]}:`),
            )!;
            return {
                taskDefinition: {
                    containerDefinitions: [{ name: ROLE_SPECS[role].containerName, image: `${REPOSITORY_URL}@${digest(SEED[role])}` }],
                },
            };
        });
    }

    it("info: prints the table and exits 1 on drift", async () => {
        stubImages({ latest: digest("a"), "latest-indexer": digest("e"), "latest-ingester": digest("c"), "latest-deployment": digest("d") });
        const file = writeOutputsFile(sampleOutputs());
        const { result, stdout } = await captured(() => info(["--stack", "mastertest", "--outputs", file]));
        assert.equal(result, EXIT.findings);
        assert.match(stdout, /^stack mastertest: ECR repository cgap-mastertest, ECS cluster cgap-mastertest\n/);
        assert.match(stdout, /^indexer .* DRIFT$/m);
        assert.match(stdout, /1 of 4 roles out of sync/);
        assert.equal(await (ecr.send.firstCall.thisValue as ECRClient).config.region(), "us-east-1");
    });

    it("info --json: full digests, exit 0 when in sync", async () => {
        stubImages({ latest: digest("a"), "latest-indexer": digest("b"), "latest-ingester": digest("c"), "latest-deployment": digest("d") });
        const file = writeOutputsFile(sampleOutputs());
        const { result, stdout } = await captured(() => info(["--stack", "mastertest", "--outputs", file, "--json"]));
        assert.equal(result, EXIT.ok);
        const rows = JSON.parse(stdout) as { role: string; pushedDigest: string; runningDigest: string; status: string }[];
        assert.deepEqual(
            rows.map((r) => [r.role, r.pushedDigest, r.runningDigest, r.status]),
            [
                ["wsgi", digest("a"), digest("a"), "ok"],
                ["indexer", digest("b"), digest("b"), "ok"],
                ["ingester", digest("c"), digest("c"), "ok"],
                ["deployment", digest("d"), digest("d"), "ok"],
            ],
        );
    });

    describe("every command starts the same way (commandContext)", () => {
        const missing = "/nonexistent/outputs.json";
        const mains: [string, (argv: string[]) => Promise<number>, string[], RegExp][] = [
            ["deployment-task", deploymentTask, ["--capacity", "cheap"], /^--capacity must be spot or on-demand, got "cheap"$/],
            ["logs", logsCommand, ["--role", "web"], /^--role is "web"; it must be one of wsgi, indexer, ingester, deployment$/],
            ["exec", exec, ["--role", "deployment"], /^--role is "deployment"; it must be one of wsgi, indexer, ingester$/],
            ["info", info, [], /outputs\.json/],
            ["preflight", preflight, [], /outputs\.json/],
        ];
        for (const [name, main, flags, message] of mains) {
            it(`${name}: --help prints the usage and exits 0; its own flags are judged before the outputs are read`, async () => {
                const help = await captured(() => main(["--help"]));
                assert.equal(help.result, EXIT.ok);
                assert.match(help.stdout, new RegExp(`^usage: npm run ${name} -- --stack <name>`));
                await assert.rejects(
                    captured(() => main(["--stack", "mastertest", "--outputs", missing, ...flags])),
                    (err: Error) => message.test(err.message),
                );
                assert.equal(ecs.send.callCount + ecr.send.callCount + logs.send.callCount, 0, "no AWS call before the arguments are good");
            });
        }
    });
});
