import * as assert from "node:assert/strict";
import { DescribeImagesCommand, ECRClient, type DescribeImagesCommandInput } from "@aws-sdk/client-ecr";
import {
    DescribeServicesCommand,
    DescribeTaskDefinitionCommand,
    ECSClient,
    ListServiceDeploymentsCommand,
    type ListServiceDeploymentsCommandInput,
    type ServiceDeploymentBrief,
    type DescribeTaskDefinitionCommandInput,
    type Service,
} from "@aws-sdk/client-ecs";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { ROLE_SPECS, type Role } from "../../components/roles";
import { EXIT, describeError } from "../../ops/cli";
import { collectInfo, infoExitCode, readInfoInputs, renderInfo, type InfoRow } from "../../ops/aws/info";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { REGION, REPOSITORY_URL, digest, sampleOutputs, settledService, taskDefinitionArn, without } from "./fixtures";

const PUSHED_AT = new Date("2024-05-02T09:41:07Z");
const FAMILIES: Record<Role, string> = {
    wsgi: "CGAPWSGI",
    indexer: "CGAPIndexer",
    ingester: "CGAPIngester",
    deployment: "CGAPDeployment",
};
const SEEDS: Record<Role, string> = { wsgi: "a", indexer: "b", ingester: "c", deployment: "d" };

interface World {
    /** Digest each tag points at in ECR; absent = the tag was never pushed. */
    pushed: Partial<Record<string, string>>;
    /** Image each role's current task definition names. */
    running: Record<Role, string>;
    services?: Service[];
    /** What ListServiceDeployments answers per service name; "denied" = AccessDeniedException. */
    serviceDeployments?: Record<string, ServiceDeploymentBrief[] | "denied">;
}

function matchingWorld(): World {
    const pushed: Record<string, string> = {};
    const running = {} as Record<Role, string>;
    for (const role of Object.keys(SEEDS) as Role[]) {
        pushed[ROLE_SPECS[role].tag] = digest(SEEDS[role]);
        running[role] = `${REPOSITORY_URL}@${digest(SEEDS[role])}`;
    }
    return { pushed, running };
}

function stubs(world: World): { ecs: ECSClient; ecr: ECRClient; ecsMock: AwsClientStub<ECSClient>; ecrMock: AwsClientStub<ECRClient> } {
    const ecs = new ECSClient({ region: REGION });
    const ecr = new ECRClient({ region: REGION });
    const ecsMock = mockClient(ecs);
    const ecrMock = mockClient(ecr);
    ecrMock.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
        assert.equal(input.repositoryName, "cgap-mastertest");
        const tag = input.imageIds?.[0]?.imageTag ?? "";
        const d = world.pushed[tag];
        if (d === undefined) {
            const err = new Error(
                `The image with imageId {imageDigest:'null', imageTag:'${tag}'} does not exist within the repository with name 'cgap-mastertest'`,
            );
            err.name = "ImageNotFoundException";
            throw err;
        }
        return {
            imageDetails: [
                { repositoryName: "cgap-mastertest", imageDigest: d, imageTags: [tag], imagePushedAt: PUSHED_AT, imageSizeInBytes: 1 },
            ],
        };
    });
    ecsMock.on(DescribeServicesCommand).resolves({
        services: world.services ?? [
            settledService("cgap-wsgi", taskDefinitionArn(FAMILIES.wsgi, 5), 8),
            settledService("cgap-indexer", taskDefinitionArn(FAMILIES.indexer, 5), 4),
            settledService("cgap-ingester", taskDefinitionArn(FAMILIES.ingester, 5), 1),
        ],
        failures: [],
    });
    ecsMock.on(ListServiceDeploymentsCommand).callsFake((input: ListServiceDeploymentsCommandInput) => {
        assert.equal(input.cluster, "cgap-mastertest");
        const answer = world.serviceDeployments?.[input.service ?? ""];
        if (answer === "denied") {
            const err = new Error(
                `User: arn:aws:sts::123456789012:assumed-role/operator/me is not authorized to perform: ecs:ListServiceDeployments`,
            );
            err.name = "AccessDeniedException";
            throw err;
        }
        return {
            serviceDeployments: answer ?? [
                { status: "SUCCESSFUL", createdAt: new Date("2024-05-02T09:45:00Z"), statusReason: "Service deployment completed." },
            ],
        };
    });
    ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: DescribeTaskDefinitionCommandInput) => {
        const role = (Object.keys(FAMILIES) as Role[]).find((r) => input.taskDefinition?.includes(`/${FAMILIES[r]}:`));
        assert.ok(role, `unexpected task definition ${input.taskDefinition}`);
        return {
            taskDefinition: {
                taskDefinitionArn: input.taskDefinition,
                family: FAMILIES[role],
                containerDefinitions: [{ name: ROLE_SPECS[role].containerName, image: world.running[role] }],
            },
        };
    });
    return { ecs, ecr, ecsMock, ecrMock };
}

function matchingServices(): Service[] {
    return [
        settledService("cgap-wsgi", taskDefinitionArn(FAMILIES.wsgi, 5), 8),
        settledService("cgap-indexer", taskDefinitionArn(FAMILIES.indexer, 5), 4),
        settledService("cgap-ingester", taskDefinitionArn(FAMILIES.ingester, 5), 1),
    ];
}

const INPUTS = readInfoInputs(new StackOutputs("mastertest", { ...sampleOutputs(), deploymentTask: {
    ...(sampleOutputs().deploymentTask as Record<string, unknown>),
    taskDefinitionArn: taskDefinitionArn("CGAPDeployment", 5),
} }));

async function info(world: World): Promise<{ rows: InfoRow[]; text: string; code: number; ecsMock: AwsClientStub<ECSClient> }> {
    const { ecs, ecr, ecsMock } = stubs(world);
    const rows = await collectInfo(INPUTS, { ecs, ecr });
    return { rows, text: renderInfo(INPUTS, rows), code: infoExitCode(rows), ecsMock };
}

describe("info", () => {
    it("shows every tag's pushed digest next to what its role runs, and exits 0 when they match", async () => {
        const { rows, text, code, ecsMock } = await info(matchingWorld());
        assert.equal(code, EXIT.ok);
        assert.deepEqual(
            rows.map((r) => [r.role, r.tag, r.pushedDigest, r.runningDigest, r.status]),
            [
                ["wsgi", "latest", digest("a"), digest("a"), "ok"],
                ["indexer", "latest-indexer", digest("b"), digest("b"), "ok"],
                ["ingester", "latest-ingester", digest("c"), digest("c"), "ok"],
                ["deployment", "latest-deployment", digest("d"), digest("d"), "ok"],
            ],
        );
        assert.equal(rows[0].pushedAt, "2024-05-02T09:41:07.000Z");
        assert.equal(rows[0].runsIn, "service cgap-wsgi");
        assert.equal(rows[0].runState, "8/8");
        assert.equal(rows[3].runsIn, "task definition CGAPDeployment:5");
        const lines = text.split("\n");
        assert.match(lines[2], /^ROLE\s+TAG\s+ECR DIGEST\s+PUSHED \(UTC\)\s+RUNNING DIGEST\s+RUNS IN\s+STATE\s+DEPLOYMENT\s+STATUS$/);
        assert.match(lines[3], /^wsgi\s+latest\s+sha256:aaaaaaaaaaaa\s+2024-05-02 09:41\s+sha256:aaaaaaaaaaaa\s+service cgap-wsgi\s+8\/8\s+completed\s+ok$/);
        assert.match(lines[6], /^deployment\s+latest-deployment\s+sha256:dddddddddddd\s+.*task definition CGAPDeployment:5\s+-\s+-\s+ok$/);
        assert.match(text, /all 4 roles run the digest their tag points at/);
        // The deployment role's image comes from the stack's deployment task definition.
        const asked = ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition);
        assert.ok(asked.includes(taskDefinitionArn("CGAPDeployment", 5)));
    });

    it("flags a tag whose pushed digest differs from what its service runs, and exits 1", async () => {
        const world = matchingWorld();
        // latest-indexer moved on in ECR; the indexer service still runs the old build.
        world.pushed["latest-indexer"] = digest("e");
        const { rows, text, code } = await info(world);
        assert.equal(code, EXIT.findings);
        assert.deepEqual(
            rows.map((r) => r.status),
            ["ok", "drift", "ok", "ok"],
        );
        assert.match(text, /^indexer\s+latest-indexer\s+sha256:eeeeeeeeeeee\s+.*sha256:bbbbbbbbbbbb\s+service cgap-indexer\s+4\/4\s+completed\s+DRIFT$/m);
        assert.match(
            text,
            /1 of 4 roles out of sync:\n {2}indexer: latest-indexer points at sha256:eeeeeeeeeeee but service cgap-indexer runs sha256:bbbbbbbbbbbb/,
        );
        // The warning names the tag, both digests, and what leaving the role out or rolling it out does.
        const warnings = text.split("\n").filter((l) => l.startsWith("warning: "));
        assert.deepEqual(warnings, [
            "warning: latest-indexer in ECR is sha256:eeeeeeeeeeee but indexer runs sha256:bbbbbbbbbbbb: the tag moved outside this stack. " +
                "Left out of cgap:rollout, indexer keeps running sha256:bbbbbbbbbbbb; a rollout that includes indexer builds " +
                "cgap:appVersion anew and pushes it over latest-indexer, so indexer would run that new build, never sha256:eeeeeeeeeeee.",
        ]);
    });

    it("flags the deployment role when its task definition runs another digest than latest-deployment", async () => {
        const world = matchingWorld();
        world.running.deployment = `${REPOSITORY_URL}@${digest("f")}`;
        const { rows, code } = await info(world);
        assert.equal(code, EXIT.findings);
        assert.equal(rows[3].status, "drift");
    });

    it("shows a tag missing in ECR clearly, and exits 1", async () => {
        const world = matchingWorld();
        delete world.pushed["latest-ingester"];
        delete world.pushed["latest-deployment"];
        const { rows, text, code } = await info(world);
        assert.equal(code, EXIT.findings);
        assert.deepEqual(
            rows.map((r) => r.status),
            ["ok", "ok", "tag-missing", "tag-missing"],
        );
        assert.equal(rows[2].pushedDigest, undefined);
        assert.match(text, /^ingester\s+latest-ingester\s+\(tag missing\)\s+-\s+sha256:cccccccccccc\s+.*TAG MISSING$/m);
        assert.match(text, /ingester: tag latest-ingester is missing in ECR repository cgap-mastertest/);
        assert.match(text, /2 of 4 roles out of sync/);
    });

    it("marks a task definition that names a tag instead of a digest, and a service in rollout", async () => {
        const world = matchingWorld();
        world.running.wsgi = `${REPOSITORY_URL}:latest`;
        const wsgi = settledService("cgap-wsgi", taskDefinitionArn(FAMILIES.wsgi, 6), 8);
        wsgi.runningCount = 5;
        wsgi.deployments = [
            { ...wsgi.deployments![0], rolloutState: "IN_PROGRESS" },
            { status: "ACTIVE", rolloutState: "COMPLETED", taskDefinition: taskDefinitionArn(FAMILIES.wsgi, 5) },
        ];
        world.services = [
            wsgi,
            settledService("cgap-indexer", taskDefinitionArn(FAMILIES.indexer, 5), 4),
            settledService("cgap-ingester", taskDefinitionArn(FAMILIES.ingester, 5), 1),
        ];
        const { rows, text, code } = await info(world);
        assert.equal(code, EXIT.findings);
        assert.equal(rows[0].status, "unpinned");
        assert.equal(rows[0].runState, "5/8 rolling out");
        assert.match(text, /^wsgi\s+latest\s+sha256:aaaaaaaaaaaa\s+\S+ \S+\s+\(no digest\)\s+service cgap-wsgi\s+5\/8 rolling out\s+in progress\s+UNPINNED$/m);
    });

    it("reports a service missing from the cluster", async () => {
        const world = matchingWorld();
        world.services = [
            settledService("cgap-wsgi", taskDefinitionArn(FAMILIES.wsgi, 5), 8),
            settledService("cgap-indexer", taskDefinitionArn(FAMILIES.indexer, 5), 4),
        ];
        const { rows, code } = await info(world);
        assert.equal(code, EXIT.findings);
        assert.equal(rows[2].status, "no-service");
        assert.match(rows[2].problem ?? "", /service cgap-ingester is missing in cluster cgap-mastertest/);
    });

    it("passes an unexpected ECR error on as an AWS failure", async () => {
        const { ecs, ecr, ecrMock } = stubs(matchingWorld());
        const err = Object.assign(new Error("The repository with name 'cgap-mastertest' does not exist"), {
            name: "RepositoryNotFoundException",
            $metadata: { httpStatusCode: 400 },
        });
        ecrMock.on(DescribeImagesCommand).rejects(err);
        await assert.rejects(collectInfo(INPUTS, { ecs, ecr }), (e: unknown) => {
            assert.deepEqual(describeError(e), {
                message: "AWS RepositoryNotFoundException: The repository with name 'cgap-mastertest' does not exist",
                exitCode: EXIT.aws,
            });
            return true;
        });
    });

    describe("deployment state", () => {
        const WSGI_OLD = taskDefinitionArn(FAMILIES.wsgi, 5);
        const WSGI_NEW = taskDefinitionArn(FAMILIES.wsgi, 6);
        const at = (iso: string) => new Date(iso);
        // Event and reason texts as ECS writes them for a circuit breaker (ECS developer guide,
        // "deployment circuit breaker", service deployment state change events).
        const failedEvents = [
            { id: "e3", createdAt: at("2024-05-02T10:12:00Z"), message: "(service cgap-wsgi) (deployment ecs-svc/222) deployment failed: tasks failed to start." },
            { id: "e2", createdAt: at("2024-05-02T10:11:00Z"), message: "(service cgap-wsgi) has stopped 1 running tasks: (task 9f8e7d6c5b4a39281706f5e4d3c2b1a0)." },
            { id: "e1", createdAt: at("2024-05-02T10:00:00Z"), message: "(service cgap-wsgi) has started 1 tasks: (task 9f8e7d6c5b4a39281706f5e4d3c2b1a0)." },
        ];

        it("shows a deployment the circuit breaker FAILED, with the events that explain it, and exits 1", async () => {
            const wsgi = settledService("cgap-wsgi", WSGI_NEW, 8);
            wsgi.runningCount = 0;
            wsgi.deployments = [
                {
                    id: "ecs-svc/222",
                    status: "PRIMARY",
                    taskDefinition: WSGI_NEW,
                    rolloutState: "FAILED",
                    rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
                    createdAt: at("2024-05-02T10:00:00Z"),
                },
            ];
            wsgi.events = failedEvents;
            const world = { ...matchingWorld(), services: [wsgi, ...matchingServices().slice(1)], serviceDeployments: { "cgap-wsgi": "denied" as const } };
            const { rows, text, code } = await info(world);
            assert.equal(rows[0].deployment?.phase, "failed");
            assert.equal(code, EXIT.findings);
            assert.match(text, /^wsgi\s+latest\s+.*service cgap-wsgi\s+0\/8\s+failed\s+ok$/m);
            assert.match(
                text,
                /\nwsgi \(service cgap-wsgi\): deployment failed: ECS deployment circuit breaker: tasks failed to start\.\n {2}2024-05-02 10:12 \(service cgap-wsgi\) \(deployment ecs-svc\/222\) deployment failed: tasks failed to start\.\n {2}2024-05-02 10:11 /,
            );
        });

        it("shows a deployment the circuit breaker rolled back, from ListServiceDeployments, and exits 1", async () => {
            // After the rollback the service is steady again on the old task definition.
            const wsgi = settledService("cgap-wsgi", WSGI_OLD, 8);
            wsgi.events = [
                { id: "e5", createdAt: at("2024-05-02T10:20:00Z"), message: "(service cgap-wsgi) has reached a steady state." },
                { id: "e4", createdAt: at("2024-05-02T10:12:01Z"), message: "(service cgap-wsgi) rolling back to deployment ecs-svc/111." },
                ...failedEvents,
            ];
            const world = {
                ...matchingWorld(),
                services: [wsgi, ...matchingServices().slice(1)],
                serviceDeployments: {
                    "cgap-wsgi": [
                        { status: "SUCCESSFUL" as const, createdAt: at("2024-05-01T08:00:00Z") },
                        {
                            status: "ROLLBACK_SUCCESSFUL" as const,
                            createdAt: at("2024-05-02T10:00:00Z"),
                            statusReason: "Service deployment rolled back because the circuit breaker threshold was exceeded.",
                        },
                    ],
                },
            };
            const { rows, text, code } = await info(world);
            assert.equal(rows[0].deployment?.phase, "rolled back");
            assert.equal(code, EXIT.findings);
            assert.match(text, /\nwsgi \(service cgap-wsgi\): deployment rolled back: Service deployment rolled back because the circuit breaker threshold was exceeded\.\n {2}2024-05-02 10:20 \(service cgap-wsgi\) has reached a steady state\.\n {2}2024-05-02 10:12 \(service cgap-wsgi\) rolling back to deployment ecs-svc\/111\./);
        });

        it("still sees the rollback in the events when the operator may not list service deployments", async () => {
            const wsgi = settledService("cgap-wsgi", WSGI_OLD, 8);
            wsgi.events = [
                { id: "e4", createdAt: at("2024-05-02T10:12:01Z"), message: "(service cgap-wsgi) rolling back to deployment ecs-svc/111." },
                ...failedEvents,
            ];
            const world = { ...matchingWorld(), services: [wsgi, ...matchingServices().slice(1)], serviceDeployments: { "cgap-wsgi": "denied" as const } };
            const { rows } = await info(world);
            assert.equal(rows[0].deployment?.phase, "rolled back");
        });

        it("shows a rollback in progress and a deployment in progress", async () => {
            const wsgi = settledService("cgap-wsgi", WSGI_OLD, 8);
            wsgi.deployments = [
                {
                    id: "ecs-svc/333",
                    status: "PRIMARY",
                    taskDefinition: WSGI_OLD,
                    rolloutState: "IN_PROGRESS",
                    rolloutStateReason: "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/111.",
                },
                {
                    id: "ecs-svc/222",
                    status: "ACTIVE",
                    taskDefinition: WSGI_NEW,
                    rolloutState: "FAILED",
                    rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
                },
            ];
            const indexer = settledService("cgap-indexer", taskDefinitionArn(FAMILIES.indexer, 5), 4);
            indexer.deployments![0].rolloutState = "IN_PROGRESS";
            const world = {
                ...matchingWorld(),
                services: [wsgi, indexer, matchingServices()[2]],
                serviceDeployments: { "cgap-wsgi": "denied" as const, "cgap-indexer": "denied" as const },
            };
            const { rows, code } = await info(world);
            assert.deepEqual(rows.map((r) => r.deployment?.phase), ["rolling back", "in progress", "completed", undefined]);
            assert.equal(code, EXIT.findings);
        });
    });

    it("names a missing stack output, exit 2", () => {
        assert.throws(
            () => readInfoInputs(new StackOutputs("mastertest", without(sampleOutputs(), "tags.indexer"))),
            (e: unknown) => {
                assert.deepEqual(describeError(e), {
                    message: 'stack "mastertest": output "tags.indexer" is missing (has `pulumi up` run with this program?)',
                    exitCode: EXIT.usage,
                });
                return true;
            },
        );
    });
});
