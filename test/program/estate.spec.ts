import * as assert from "assert";
import { placeholderExports, ProgramError, ProgramResult, runProgram } from "../../ops/offline/program";
import { mustForceNewDeployment } from "../../components/services";
import { containerDefinition, inputs, one, ofType, statements, T } from "./helpers";

const EXPORTS = placeholderExports("us-east-1");

/** mastertest's cgap:estate with some export names overridden. */
function mastertestEstateWith(exports: Record<string, string | string[]>): Record<string, string> {
    return {
        "cgap:estate": JSON.stringify({
            networkStack: "c4-network-main-stack",
            ecrStack: "c4-ecr-main-stack",
            datastoreStack: "c4-datastore-cgap-mastertest-stack",
            exports,
        }),
    };
}

/**
 * The message a run fails with, after the SDK's "error serializing property ..." prefixes (the
 * engine shows those too: the failed lookup reaches it through the resource inputs that use it).
 */
async function failure(run: Promise<ProgramResult>): Promise<string> {
    try {
        await run;
    } catch (err) {
        assert.ok(err instanceof ProgramError, `expected a ProgramError, got ${err}`);
        return err.message.replace(/^(error serializing property "[^"]+": )+/, "");
    }
    assert.fail("the program ran");
}

describe("the program with Pulumi.sandbox.yaml: an empty account (pulumi up)", () => {
    let run: ProgramResult;
    before(async () => {
        run = await runProgram({ stack: "sandbox", preview: false });
    });

    it("creates its own VPC, repository and ingestion queue, and reads no export", () => {
        one(run.resources, T.vpc, "cgap-vpc");
        one(run.resources, T.repository, "cgap-repository");
        one(run.resources, T.queue, "cgap-ingestion-queue");
        assert.deepStrictEqual(run.exportsRead, []);
        assert.deepStrictEqual(run.outputs.sources, {
            network: "created: a VPC of two zones with one NAT gateway (aws.ec2.Vpc, a flow log, its default security group closed)",
            repository: "created: the repository cgap-sandbox (aws.ecr.Repository)",
            ingestionQueue: "created: cgap-sandbox-ingestion-queue and its dead-letter queue (aws.sqs.Queue)",
        });
    });

    it("scans on push, keeps only latest* tags movable, expires untagged images, imports nothing", () => {
        const repository = one(run.resources, T.repository, "cgap-repository");
        const repo = inputs(repository);
        assert.strictEqual(repo.name, "cgap-sandbox");
        assert.deepStrictEqual(repo.imageScanningConfiguration, { scanOnPush: true });
        assert.strictEqual(repo.imageTagMutability, "IMMUTABLE_WITH_EXCLUSION");
        assert.deepStrictEqual(repo.imageTagMutabilityExclusionFilters, [{ filter: "latest*", filterType: "WILDCARD" }]);
        assert.strictEqual(repository.importId, undefined);
        const policy = inputs(one(run.resources, T.lifecyclePolicy, "cgap-lifecycle"));
        assert.strictEqual(policy.repository, "cgap-sandbox");
        const [rule] = JSON.parse(policy.policy).rules;
        assert.strictEqual(rule.selection.tagStatus, "untagged");
        assert.strictEqual(rule.action.type, "expire");
        for (const image of ofType(run.resources, T.image)) {
            assert.ok(String(inputs(image).imageName).startsWith(`${repository.outputs.repositoryUrl}:`));
        }
    });

    it("creates <envName>-ingestion-queue with the attributes of the datastore's, and a dead-letter queue", () => {
        const queue = inputs(one(run.resources, T.queue, "cgap-ingestion-queue"));
        const dlq = one(run.resources, T.queue, "cgap-ingestion-dlq");
        assert.strictEqual(queue.name, "cgap-sandbox-ingestion-queue");
        // 4dn-cloud-infra src/parts/datastore.py ingestion_queue (14d9c29): 360 minutes, 14 days, 2 s.
        assert.strictEqual(queue.visibilityTimeoutSeconds, 21600);
        assert.strictEqual(queue.messageRetentionSeconds, 1209600);
        assert.strictEqual(queue.receiveWaitTimeSeconds, 2);
        assert.strictEqual(queue.delaySeconds, 1);
        assert.deepStrictEqual(JSON.parse(queue.redrivePolicy), { deadLetterTargetArn: dlq.outputs.arn, maxReceiveCount: 3 });
        assert.strictEqual(inputs(dlq).name, "cgap-sandbox-ingestion-queue-dlq");
    });

    it("runs the ALB and the tasks in the created VPC, the tasks in the container group only", () => {
        const vpc = one(run.resources, T.vpc, "cgap-vpc");
        const subnets = (kind: string) => [1, 2].map((i) => one(run.resources, T.subnet, `cgap-${kind}-${i}`));
        for (const subnet of [...subnets("public"), ...subnets("private")]) {
            assert.strictEqual(inputs(subnet).vpcId, vpc.id);
        }
        assert.deepStrictEqual(inputs(one(run.resources, T.loadBalancer, "cgap-alb")).subnets, subnets("public").map((s) => s.id));
        const containerSg = one(run.resources, T.securityGroup, "cgap-container-sg");
        for (const service of ofType(run.resources, T.service)) {
            assert.deepStrictEqual(inputs(service).networkConfiguration.subnets, subnets("private").map((s) => s.id));
            assert.deepStrictEqual(inputs(service).networkConfiguration.securityGroups, [containerSg.id]);
        }
    });

    it("builds the VPC from aws resources the policies can see: two zones, one NAT gateway, a closed default group, a flow log", () => {
        const vpc = one(run.resources, T.vpc, "cgap-vpc");
        const subnet = (name: string) => inputs(one(run.resources, T.subnet, name));
        // One subnet of each kind per zone, in two zones; none maps public IPs on launch (EC2.15).
        assert.deepStrictEqual(
            ["cgap-public-1", "cgap-public-2", "cgap-private-1", "cgap-private-2"].map((n) => [subnet(n).availabilityZone, subnet(n).mapPublicIpOnLaunch]),
            [["us-east-1a", false], ["us-east-1b", false], ["us-east-1a", false], ["us-east-1b", false]],
        );
        const routes = (name: string) => inputs(one(run.resources, "aws:ec2/routeTable:RouteTable", name)).routes;
        const gateway = one(run.resources, "aws:ec2/internetGateway:InternetGateway", "cgap-igw");
        const nat = one(run.resources, "aws:ec2/natGateway:NatGateway", "cgap-nat");
        assert.deepStrictEqual(routes("cgap-public"), [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }]);
        assert.deepStrictEqual(routes("cgap-private"), [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }]);
        assert.strictEqual(inputs(nat).subnetId, one(run.resources, T.subnet, "cgap-public-1").id);
        assert.strictEqual(ofType(run.resources, "aws:ec2/natGateway:NatGateway").length, 1);
        // EC2.2: the default group adopted and left without rules.
        const defaultSg = inputs(one(run.resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "cgap-default-sg"));
        assert.deepStrictEqual([defaultSg.vpcId, defaultSg.ingress, defaultSg.egress], [vpc.id, undefined, undefined]);
        // EC2.6: all traffic to a log group kept a year, through a role only this account's flow logs service can assume.
        const group = one(run.resources, T.logGroup, "cgap-flow-logs");
        const flow = inputs(one(run.resources, "aws:ec2/flowLog:FlowLog", "cgap-flow-log"));
        assert.deepStrictEqual([flow.vpcId, flow.trafficType, flow.logDestination], [vpc.id, "ALL", group.outputs.arn]);
        assert.strictEqual(inputs(group).retentionInDays, 365);
        const role = one(run.resources, "aws:iam/role:Role", "cgap-flow-logs");
        assert.strictEqual(flow.iamRoleArn, role.outputs.arn);
        const [trust] = JSON.parse(inputs(role).assumeRolePolicy).Statement;
        assert.deepStrictEqual(trust.Principal, { Service: "vpc-flow-logs.amazonaws.com" });
        assert.deepStrictEqual(trust.Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
        const grants = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-flow-logs")).map((x) => [x.Sid, x]));
        assert.deepStrictEqual(grants.WriteFlowLogs.Resource, [group.outputs.arn, `${group.outputs.arn}:*`]);
        assert.deepStrictEqual(Object.keys(grants).sort(), ["FindLogGroup", "WriteFlowLogs"]);
    });

    it("grants the created repository, queue and dead-letter queue, and the data the config names", () => {
        const execution = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-execution-policy")).map((s) => [s.Sid, s]));
        assert.strictEqual(execution.EcrPull.Resource, one(run.resources, T.repository, "cgap-repository").outputs.arn);
        const task = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).map((s) => [s.Sid, s]));
        assert.deepStrictEqual(Object.keys(task).sort(), [
            "IndexerQueues",
            "IngestionQueue",
            "ReadGlobalEnv",
            "ReadIdentity",
            "ReadWriteDataObjects",
            "SearchDomain",
        ]);
        assert.deepStrictEqual(task.ReadWriteDataObjects.Resource, [
            "arn:aws:s3:::cgap-sandbox-application-blobs/*",
            "arn:aws:s3:::cgap-sandbox-application-system/*",
        ]);
        assert.strictEqual(task.IngestionQueue.Resource, one(run.resources, T.queue, "cgap-ingestion-queue").outputs.arn);
        // SQS moves failed messages into the dead-letter queue itself; the app never touches it.
        const dlqArn = String(one(run.resources, T.queue, "cgap-ingestion-dlq").outputs.arn);
        assert.ok(!Object.values(task).some((statement) => [statement.Resource].flat().includes(dlqArn)));
    });
});

describe("reading the estate", () => {
    it("lets an explicit key override its export, and reads that export no more", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: false,
            config: { "cgap:privateSubnetIds": '["subnet-0a1b2c3d4e5f60101","subnet-0a1b2c3d4e5f60102"]' },
        });
        for (const service of ofType(run.resources, T.service)) {
            assert.deepStrictEqual(inputs(service).networkConfiguration.subnets, ["subnet-0a1b2c3d4e5f60101", "subnet-0a1b2c3d4e5f60102"]);
        }
        assert.ok(!(run.exportsRead ?? []).some((name) => name.includes("PrivateSubnet")), String(run.exportsRead));
        assert.strictEqual(
            (run.outputs.sources as Record<string, string>).network,
            "exports of c4-network-main-stack (VPC, PublicSubnetA, PublicSubnetB, ApplicationSecurityGroup, DBSecurityGroup); " +
                "config (cgap:privateSubnetIds)",
        );
    });

    it("reads the global env bucket from the datastore's FoursightEnvBucket export, or from cgap:globalEnvBucket over it", async () => {
        const fromExport = await runProgram({ stack: "mastertest", preview: false });
        const exported = EXPORTS["c4-datastore-cgap-mastertest-stack-FoursightEnvBucket"];
        const grant = (run: ProgramResult) =>
            Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).map((s) => [s.Sid, s])).ReadGlobalEnv.Resource;
        const environment = (run: ProgramResult) =>
            (containerDefinition(one(run.resources, T.taskDefinition, "cgap-wsgi")).environment as { name: string; value: string }[]).find(
                (e) => e.name === "CGAP_GLOBAL_ENV_BUCKET",
            )?.value;
        assert.deepStrictEqual(grant(fromExport), [`arn:aws:s3:::${exported}/cgap-mastertest`, `arn:aws:s3:::${exported}/*.ecosystem`]);
        assert.strictEqual(environment(fromExport), exported);
        assert.ok((fromExport.exportsRead ?? []).includes("c4-datastore-cgap-mastertest-stack-FoursightEnvBucket"));

        const explicit = await runProgram({ stack: "mastertest", preview: false, config: { "cgap:globalEnvBucket": "cgap-other-envs" } });
        assert.deepStrictEqual(grant(explicit), ["arn:aws:s3:::cgap-other-envs/cgap-mastertest", "arn:aws:s3:::cgap-other-envs/*.ecosystem"]);
        assert.strictEqual(environment(explicit), "cgap-other-envs");
        assert.ok(!(explicit.exportsRead ?? []).includes("c4-datastore-cgap-mastertest-stack-FoursightEnvBucket"));
    });

    it("keeps the program's warnings with the run's result, as a preview shows them, instead of printing them", async () => {
        const printed: string[] = [];
        const consoleWarn = console.warn;
        console.warn = (...args: unknown[]) => void printed.push(args.map(String).join(" "));
        let run: ProgramResult;
        try {
            run = await runProgram({
                stack: "mastertest",
                preview: true,
                config: { "cgap:repositoryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com/main", "cgpa:rollout": "[wsgi]" },
            });
        } finally {
            console.warn = consoleWarn;
        }
        assert.deepStrictEqual(printed, []);
        assert.strictEqual(run.warnings.length, 2, run.warnings.join("\n"));
        assert.match(run.warnings[0], /^Config key cgpa:rollout is ignored: nothing in this stack reads the namespace "cgpa"/);
        assert.match(run.warnings[1], /^The repository 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/main is not named after this environment \(cgap-mastertest\)/);
    });

    it("reads an export under the name a stack file gives it", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: false,
            config: mastertestEstateWith({ taskSecurityGroups: ["HTTPSSecurityGroup"], dataBuckets: ["AppBlobsBucket"] }),
        });
        const containerSg = one(run.resources, T.securityGroup, "cgap-container-sg");
        assert.deepStrictEqual(inputs(one(run.resources, T.service, "cgap-wsgi")).networkConfiguration.securityGroups, [
            containerSg.id,
            EXPORTS["c4-network-main-stack-HTTPSSecurityGroup"],
        ]);
        const task = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).map((s) => [s.Sid, s]));
        assert.deepStrictEqual(task.ReadWriteDataObjects.Resource, ["arn:aws:s3:::cgap-mastertest-application-blobs/*"]);
    });

    it("refuses an export the account does not have, naming it, its stack and the fix", async () => {
        const message = await failure(
            runProgram({
                stack: "mastertest",
                preview: true,
                config: {
                    "cgap:estate": JSON.stringify({
                        networkStack: "c4-network-mian-stack",
                        ecrStack: "c4-ecr-main-stack",
                        datastoreStack: "c4-datastore-cgap-mastertest-stack",
                    }),
                },
            }),
        );
        assert.match(
            message,
            /^The CloudFormation export "c4-network-mian-stack-(VPC|PublicSubnetA|PrivateSubnetA|ApplicationSecurityGroup)" \(\w+: export \w+ of stack c4-network-mian-stack, cgap:estate\.networkStack\) could not be read: .*no CloudFormation export named/,
        );
        assert.match(message, /Check the stack name in cgap:estate\.networkStack \(`aws cloudformation list-exports` lists what the account exports\), or set cgap:estate\.exports\.\w+ to the name this 4dn-cloud-infra version exports\.$/);
    });

    it("refuses a datastore that does not export the identity secret, when the stack file does not name it", async () => {
        // Production's stack file names no identity; mastertest's datastore is a 4dn-cloud-infra v4 one.
        const message = await failure(
            runProgram({
                stack: "production",
                preview: true,
                config: {
                    "cgap:estate": JSON.stringify({ datastoreStack: "c4-datastore-cgap-mastertest-stack" }),
                    // Production's own queue, so that mastertest's (refused by name) is not the first problem.
                    "cgap:ingestionQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-production-ingestion-queue",
                },
            }),
        );
        assert.match(message, /^The CloudFormation export "c4-datastore-cgap-mastertest-stack-ApplicationConfigurationSecretName" \(identity: /);
        assert.match(message, /4dn-cloud-infra v4 and later keep the identity secret in the appconfig stack: set cgap:identity to its name\.$/);
    });

    it("refuses an export whose value is not what the stack reads it as", async () => {
        const message = await failure(
            runProgram({
                stack: "mastertest",
                preview: false,
                config: mastertestEstateWith({ ingestionQueue: "AppFilesBucket" }),
            }),
        );
        assert.strictEqual(
            message,
            'The export read for ingestionQueue holds "cgap-mastertest-application-files", but it must be an SQS queue URL, ' +
                "https://sqs.<region>.amazonaws.com/<account>/<queue>. Check the name in cgap:estate.exports.ingestionQueue, " +
                "or give the value in the stack file.",
        );
    });
});

describe("the ingestion queue's name", () => {
    it("refuses an existing queue not named <envName>-ingestion-queue, with the two names and the fix", async () => {
        const message = await failure(
            runProgram({
                stack: "mastertest",
                preview: true,
                config: { "cgap:ingestionQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-mastertest-ingestion" },
            }),
        );
        assert.strictEqual(
            message,
            'the ingestion queue is "cgap-mastertest-ingestion", but the app only ever uses "cgap-mastertest-ingestion-queue" ' +
                "(snovault queue_utils.py names it after env.name, which is cgap:envName): point cgap:ingestionQueueUrl (or the " +
                "datastore's ApplicationIngestionQueue export) at cgap-mastertest-ingestion-queue, or leave it unset to create that queue",
        );
    });

    it("refuses another environment's queue, even one named like an ingestion queue", async () => {
        const message = await failure(
            runProgram({
                stack: "mastertest",
                preview: true,
                config: { "cgap:ingestionQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-production-ingestion-queue" },
            }),
        );
        assert.match(message, /^the ingestion queue is "cgap-production-ingestion-queue", but the app only ever uses "cgap-mastertest-ingestion-queue"/);
    });

    it("accepts the datastore's queue, which 4dn-cloud-infra names <env>-ingestion-queue", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: true,
            config: { "cgap:ingestionQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-mastertest-ingestion-queue" },
        });
        const task = Object.fromEntries(statements(one(run.resources, T.rolePolicy, "cgap-roles-task-policy")).map((s) => [s.Sid, s]));
        assert.strictEqual(task.IngestionQueue.Resource, "arn:aws:sqs:us-east-1:123456789012:cgap-mastertest-ingestion-queue");
    });
});

describe("updates that apply", () => {
    const serviceOf = (run: ProgramResult, role: string) => inputs(one(run.resources, T.service, `cgap-${role}`));

    it("forces a new deployment of a service whose capacity changes (spot to on-demand), and of no other", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: true,
            config: { "cgap:sizing": JSON.stringify({ wsgi: { capacity: "on-demand" } }) },
            liveServices: {
                "cgap-mastertest-wsgi": [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
                "cgap-mastertest-indexer": [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
                "cgap-mastertest-ingester": [{ capacityProvider: "FARGATE", weight: 1 }],
            },
        });
        assert.deepStrictEqual(serviceOf(run, "wsgi").capacityProviderStrategies, [{ capacityProvider: "FARGATE", base: 0, weight: 1 }]);
        assert.strictEqual(serviceOf(run, "wsgi").forceNewDeployment, true);
        assert.strictEqual(serviceOf(run, "indexer").forceNewDeployment, false);
        assert.strictEqual(serviceOf(run, "ingester").forceNewDeployment, false);
        for (const role of ["wsgi", "indexer", "ingester"]) {
            assert.strictEqual(serviceOf(run, role).triggers, undefined, "triggers would force a deployment on every update");
        }
    });

    it("does not force a deployment for a plain count change, which must not replace running tasks", async () => {
        const run = await runProgram({
            stack: "mastertest",
            preview: true,
            config: { "cgap:sizing": JSON.stringify({ wsgi: { count: 12 }, indexer: { count: 2 } }) },
            liveServices: {
                "cgap-mastertest-wsgi": [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
                "cgap-mastertest-indexer": [{ capacityProvider: "FARGATE_SPOT", weight: 1 }],
                "cgap-mastertest-ingester": [{ capacityProvider: "FARGATE", weight: 1 }],
            },
        });
        assert.strictEqual(serviceOf(run, "wsgi").desiredCount, 12);
        for (const role of ["wsgi", "indexer", "ingester"]) {
            assert.strictEqual(serviceOf(run, role).forceNewDeployment, false, role);
        }
    });

    it("does not force a deployment of a service that does not exist yet", async () => {
        const run = await runProgram({ stack: "mastertest", preview: true, firstRollout: true });
        for (const role of ["wsgi", "indexer", "ingester"]) {
            assert.strictEqual(serviceOf(run, role).forceNewDeployment, false, role);
        }
    });

    it("compares strategies as sets, base and weight included", () => {
        const spot = { capacityProvider: "FARGATE_SPOT", weight: 1 };
        const onDemand = { capacityProvider: "FARGATE", base: 1, weight: 0 };
        assert.strictEqual(mustForceNewDeployment([onDemand, spot], [spot, onDemand]), false);
        assert.strictEqual(mustForceNewDeployment([{ ...spot, base: 0 }], [spot]), false, "ECS reports base 0 for an unset base");
        assert.strictEqual(mustForceNewDeployment([spot], [spot, onDemand]), true);
        assert.strictEqual(mustForceNewDeployment([{ ...onDemand, base: 2 }], [onDemand]), true);
        assert.strictEqual(mustForceNewDeployment(undefined, [spot]), false);
    });
});
