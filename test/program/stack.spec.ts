import * as assert from "assert";
import { placeholderExports, ProgramResult, runProgram } from "../../ops/offline/program";
import { ROLE_SPECS, ROLES } from "../../components/roles";
import { containerDefinition, inputs, one, ofType, PolicyStatement, roleImages, statements, T } from "./helpers";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const EXPORTS = placeholderExports("us-east-1");
const exported = (stack: string, ...names: string[]) => names.map((n) => EXPORTS[`${stack}-${n}`]);
const MAIN_NETWORK = "c4-network-main-stack";
const MASTERTEST_DATASTORE = "c4-datastore-cgap-mastertest-stack";

/** What each stack file's config names for the grants the app needs (see the stack files). */
const ESTATE = {
    mastertest: {
        envName: "cgap-mastertest",
        envBucket: "cgap-mastertest-foursight-envs",
        searchDomain: "arn:aws:es:us-east-1:123456789012:domain/os-cgap-mastertest",
        kmsKey: "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    },
    production: {
        envName: "cgap-production",
        envBucket: "cgap-production-foursight-envs",
        searchDomain: "arn:aws:es:us-east-1:123456789012:domain/os-cgap-production",
        kmsKey: "arn:aws:kms:us-east-1:123456789012:key/6f5e4d3c-2b1a-4c9d-8e7f-a0b1c2d3e4f5",
    },
};

/**
 * The task role's statements by Sid, after checking what every stack file must grant the app
 * (docs/internals.md "What the app needs from AWS") and that nothing it does not use is granted.
 */
function taskGrants(run: ProgramResult, stack: keyof typeof ESTATE): Record<string, PolicyStatement> {
    const estate = ESTATE[stack];
    const all = statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy"));
    const byName = Object.fromEntries(all.map((s) => [s.Sid, s]));
    assert.deepStrictEqual(Object.keys(byName).sort(), [
        "DatastoreKeyThroughS3",
        "IndexerQueues",
        "IngestionQueue",
        "ReadGlobalEnv",
        "ReadIdentity",
        "ReadWriteDataObjects",
        "SearchDomain",
    ]);
    // dcicutils EnvUtils: <bucket>/<ENV_NAME>, then the ecosystem file it points at; nothing else there.
    assert.deepStrictEqual(byName.ReadGlobalEnv.Action, ["s3:GetObject"]);
    assert.deepStrictEqual(byName.ReadGlobalEnv.Resource, [
        `arn:aws:s3:::${estate.envBucket}/${estate.envName}`,
        `arn:aws:s3:::${estate.envBucket}/*.ecosystem`,
    ]);
    assert.deepStrictEqual(byName.ReadWriteDataObjects.Action, ["s3:GetObject", "s3:PutObject"]);
    assert.strictEqual(byName.SearchDomain.Resource, `${estate.searchDomain}/*`);
    assert.deepStrictEqual(byName.SearchDomain.Action, ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]);
    assert.deepStrictEqual(byName.DatastoreKeyThroughS3.Action, ["kms:Decrypt", "kms:GenerateDataKey"]);
    assert.strictEqual(byName.DatastoreKeyThroughS3.Resource, estate.kmsKey);
    assert.deepStrictEqual(byName.DatastoreKeyThroughS3.Condition, { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } });
    // Grants nothing uses: the app writes no logs through the API (awslogs uses the execution
    // role), tags no objects, lists and deletes nothing with the task role's credentials.
    const actions = all.flatMap((s) => s.Action);
    // Nor what only other credentials do: DescribeSecret (only get_secret_value is called), the
    // ingestion queue's visibility (IngestionQueueManager never changes it), its dead-letter queue.
    assert.deepStrictEqual(byName.ReadIdentity.Action, ["secretsmanager:GetSecretValue"]);
    assert.ok(!byName.IngestionQueue.Action.includes("sqs:ChangeMessageVisibility"));
    assert.ok(byName.IndexerQueues.Action.includes("sqs:ChangeMessageVisibility"), "indexer_queue.py replace_messages");
    // The files and workflow-output buckets are the S3 user's (types/file.py, make_s3_client).
    for (const resource of [byName.ReadWriteDataObjects.Resource].flat()) {
        assert.doesNotMatch(String(resource), /-(files|wfout|wfoutput)\/\*$/, "a bucket only the S3 user uses");
    }
    for (const unused of ["logs:", "Tagging", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation", "es:ESHttpPatch", "cloudformation:", "secretsmanager:Describe"]) {
        assert.ok(!actions.some((a) => a.includes(unused)), `${stack}: the task role is granted ${unused}, which the app does not use`);
    }
    // The bucket grants are for objects only, in the buckets the config names.
    for (const statement of all.filter((s) => s.Action.some((a) => a.startsWith("s3:")))) {
        for (const resource of [statement.Resource].flat()) {
            assert.match(resource, /^arn:aws:s3:::[a-z0-9.-]+\/.+$/, `${statement.Sid}: ${resource}`);
        }
    }
    return byName;
}

describe("the program with Pulumi.mastertest.yaml (pulumi up)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "mastertest", preview: false });
    });

    describe("images", () => {
        it("builds one docker.Image per role, pushed to the role's tag", () => {
            const images = roleImages(run.resources);
            assert.deepStrictEqual(
                images.map((i) => inputs(i).imageName).sort(),
                ROLES.map((r) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest:${ROLE_SPECS[r].tag}`).sort(),
            );
            for (const image of images) {
                assert.strictEqual(inputs(image).skipPush, false);
            }
        });

        it("varies the four builds only by the ENTRYPOINT build arg, from one context and Dockerfile", () => {
            const builds = ROLES.map((r) => inputs(one(run.resources, T.image, `cgap-${r}`)).build);
            assert.deepStrictEqual(builds.map((b) => b.args.ENTRYPOINT), ROLES.map((r) => ROLE_SPECS[r].entrypoint));
            const shared = builds.map(({ args: { ENTRYPOINT: _e, ...args }, ...rest }) => ({ ...rest, args }));
            for (const build of shared) {
                assert.deepStrictEqual(build, shared[0]);
            }
            const repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest";
            assert.deepStrictEqual(shared[0], {
                context: "images",
                dockerfile: "images/Dockerfile",
                args: { CGAP_VERSION: "v15.6.0", BUILDKIT_INLINE_CACHE: "1" },
                platform: "linux/amd64",
                builderVersion: "BuilderBuildKit",
                cacheFrom: { images: [`${repo}:latest-build-cache`, `${repo}:latest`] },
            });
        });

        it("logs in to ECR with the authorization token, keeping the password secret", () => {
            for (const image of ofType(run.resources, T.image)) {
                const registry = image.inputs.registry as Record<string, any>;
                assert.strictEqual(registry.server, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
                assert.strictEqual(registry.username, "AWS");
                assert.strictEqual(registry.password[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
                assert.strictEqual(registry.password.value, "placeholder-ecr-token");
            }
        });

        it("exports each role's digest-pinned reference", () => {
            const refs = run.outputs.images as Record<string, string>;
            for (const role of ROLES) {
                const image = one(run.resources, T.image, `cgap-${role}`);
                assert.strictEqual(refs[role], image.outputs.repoDigest);
                assert.match(refs[role], /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/cgap-mastertest@sha256:[0-9a-f]{64}$/);
            }
        });
    });

    describe("the estate 4dn-cloud-infra built", () => {
        it("creates no VPC, no repository, no ingestion queue, and imports nothing", () => {
            for (const type of [T.vpc, T.repository, T.lifecyclePolicy, T.queue]) {
                assert.deepStrictEqual(ofType(run.resources, type), [], `${type} must come from the estate`);
            }
            assert.deepStrictEqual(run.resources.filter((r) => r.importId !== undefined), []);
        });

        it("reads the network, repository and datastore exports it uses, and no other", () => {
            assert.deepStrictEqual(run.exportsRead, [
                "c4-datastore-cgap-mastertest-stack-AppBlobsBucket",
                "c4-datastore-cgap-mastertest-stack-AppFilesBucket",
                "c4-datastore-cgap-mastertest-stack-AppMetadataBundlesBucket",
                "c4-datastore-cgap-mastertest-stack-AppSystemBucket",
                "c4-datastore-cgap-mastertest-stack-AppWfoutBucket",
                "c4-datastore-cgap-mastertest-stack-ApplicationIngestionQueue",
                "c4-datastore-cgap-mastertest-stack-ElasticSearchURL",
                "c4-datastore-cgap-mastertest-stack-FoursightEnvBucket",
                "c4-ecr-main-stack-RepoURL",
                "c4-network-main-stack-ApplicationSecurityGroup",
                "c4-network-main-stack-DBSecurityGroup",
                "c4-network-main-stack-PrivateSubnetA",
                "c4-network-main-stack-PrivateSubnetB",
                "c4-network-main-stack-PublicSubnetA",
                "c4-network-main-stack-PublicSubnetB",
                "c4-network-main-stack-VPC",
            ]);
        });

        it("says where the network, repository and queue came from", () => {
            assert.deepStrictEqual(run.outputs.sources, {
                network:
                    "exports of c4-network-main-stack (VPC, PublicSubnetA, PublicSubnetB, PrivateSubnetA, PrivateSubnetB, " +
                    "ApplicationSecurityGroup, DBSecurityGroup)",
                repository: "exports of c4-ecr-main-stack (RepoURL)",
                ingestionQueue: "exports of c4-datastore-cgap-mastertest-stack (ApplicationIngestionQueue)",
            });
            assert.strictEqual(run.outputs.repositoryUrl, EXPORTS["c4-ecr-main-stack-RepoURL"]);
            assert.strictEqual(run.outputs.repositoryName, "cgap-mastertest");
            assert.strictEqual(run.outputs.ingestionQueueUrl, EXPORTS[`${MASTERTEST_DATASTORE}-ApplicationIngestionQueue`]);
        });
    });

    describe("ECS", () => {
        it("has a cluster with FARGATE and FARGATE_SPOT and Container Insights", () => {
            assert.deepStrictEqual(inputs(one(run.resources, T.cluster, "cgap-cluster")).settings, [
                { name: "containerInsights", value: "enabled" },
            ]);
            assert.deepStrictEqual(inputs(one(run.resources, T.capacityProviders, "cgap-capacity")).capacityProviders, [
                "FARGATE",
                "FARGATE_SPOT",
            ]);
        });

        it("defines a Fargate task per role naming its image by digest, never by tag", () => {
            const refs = run.outputs.images as Record<string, string>;
            for (const role of ROLES) {
                const td = one(run.resources, T.taskDefinition, `cgap-${role}`);
                const container = containerDefinition(td);
                assert.strictEqual(container.image, refs[role]);
                assert.ok(!container.image.includes(":latest"), container.image);
                assert.strictEqual(container.name, ROLE_SPECS[role].containerName);
                assert.strictEqual(inputs(td).networkMode, "awsvpc");
                assert.deepStrictEqual(inputs(td).requiresCompatibilities, ["FARGATE"]);
                assert.strictEqual(inputs(td).cpu, String(ROLE_SPECS[role].defaults.cpu));
                assert.strictEqual(inputs(td).memory, String(ROLE_SPECS[role].defaults.memory));
                assert.strictEqual(container.command, undefined, "the tag alone decides the role");
                assert.strictEqual(container.user, "nginx", "ECS.20: the image's unprivileged user, named in the task definition");
            }
        });

        it("logs every role to one group with the four stream prefixes and passes IDENTITY", () => {
            const group = one(run.resources, T.logGroup, "cgap-logs");
            const logGroup = inputs(group);
            assert.strictEqual(logGroup.retentionInDays, 365);
            assert.strictEqual(inputs(group).namePrefix, "/ecs/cgap-mastertest-", "a name of its own per creation (see destroy and come back)");
            for (const role of ROLES) {
                const container = containerDefinition(one(run.resources, T.taskDefinition, `cgap-${role}`));
                assert.deepStrictEqual(container.logConfiguration, {
                    logDriver: "awslogs",
                    options: {
                        "awslogs-group": group.outputs.name,
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": ROLE_SPECS[role].logStreamPrefix,
                    },
                });
                assert.deepStrictEqual(container.environment.find((e: { name: string }) => e.name === "IDENTITY"), {
                    name: "IDENTITY",
                    value: "C4DatastoreCgapMastertestApplicationConfiguration",
                });
            }
        });

        it("runs WSGI (2, Spot), indexer (4, Spot) and ingester (1, on-demand) as services, and no deployment service", () => {
            const services = ofType(run.resources, T.service);
            assert.deepStrictEqual(services.map((s) => s.name).sort(), ["cgap-indexer", "cgap-ingester", "cgap-wsgi"]);
            const expected = { wsgi: [2, "FARGATE_SPOT"], indexer: [4, "FARGATE_SPOT"], ingester: [1, "FARGATE"] };
            for (const [role, [count, provider]] of Object.entries(expected)) {
                const service = inputs(one(run.resources, T.service, `cgap-${role}`));
                assert.strictEqual(service.desiredCount, count, role);
                assert.deepStrictEqual(service.capacityProviderStrategies, [{ capacityProvider: provider, base: 0, weight: 1 }], role);
                assert.strictEqual(service.launchType, undefined, `${role} must not set a launch type with a capacity provider strategy`);
                assert.deepStrictEqual(service.deploymentCircuitBreaker, { enable: true, rollback: true }, role);
                assert.strictEqual(service.platformVersion, "LATEST");
                assert.strictEqual(service.networkConfiguration.assignPublicIp, false);
                const td = one(run.resources, T.taskDefinition, `cgap-${role}`);
                assert.strictEqual(service.taskDefinition, td.outputs.arn);
            }
        });

        it("puts only WSGI behind the target group, after the listener, and waits for every service to be steady", () => {
            const wsgi = one(run.resources, T.service, "cgap-wsgi");
            const targetGroup = one(run.resources, T.targetGroup, "cgap-wsgi");
            assert.deepStrictEqual(inputs(wsgi).loadBalancers, [
                { targetGroupArn: targetGroup.outputs.arn, containerName: "WSGI", containerPort: 8000 },
            ]);
            const listener = one(run.resources, T.listener, "cgap-http");
            assert.ok(wsgi.dependencies.includes(listener.urn), "the WSGI service must depend on the listener");
            for (const role of ["indexer", "ingester"]) {
                assert.strictEqual(inputs(one(run.resources, T.service, `cgap-${role}`)).loadBalancers, undefined);
            }
            for (const service of ofType(run.resources, T.service)) {
                assert.strictEqual(inputs(service).waitForSteadyState, true, `${service.name}: a failed rollout must fail pulumi up`);
            }
        });

        it("runs tasks in the network stack's private subnets, in the container group and the groups the estate's tasks join", () => {
            const containerSg = one(run.resources, T.securityGroup, "cgap-container-sg");
            for (const service of ofType(run.resources, T.service)) {
                assert.deepStrictEqual(inputs(service).networkConfiguration.subnets, exported(MAIN_NETWORK, "PrivateSubnetA", "PrivateSubnetB"));
                assert.deepStrictEqual(inputs(service).networkConfiguration.securityGroups, [
                    containerSg.id,
                    ...exported(MAIN_NETWORK, "ApplicationSecurityGroup", "DBSecurityGroup"),
                ]);
            }
            assert.strictEqual(inputs(containerSg).vpcId, EXPORTS[`${MAIN_NETWORK}-VPC`]);
        });
    });

    describe("load balancer", () => {
        it("is an internet-facing ALB in the network stack's public subnets that drops invalid headers", () => {
            const alb = inputs(one(run.resources, T.loadBalancer, "cgap-alb"));
            assert.strictEqual(alb.loadBalancerType, "application");
            assert.strictEqual(alb.internal, false);
            assert.deepStrictEqual(alb.subnets, exported(MAIN_NETWORK, "PublicSubnetA", "PublicSubnetB"));
            assert.strictEqual(alb.dropInvalidHeaderFields, true);
            assert.strictEqual(alb.enableDeletionProtection, true, "ELB.6 on every stack, development too");
        });

        it("forwards to an ip target group on 8000 with the portal's health check", () => {
            const tg = inputs(one(run.resources, T.targetGroup, "cgap-wsgi"));
            assert.strictEqual(tg.targetType, "ip");
            assert.strictEqual(tg.port, 8000);
            assert.deepStrictEqual(tg.healthCheck, { path: "/health?format=json", interval: 60, timeout: 10, matcher: "200", protocol: "HTTP" });
            const http = inputs(one(run.resources, T.listener, "cgap-http"));
            assert.strictEqual(http.port, 80);
            assert.deepStrictEqual(http.defaultActions, [{ type: "forward", targetGroupArn: one(run.resources, T.targetGroup, "cgap-wsgi").outputs.arn }]);
            assert.strictEqual(ofType(run.resources, T.listener).length, 1, "no HTTPS listener without a certificate");
        });

        it("lets the internet reach only the ALB on 80, and the containers only from the ALB on 8000", () => {
            const albSg = one(run.resources, T.securityGroup, "cgap-alb-sg");
            const containerSg = one(run.resources, T.securityGroup, "cgap-container-sg");
            const rules = ofType(run.resources, T.ingressRule).map(inputs);
            const toAlb = rules.filter((r) => r.securityGroupId === albSg.id);
            assert.deepStrictEqual(toAlb.map((r) => [r.fromPort, r.toPort, r.cidrIpv4 ?? r.cidrIpv6]).sort(), [
                [80, 80, "0.0.0.0/0"],
                [80, 80, "::/0"],
            ]);
            const toContainers = rules.filter((r) => r.securityGroupId === containerSg.id);
            assert.deepStrictEqual(
                toContainers.map(({ fromPort, toPort, ipProtocol, referencedSecurityGroupId, cidrIpv4, cidrIpv6 }) => ({
                    fromPort, toPort, ipProtocol, referencedSecurityGroupId, cidrIpv4, cidrIpv6,
                })),
                [{ fromPort: 8000, toPort: 8000, ipProtocol: "tcp", referencedSecurityGroupId: albSg.id, cidrIpv4: undefined, cidrIpv6: undefined }],
            );
            assert.strictEqual(rules.length, toAlb.length + toContainers.length);
            assert.deepStrictEqual(inputs(one(run.resources, T.loadBalancer, "cgap-alb")).securityGroups, [albSg.id]);
        });

        it("exports the portal URL", () => {
            assert.match(String(run.outputs.portalUrl), /^http:\/\/.*\.elb\.amazonaws\.com$/);
        });
    });

    describe("IAM", () => {
        it("gives tasks separate execution and task roles", () => {
            // The other role is the Spot drain function's (test/program/spotDrain.spec.ts).
            const roles = ofType(run.resources, T.role).filter((r) => r.name.startsWith("cgap-roles-"));
            assert.strictEqual(roles.length, 2);
            for (const role of ROLES) {
                const td = inputs(one(run.resources, T.taskDefinition, `cgap-${role}`));
                assert.strictEqual(td.executionRoleArn, one(run.resources, T.role, "cgap-roles-execution").outputs.arn);
                assert.strictEqual(td.taskRoleArn, one(run.resources, T.role, "cgap-roles-task").outputs.arn);
            }
        });

        it("grants no * action, and * resources only for ecr:GetAuthorizationToken", () => {
            for (const policy of ofType(run.resources, T.rolePolicy)) {
                for (const statement of statements(policy)) {
                    assert.ok(statement.Action.every((a) => !a.includes("*")), `${policy.name}/${statement.Sid}: ${statement.Action}`);
                    if ([statement.Resource].flat().includes("*")) {
                        assert.deepStrictEqual(statement.Action, ["ecr:GetAuthorizationToken"], `${policy.name}/${statement.Sid}`);
                    }
                }
            }
        });

        it("lets the execution role pull from the ECR stack's repository and write its logs, nothing else", () => {
            const byName = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-execution-policy")).map((s) => [s.Sid, s]));
            assert.deepStrictEqual(Object.keys(byName).sort(), ["EcrLogin", "EcrPull", "Logs"]);
            assert.strictEqual(byName.EcrPull.Resource, "arn:aws:ecr:us-east-1:123456789012:repository/cgap-mastertest");
            assert.strictEqual(byName.Logs.Resource, `${one(run.resources, T.logGroup, "cgap-logs").outputs.arn}:*`);
        });

        it("lets the task role read only the identity secret, the datastore's queue by ARN, env files, data and search domain", () => {
            const byName = taskGrants(run, "mastertest");
            assert.strictEqual(
                byName.ReadIdentity.Resource,
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:C4DatastoreCgapMastertestApplicationConfiguration-??????",
            );
            // The queue exists: the app's create_queue at start needs CreateQueue on it, and on nothing else.
            assert.strictEqual(byName.IngestionQueue.Resource, "arn:aws:sqs:us-east-1:123456789012:cgap-mastertest-ingestion-queue");
            assert.ok(byName.IngestionQueue.Action.includes("sqs:CreateQueue"));
            assert.ok(byName.IngestionQueue.Action.includes("sqs:ReceiveMessage"));
            assert.strictEqual(byName.IndexerQueues.Resource, "arn:aws:sqs:us-east-1:123456789012:cgap-mastertest-*indexer-queue*");
            const buckets = exported(MASTERTEST_DATASTORE, "AppBlobsBucket", "AppSystemBucket", "AppMetadataBundlesBucket");
            assert.deepStrictEqual(byName.ReadWriteDataObjects.Resource, buckets.map((b) => `arn:aws:s3:::${b}/*`));
        });

        it("passes the stack's envName and env bucket to every role, and the portal URL to the deployment task", () => {
            for (const role of ROLES) {
                const environment = Object.fromEntries(
                    containerDefinition(one(run.resources, T.taskDefinition, `cgap-${role}`)).environment.map(
                        (e: { name: string; value: string }) => [e.name, e.value],
                    ),
                );
                assert.strictEqual(environment.CGAP_ENV_NAME, "cgap-mastertest", role);
                assert.strictEqual(environment.CGAP_GLOBAL_ENV_BUCKET, "cgap-mastertest-foursight-envs", role);
                assert.strictEqual(environment.CGAP_PORTAL_URL, role === "deployment" ? run.outputs.portalUrl : undefined, role);
                assert.strictEqual(environment.ENCODED_PROFILING_GROUP, undefined, role);
            }
        });

        it("lets only ECS tasks of this account assume the roles", () => {
            for (const role of ofType(run.resources, T.role).filter((r) => r.name.startsWith("cgap-roles-"))) {
                const [statement] = JSON.parse(inputs(role).assumeRolePolicy).Statement;
                assert.deepStrictEqual(statement.Principal, { Service: "ecs-tasks.amazonaws.com" });
                assert.deepStrictEqual(statement.Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
            }
        });
    });

    describe("outputs", () => {
        it("give what running the deployment task needs", () => {
            const deployment = run.outputs.deploymentTask as Record<string, unknown>;
            assert.strictEqual(deployment.taskDefinitionArn, one(run.resources, T.taskDefinition, "cgap-deployment").outputs.arn);
            assert.deepStrictEqual(deployment.subnets, exported(MAIN_NETWORK, "PrivateSubnetA", "PrivateSubnetB"));
            assert.deepStrictEqual(deployment.securityGroups, inputs(one(run.resources, T.service, "cgap-ingester")).networkConfiguration.securityGroups);
            assert.strictEqual(deployment.assignPublicIp, "DISABLED");
            assert.strictEqual(deployment.capacityProvider, "FARGATE", "on-demand unless a stack says so");
            assert.strictEqual(deployment.containerName, "DeploymentAction");
            assert.strictEqual(deployment.cluster, "cgap-mastertest");
            assert.deepStrictEqual(run.outputs.serviceNames, {
                wsgi: "cgap-mastertest-wsgi",
                indexer: "cgap-mastertest-indexer",
                ingester: "cgap-mastertest-ingester",
            });
        });
    });
});

const PROD_NETWORK = "c4-network-prod-stack";
const PROD_DATASTORE = "c4-datastore-cgap-production-stack";

describe("the program with Pulumi.production.yaml (pulumi up)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "production", preview: false });
    });

    it("creates no VPC, no repository, no ingestion queue, imports nothing, and reads its estate's exports", () => {
        for (const type of [T.vpc, T.repository, T.lifecyclePolicy, T.queue]) {
            assert.deepStrictEqual(ofType(run.resources, type), [], `${type} must come from the estate`);
        }
        assert.deepStrictEqual(run.resources.filter((r) => r.importId !== undefined), []);
        assert.deepStrictEqual(inputs(one(run.resources, T.loadBalancer, "cgap-alb")).subnets, exported(PROD_NETWORK, "PublicSubnetA", "PublicSubnetB"));
        for (const service of ofType(run.resources, T.service)) {
            assert.deepStrictEqual(inputs(service).networkConfiguration.subnets, exported(PROD_NETWORK, "PrivateSubnetA", "PrivateSubnetB"));
        }
        assert.strictEqual(inputs(one(run.resources, T.targetGroup, "cgap-wsgi")).vpcId, EXPORTS[`${PROD_NETWORK}-VPC`]);
        for (const image of ofType(run.resources, T.image)) {
            assert.ok(String(inputs(image).imageName).startsWith(`${EXPORTS["c4-ecr-prod-stack-RepoURL"]}:`), inputs(image).imageName);
        }
        assert.strictEqual(run.outputs.ingestionQueueUrl, EXPORTS[`${PROD_DATASTORE}-ApplicationIngestionQueue`]);
    });

    it("hands the containers the identity secret the datastore exports, and lets the task role read that secret only", () => {
        const secretArn = EXPORTS[`${PROD_DATASTORE}-ApplicationConfigurationSecretName`];
        const container = containerDefinition(one(run.resources, T.taskDefinition, "cgap-wsgi"));
        assert.deepStrictEqual(container.environment.find((e: { name: string }) => e.name === "IDENTITY"), { name: "IDENTITY", value: secretArn });
        const byName = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).map((s) => [s.Sid, s]));
        assert.strictEqual(byName.ReadIdentity.Resource, secretArn);
    });

    it("serves HTTPS and redirects HTTP, with the WSGI service after both listeners", () => {
        const https = inputs(one(run.resources, T.listener, "cgap-https"));
        assert.strictEqual(https.port, 443);
        assert.strictEqual(https.protocol, "HTTPS");
        assert.match(https.certificateArn, /^arn:aws:acm:/);
        assert.deepStrictEqual(inputs(one(run.resources, T.listener, "cgap-http")).defaultActions, [
            { type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } },
        ]);
        const wsgi = one(run.resources, T.service, "cgap-wsgi");
        for (const listener of ofType(run.resources, T.listener)) {
            assert.ok(wsgi.dependencies.includes(listener.urn), listener.name);
        }
        const ingressPorts = ofType(run.resources, T.ingressRule).map((r) => inputs(r).fromPort).sort();
        assert.deepStrictEqual(ingressPorts, [443, 443, 80, 80, 8000].sort());
        assert.match(String(run.outputs.portalUrl), /^https:\/\//);
    });

    it("lets the task role use the env files, S3 key the config names, and the buckets and search domain the datastore exports", () => {
        const byName = taskGrants(run, "production");
        assert.deepStrictEqual(
            byName.ReadWriteDataObjects.Resource,
            [
                "cgap-production-application-blobs",
                "cgap-production-application-system",
                "cgap-production-application-metadata-bundles",
            ].map((b) => `arn:aws:s3:::${b}/*`),
        );
    });

    it("keeps two WSGI tasks on on-demand Fargate and the rest on Spot; the deployment task on-demand", () => {
        assert.deepStrictEqual(inputs(one(run.resources, T.service, "cgap-wsgi")).capacityProviderStrategies, [
            { capacityProvider: "FARGATE", base: 2, weight: 0 },
            { capacityProvider: "FARGATE_SPOT", base: 0, weight: 1 },
        ]);
        assert.deepStrictEqual(inputs(one(run.resources, T.service, "cgap-indexer")).capacityProviderStrategies, [
            { capacityProvider: "FARGATE_SPOT", base: 0, weight: 1 },
        ]);
        assert.deepStrictEqual(inputs(one(run.resources, T.service, "cgap-ingester")).capacityProviderStrategies, [
            { capacityProvider: "FARGATE", base: 0, weight: 1 },
        ]);
        assert.strictEqual((run.outputs.deploymentTask as Record<string, unknown>).capacityProvider, "FARGATE");
    });

    it("protects the ALB from deletion and tells the containers they are in production", () => {
        assert.strictEqual(inputs(one(run.resources, T.loadBalancer, "cgap-alb")).enableDeletionProtection, true, "ELB.6");
        const container = containerDefinition(one(run.resources, T.taskDefinition, "cgap-deployment"));
        assert.deepStrictEqual(container.environment.find((e: { name: string }) => e.name === "CGAP_ENVIRONMENT"), {
            name: "CGAP_ENVIRONMENT",
            value: "production",
        });
    });
});

describe("the program with a stack that puts the deployment task on Spot", () => {
    it("names FARGATE_SPOT for the deployment task only when the stack says so", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:sizing": JSON.stringify({ deployment: { capacity: "spot" } }) },
        });
        assert.strictEqual((run.outputs.deploymentTask as Record<string, unknown>).capacityProvider, "FARGATE_SPOT");
    });
});

describe("the program's stop timeouts (Pulumi.production.yaml)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "production", preview: false });
    });

    it("gives each container the time its work needs, within Fargate's 120 s", () => {
        const timeouts = Object.fromEntries(
            ROLES.map((role) => [role, containerDefinition(one(run.resources, T.taskDefinition, `cgap-${role}`)).stopTimeout]),
        );
        assert.deepStrictEqual(timeouts, { wsgi: 120, indexer: 120, ingester: 30, deployment: 120 });
    });

    it("drains WSGI from the load balancer for less time than a Spot reclaim leaves", () => {
        const delay = inputs(one(run.resources, T.targetGroup, "cgap-wsgi")).deregistrationDelay;
        assert.strictEqual(delay, 60);
        assert.ok(delay < 120);
    });
});
