import * as assert from "assert";
import { ConfigError, NO_REGION, parseStackConfig, providerRegion, unreadConfigWarnings } from "../../components/config";
import { ROLE_SPECS, ROLES } from "../../components/roles";
import { EXPORT_NAMES } from "../../components/exports";

const SPOT = { capacity: "spot", base: 0, weight: 1 };
const ON_DEMAND = { capacity: "on-demand", base: 0, weight: 1 };

const MINIMAL = {
    envName: "cgap-mastertest",
    environment: "development",
    identity: "C4DatastoreCgapMastertestApplicationConfiguration",
    appVersion: "v15.6.0",
    dataBuckets: "cgap-mastertest-application-blobs,cgap-mastertest-application-system",
    searchDomainArn: "arn:aws:es:us-east-1:123456789012:domain/os-cgap-mastertest",
    globalEnvBucket: "cgap-mastertest-foursight-envs",
};

/** Parses, expecting exactly one problem, and returns its text. */
function problemWith(overrides: Record<string, string | undefined>, region?: string | typeof NO_REGION): string {
    try {
        parseStackConfig({ ...MINIMAL, ...overrides }, region);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        assert.strictEqual(err.problems.length, 1, err.message);
        return err.problems[0];
    }
    assert.fail("the config was accepted");
}

describe("stack config", () => {
    it("defaults reproduce the production table and roll out all four roles", () => {
        const config = parseStackConfig(MINIMAL);
        assert.deepStrictEqual(config.sizing, {
            wsgi: { count: 2, min: 2, max: 2, cpu: 4096, memory: 8192, capacity: [SPOT] },
            indexer: { count: 4, min: 4, max: 4, cpu: 256, memory: 512, capacity: [SPOT] },
            ingester: { count: 1, min: 1, max: 1, cpu: 512, memory: 1024, capacity: [ON_DEMAND] },
            // Not Spot, unlike what ran: an interruption would leave indexes or data half-done.
            deployment: { count: 1, min: 1, max: 1, cpu: 1024, memory: 2048, capacity: [ON_DEMAND] },
        });
        assert.deepStrictEqual(config.rollout, [...ROLES]);
        assert.deepStrictEqual(config.image, { appVersion: "v15.6.0", platform: "linux/amd64", buildOnPreview: false });
        assert.deepStrictEqual(config.network, {});
        assert.strictEqual(config.estate, undefined);
        assert.strictEqual(config.repositoryUrl, undefined);
        assert.strictEqual(config.ingestionQueueUrl, undefined);
        assert.strictEqual(config.indexerIntervalSeconds, 3);
        assert.deepStrictEqual(config.dataBuckets, ["cgap-mastertest-application-blobs", "cgap-mastertest-application-system"]);
        assert.strictEqual(config.globalEnvBucket, "cgap-mastertest-foursight-envs");
        assert.strictEqual(config.s3KmsKeyArn, undefined);
        assert.deepStrictEqual(config.exec, [], "ECS Exec is off unless the stack opts in");
        assert.strictEqual(config.accessLogsBucket, undefined);
    });

    it("reads exec as true (every service role), false, or a list of service roles", () => {
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, exec: "true" }).exec, ["wsgi", "indexer", "ingester"]);
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, exec: "false" }).exec, []);
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, exec: '["ingester"]' }).exec, ["ingester"]);
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, exec: "wsgi,indexer" }).exec, ["wsgi", "indexer"]);
    });

    it("reads a whole number the same, quoted or not, at the top level and inside sizing and capacity", () => {
        // Pulumi hands a top-level value to the program as text either way, so `"3"` and `3` cannot
        // be told apart there; the maps follow the same rule.
        assert.strictEqual(parseStackConfig({ ...MINIMAL, indexerIntervalSeconds: "3" }).indexerIntervalSeconds, 3);
        const quoted = parseStackConfig({
            ...MINIMAL,
            sizing: JSON.stringify({ wsgi: { count: "3", cpu: "4096", memory: "8192", capacity: { "on-demand": { base: "1" }, spot: { weight: "2" } } } }),
        });
        const plain = parseStackConfig({
            ...MINIMAL,
            sizing: JSON.stringify({ wsgi: { count: 3, cpu: 4096, memory: 8192, capacity: { "on-demand": { base: 1 }, spot: { weight: 2 } } } }),
        });
        assert.deepStrictEqual(quoted.sizing, plain.sizing);
        assert.strictEqual(quoted.sizing.wsgi.count, 3);
        // Digits only: a unit or a fraction is still refused, quoted or not.
        assert.match(problemWith({ sizing: JSON.stringify({ wsgi: { cpu: "4096 units" } }) }), /^cgap:sizing\.wsgi\.cpu is "4096 units"; it must be a positive whole number/);
        assert.match(problemWith({ sizing: JSON.stringify({ wsgi: { count: "2.5" } }) }), /^cgap:sizing\.wsgi\.count is "2\.5"; it must be a whole number of tasks/);
        assert.match(problemWith({ indexerIntervalSeconds: "3s" }), /^cgap:indexerIntervalSeconds is "3s"/);
    });

    it("takes the datastore's S3 KMS key ARN", () => {
        const arn = "arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        assert.strictEqual(parseStackConfig({ ...MINIMAL, s3KmsKeyArn: arn }).s3KmsKeyArn, arn);
    });

    it("accepts us-east-1, and an unknown region (the provider's default is checked where it is known)", () => {
        assert.strictEqual(parseStackConfig(MINIMAL, "us-east-1").envName, "cgap-mastertest");
        assert.strictEqual(parseStackConfig(MINIMAL, undefined).envName, "cgap-mastertest");
    });

    it("reads the provider's region from aws:region, else from the environment as pulumi-aws does", () => {
        const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        try {
            process.env.AWS_REGION = "eu-west-1";
            process.env.AWS_DEFAULT_REGION = "eu-west-2";
            assert.strictEqual(providerRegion({ "aws:region": "us-east-1" }), "us-east-1");
            assert.strictEqual(providerRegion({}), "eu-west-1");
            delete process.env.AWS_REGION;
            assert.strictEqual(providerRegion({}), "eu-west-2");
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) {
                    delete process.env[k];
                } else {
                    process.env[k] = v;
                }
            }
        }
    });

    it("keeps the role table's defaults apart from each parse", () => {
        parseStackConfig({ ...MINIMAL, sizing: JSON.stringify({ wsgi: { count: 5 } }) });
        assert.strictEqual(ROLE_SPECS.wsgi.defaults.count, 2);
    });

    it("reads rollout as a YAML list or as comma-separated text", () => {
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, rollout: '["wsgi","indexer"]' }).rollout, ["wsgi", "indexer"]);
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, rollout: "indexer, deployment" }).rollout, ["indexer", "deployment"]);
    });

    it("reads the flow list `pulumi config set cgap:rollout '[wsgi, indexer]'` stores as plain text", () => {
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, rollout: "[wsgi, indexer]" }).rollout, ["wsgi", "indexer"]);
        assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, rollout: "['wsgi', \"ingester\"]" }).rollout, ["wsgi", "ingester"]);
        assert.deepStrictEqual(
            parseStackConfig({ ...MINIMAL, dataBuckets: "[cgap-files, cgap-blobs]" }).dataBuckets,
            ["cgap-files", "cgap-blobs"],
        );
        assert.strictEqual(
            problemWith({ rollout: "[wsgi, indexer" }),
            'cgap:rollout is "[wsgi, indexer"; it opens a list with [ but does not close it with ].',
        );
    });

    it("merges sizing overrides field by field", () => {
        const config = parseStackConfig({
            ...MINIMAL,
            sizing: JSON.stringify({ wsgi: { count: 2, cpu: 512, memory: 2048 }, ingester: { capacity: "spot" } }),
        });
        assert.deepStrictEqual(config.sizing.wsgi, { count: 2, min: 2, max: 2, cpu: 512, memory: 2048, capacity: [SPOT] });
        assert.deepStrictEqual(config.sizing.ingester, { count: 1, min: 1, max: 1, cpu: 512, memory: 1024, capacity: [SPOT] });
    });

    it("opens an autoscaling range from count: a missing bound stays at count", () => {
        const config = parseStackConfig({
            ...MINIMAL,
            sizing: JSON.stringify({ ingester: { max: 4 }, indexer: { min: 0 }, wsgi: { count: 4, min: 2, max: 16 } }),
        });
        assert.deepStrictEqual([config.sizing.ingester.min, config.sizing.ingester.count, config.sizing.ingester.max], [1, 1, 4]);
        assert.deepStrictEqual([config.sizing.indexer.min, config.sizing.indexer.count, config.sizing.indexer.max], [0, 4, 4]);
        assert.deepStrictEqual([config.sizing.wsgi.min, config.sizing.wsgi.count, config.sizing.wsgi.max], [2, 4, 16]);
    });

    describe("capacity", () => {
        it("keeps two on-demand WSGI tasks by default on production, the rest on Spot; nothing else changes", () => {
            const production = parseStackConfig({ ...MINIMAL, environment: "production" });
            assert.deepStrictEqual(production.sizing.wsgi.capacity, [
                { capacity: "on-demand", base: 2, weight: 0 },
                { capacity: "spot", base: 0, weight: 1 },
            ]);
            const development = parseStackConfig(MINIMAL);
            for (const role of ROLES.filter((r) => r !== "wsgi")) {
                assert.deepStrictEqual(production.sizing[role], development.sizing[role], role);
            }
            assert.deepStrictEqual(parseStackConfig({ ...MINIMAL, environment: "staging" }).sizing.wsgi.capacity, [SPOT]);
        });

        it("reads a mix of base and weight per capacity, each defaulting to 0 as in ECS", () => {
            const config = parseStackConfig({
                ...MINIMAL,
                sizing: JSON.stringify({ indexer: { capacity: { "on-demand": { base: 1, weight: 1 }, spot: { weight: 3 } } } }),
            });
            assert.deepStrictEqual(config.sizing.indexer.capacity, [
                { capacity: "on-demand", base: 1, weight: 1 },
                { capacity: "spot", base: 0, weight: 3 },
            ]);
        });

        it("takes the shorthand on production too: all WSGI tasks on-demand, or all on Spot", () => {
            const config = parseStackConfig({ ...MINIMAL, environment: "production", sizing: JSON.stringify({ wsgi: { capacity: "on-demand" } }) });
            assert.deepStrictEqual(config.sizing.wsgi.capacity, [ON_DEMAND]);
        });

        it("lets production run fewer than two WSGI tasks when the stack sets its own capacity", () => {
            const config = parseStackConfig({
                ...MINIMAL,
                environment: "production",
                sizing: JSON.stringify({ wsgi: { count: 1, capacity: { "on-demand": { base: 1 }, spot: { weight: 1 } } } }),
            });
            assert.strictEqual(config.sizing.wsgi.count, 1);
        });
    });

    it("takes an existing network when all three keys are given", () => {
        const config = parseStackConfig({
            ...MINIMAL,
            vpcId: "vpc-0a1b2c3d4e5f60718",
            publicSubnetIds: '["subnet-0a1b2c3d4e5f60001","subnet-0a1b2c3d4e5f60002"]',
            privateSubnetIds: "subnet-0a1b2c3d",
        });
        assert.deepStrictEqual(config.network, {
            vpcId: "vpc-0a1b2c3d4e5f60718",
            publicSubnetIds: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
            privateSubnetIds: ["subnet-0a1b2c3d"],
        });
    });

    describe("the estate (cgap:estate)", () => {
        const ESTATE = { networkStack: "c4-network-main-stack", ecrStack: "c4-ecr-main-stack", datastoreStack: "c4-datastore-cgap-mastertest-stack" };

        it("names the stacks and takes 4dn-cloud-infra's export names unless overridden", () => {
            const config = parseStackConfig({ ...MINIMAL, estate: JSON.stringify(ESTATE) });
            assert.deepStrictEqual(config.estate, {
                stacks: { network: "c4-network-main-stack", ecr: "c4-ecr-main-stack", datastore: "c4-datastore-cgap-mastertest-stack" },
                exports: EXPORT_NAMES,
            });
        });

        it("with a datastore named, leaves what it exports to the exports: the identity, data buckets, search domain and global env bucket", () => {
            const { identity: _i, dataBuckets: _d, searchDomainArn: _s, globalEnvBucket: _g, ...rest } = MINIMAL as Record<string, string | undefined>;
            const config = parseStackConfig({ ...rest, estate: JSON.stringify(ESTATE) });
            assert.deepStrictEqual(
                [config.identity, config.dataBuckets, config.searchDomainArn, config.globalEnvBucket],
                [undefined, undefined, undefined, undefined],
            );
            assert.throws(
                () => parseStackConfig({ ...rest, identity: "cgap/identity", estate: JSON.stringify({ networkStack: "c4-network-main-stack" }) }),
                /cgap:globalEnvBucket is required/,
            );
        });

        it("overrides export names per stack, a list from one name too", () => {
            const config = parseStackConfig({
                ...MINIMAL,
                estate: JSON.stringify({ ...ESTATE, exports: { vpc: "ExportVPC", privateSubnets: "ExportPrivateSubnetA", repositoryUrl: "ECRRepoURL" } }),
            });
            assert.strictEqual(config.estate?.exports.vpc, "ExportVPC");
            assert.deepStrictEqual(config.estate?.exports.privateSubnets, ["ExportPrivateSubnetA"]);
            assert.strictEqual(config.estate?.exports.repositoryUrl, "ECRRepoURL");
            assert.deepStrictEqual(config.estate?.exports.publicSubnets, ["PublicSubnetA", "PublicSubnetB"]);
            assert.deepStrictEqual(EXPORT_NAMES.privateSubnets, ["PrivateSubnetA", "PrivateSubnetB"], "the table itself stays as it is");
        });

        it("lets the datastore's export name the identity secret, and explicit keys override exports", () => {
            const config = parseStackConfig({ ...MINIMAL, identity: undefined, estate: JSON.stringify(ESTATE), privateSubnetIds: "subnet-0a1b2c3f" });
            assert.strictEqual(config.identity, undefined);
            assert.deepStrictEqual(config.network, { privateSubnetIds: ["subnet-0a1b2c3f"] });
        });

        it("takes an existing repository and queue by URL, and an identity secret by ARN", () => {
            const config = parseStackConfig({
                ...MINIMAL,
                identity: "arn:aws:secretsmanager:us-east-1:123456789012:secret:C4DatastoreCgapMastertestApplicationConfiguration-Ab12Cd",
                repositoryUrl: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest",
                ingestionQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-mastertest-ingestion-queue",
            });
            assert.strictEqual(config.repositoryUrl, "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest");
            assert.strictEqual(config.ingestionQueueUrl, "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-mastertest-ingestion-queue");
        });

        describe("refuses", () => {
            it("an export this stack does not read", () => {
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ ...ESTATE, exports: { vpcc: "VPC" } }) }),
                    "cgap:estate.exports.vpcc is not an export this stack reads; it reads vpc, publicSubnets, privateSubnets, " +
                        "taskSecurityGroups, repositoryUrl, ingestionQueue, dataBuckets, searchEndpoint, identity, globalEnvBucket.",
                );
            });

            it("an export of a stack it does not name", () => {
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ networkStack: "c4-network-main-stack", exports: { ingestionQueue: "Q" } }) }),
                    "cgap:estate.exports.ingestionQueue names an export of the datastore stack, but cgap:estate.datastoreStack is not set.",
                );
            });

            it("an export name CloudFormation would not have, and one public subnet", () => {
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ ...ESTATE, exports: { vpc: "c4-network-main-stack VPC" } }) }),
                    'cgap:estate.exports.vpc is "c4-network-main-stack VPC"; it must be an export name (letters, digits, colons and ' +
                        "hyphens, without the `<stack name>-` prefix).",
                );
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ ...ESTATE, exports: { publicSubnets: ["PublicSubnetA"] } }) }),
                    "cgap:estate.exports.publicSubnets needs at least 2 exports (subnets in different availability zones).",
                );
            });

            it("a stack name CloudFormation would not have, a setting it does not know, an estate of no stack", () => {
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ ...ESTATE, ecrStack: "c4 ecr" }) }),
                    'cgap:estate.ecrStack is "c4 ecr"; it must be a CloudFormation stack name (a letter, then letters, digits and ' +
                        "hyphens), e.g. c4-network-main-stack.",
                );
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify({ ...ESTATE, appconfigStack: "c4-appconfig-stack" }) }),
                    "cgap:estate.appconfigStack is not an estate setting; settings are networkStack, ecrStack, datastoreStack, exports.",
                );
                assert.strictEqual(
                    problemWith({ estate: "{}" }),
                    "cgap:estate names no stack: give any of networkStack, ecrStack, datastoreStack (or remove cgap:estate).",
                );
                assert.strictEqual(
                    problemWith({ estate: '["c4-network-main-stack"]' }),
                    'cgap:estate is "[\\"c4-network-main-stack\\"]"; it must be a map with any of networkStack, ecrStack, datastoreStack, exports.',
                );
            });

            it("adoptRepository, which imported what the estate owns, saying what replaces it", () => {
                assert.match(
                    problemWith({ adoptRepository: "true" }),
                    /^cgap:adoptRepository was removed: the stack never imports a repository another tool owns .* cgap:estate\.ecrStack or the repository in cgap:repositoryUrl/,
                );
            });

            it("a repository or queue URL that is not one", () => {
                assert.strictEqual(
                    problemWith({ repositoryUrl: "cgap-mastertest" }),
                    'cgap:repositoryUrl is "cgap-mastertest"; it must be an ECR repository URL, <account>.dkr.ecr.<region>.amazonaws.com/<repository>.',
                );
                assert.strictEqual(
                    problemWith({ ingestionQueueUrl: "cgap-mastertest-ingestion-queue" }),
                    'cgap:ingestionQueueUrl is "cgap-mastertest-ingestion-queue"; it must be an SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<queue>.',
                );
            });

            it("task security groups that are not ids, or without a network to join them in", () => {
                assert.strictEqual(
                    problemWith({ estate: JSON.stringify(ESTATE), taskSecurityGroupIds: "sg-0a1b2c3d,default" }),
                    'cgap:taskSecurityGroupIds is "sg-0a1b2c3d,default"; it has "default"; security group ids look like sg-0123456789abcdef0.',
                );
                assert.match(
                    problemWith({ taskSecurityGroupIds: "sg-0a1b2c3d" }),
                    /^cgap:taskSecurityGroupIds is set, but the stack creates its own VPC, and tasks cannot join another network's security groups/,
                );
            });

            it("an identity that is neither a secret name nor a secret ARN", () => {
                assert.match(problemWith({ identity: "arn:aws:s3:::bucket" }), /^cgap:identity is "arn:aws:s3:::bucket"; it must be a Secrets Manager secret name/);
            });
        });
    });

    describe("appVersion: only names that never move", () => {
        it("takes a release tag, with or without a suffix, and a full commit SHA", () => {
            for (const version of ["v15.6.0", "v15.6.0-rc1", "v15.6.0.post1", "v16.0.0b2"]) {
                assert.strictEqual(parseStackConfig({ ...MINIMAL, appVersion: version }).image.appVersion, version);
            }
            const sha = "0123456789ABCDEF0123456789abcdef01234567";
            assert.strictEqual(parseStackConfig({ ...MINIMAL, appVersion: sha }).image.appVersion, sha.toLowerCase());
        });

        for (const [what, value] of [
            ["a branch", "master"],
            ["a branch with a slash", "feature/v15.6.0"],
            ["a short SHA", "0123456"],
            ["a tag that is not a release", "v15.6"],
        ]) {
            it(`refuses ${what}, saying why and what to use`, () => {
                const problem = problemWith({ appVersion: value });
                assert.ok(problem.startsWith(`cgap:appVersion is "${value}"; it must be a cgap-portal release tag (vX.Y.Z, e.g. v15.6.0) or a full 40-character commit SHA.`), problem);
                assert.match(problem, /docker\.Image does not rebuild when a branch moves and BuildKit caches the clone/);
                assert.match(problem, /git ls-remote https:\/\/github\.com\/dbmi-bgm\/cgap-portal\.git <branch>/);
            });
        }
    });

    describe("refuses, naming the key and what is allowed", () => {
        it("an unknown role in rollout", () => {
            assert.strictEqual(
                problemWith({ rollout: "wsgi,indexr" }),
                'cgap:rollout is "wsgi,indexr"; it names "indexr"; roles are wsgi, indexer, ingester, deployment.',
            );
        });

        it("a role named twice in rollout", () => {
            assert.match(problemWith({ rollout: "wsgi,wsgi" }), /^cgap:rollout .* names wsgi more than once/);
        });

        for (const [what, value] of [
            ["an empty list", "[]"],
            ["empty text", ""],
            ["blank text", "  "],
        ]) {
            it(`an empty rollout: ${what}`, () => {
                assert.strictEqual(
                    problemWith({ rollout: value }),
                    `cgap:rollout is ${JSON.stringify(value)}; it names no role; list the roles to roll out ` +
                        "(wsgi, indexer, ingester, deployment), or remove the key (`pulumi config rm cgap:rollout`) to roll out all four.",
                );
            });
        }

        it("a CPU/memory pair Fargate does not offer", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ wsgi: { cpu: 256, memory: 4096 } }) }),
                "cgap:sizing.wsgi: Fargate does not offer 4096 MiB with 256 CPU units; with 256 it offers 512, 1024, 2048 MiB.",
            );
        });

        it("a CPU size Fargate does not have", () => {
            assert.match(
                problemWith({ sizing: JSON.stringify({ indexer: { cpu: 300 } }) }),
                /^cgap:sizing\.indexer\.cpu is 300; Fargate offers 256, 512, 1024, 2048, 4096, 8192, 16384\.$/,
            );
        });

        it("a negative count", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ indexer: { count: -1 } }) }),
                "cgap:sizing.indexer.count is -1; it must be a whole number of tasks, 0 or more.",
            );
        });

        it("a non-integer count", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ wsgi: { count: 2.5 } }) }),
                "cgap:sizing.wsgi.count is 2.5; it must be a whole number of tasks, 0 or more.",
            );
        });

        it("a count for the deployment role, which has no service", () => {
            assert.match(problemWith({ sizing: JSON.stringify({ deployment: { count: 2 } }) }), /deployment role has no service/);
        });

        it("min above max, naming both and the rule", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ ingester: { min: 3, max: 2 } }) }),
                "cgap:sizing.ingester: min 3 is more than max 2; give 0 <= min <= count <= max.",
            );
        });

        it("a count outside min .. max", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ wsgi: { max: 1 } }) }),
                "cgap:sizing.wsgi: count 2 is outside min 1 .. max 1; count is the number of tasks a new service " +
                    "starts with and must lie within the bounds the autoscaler keeps.",
            );
            assert.match(problemWith({ sizing: JSON.stringify({ indexer: { min: 6 } }) }), /^cgap:sizing\.indexer: count 4 is outside min 6 \.\. max 6;/);
        });

        it("a negative or fractional bound, and bounds on the deployment role", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ ingester: { min: -1 } }) }),
                "cgap:sizing.ingester.min is -1; it must be a whole number of tasks, 0 or more.",
            );
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ ingester: { max: 1.5 } }) }),
                "cgap:sizing.ingester.max is 1.5; it must be a whole number of tasks, 0 or more.",
            );
            assert.match(problemWith({ sizing: JSON.stringify({ deployment: { max: 3 } }) }), /^cgap:sizing\.deployment\.max is not used/);
        });

        it("exec on an unknown role, on the one-shot deployment role, or neither a boolean nor roles", () => {
            assert.strictEqual(
                problemWith({ exec: "wsgi,shell" }),
                'cgap:exec is "wsgi,shell"; it takes true (ECS Exec on wsgi, indexer, ingester), false (on none) or a list of ' +
                    'those roles (e.g. [wsgi]); "shell" is none of these.',
            );
            assert.strictEqual(
                problemWith({ exec: "deployment" }),
                'cgap:exec is "deployment"; it names deployment, which runs no service; exec is offered on ' +
                    "wsgi, indexer, ingester (or true for all, false for none).",
            );
            // A yes/no word says what the key takes, not only that it is no role.
            assert.match(problemWith({ exec: "yes" }), /^cgap:exec is "yes"; it takes true \(ECS Exec on wsgi, indexer, ingester\), false \(on none\) or a list/);
            assert.match(problemWith({ exec: "on" }), /"on" is none of these\.$/);
        });

        it("an over-long value: its start and its length, not the whole of it", () => {
            const pasted = "x".repeat(3000);
            const problem = problemWith({ accessLogsBucket: pasted });
            assert.ok(problem.length < 300, problem);
            assert.match(problem, /^cgap:accessLogsBucket is "x{120}\.\.\." \(3000 characters\); it must be an S3 bucket name/);
            const json = problemWith({ sizing: `{"wsgi": ${"[".repeat(500)}` });
            assert.match(json, /^cgap:sizing is /);
            assert.ok(json.length < 400, json);
        });

        it("an access logs bucket that is not a bucket name", () => {
            assert.strictEqual(
                problemWith({ accessLogsBucket: "s3://cgap-alb-logs" }),
                'cgap:accessLogsBucket is "s3://cgap-alb-logs"; it must be an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens).',
            );
        });

        it("an unknown capacity, sizing field or role", () => {
            assert.strictEqual(
                problemWith({ sizing: JSON.stringify({ wsgi: { capacity: "spots" } }) }),
                'cgap:sizing.wsgi.capacity is "spots"; it must be spot or on-demand, or a mix of both, e.g. { on-demand: { base: 2 }, spot: { weight: 1 } }.',
            );
            assert.match(problemWith({ sizing: JSON.stringify({ wsgi: { memroy: 512 } }) }), /^cgap:sizing\.wsgi\.memroy is not a sizing field/);
            assert.match(problemWith({ sizing: JSON.stringify({ web: { count: 1 } }) }), /^cgap:sizing\.web: "web" is not a role/);
        });

        it("no region anywhere (aws:region, AWS_REGION, AWS_DEFAULT_REGION): the provider would fail mid-update", () => {
            const problem = problemWith({}, NO_REGION);
            assert.match(problem, /^aws:region is not set, and neither AWS_REGION nor AWS_DEFAULT_REGION is: /);
            assert.match(problem, /pulumi config set aws:region us-east-1/);
        });

        it("a search domain, an ECR repository or an ingestion queue in another region than the app's", () => {
            assert.strictEqual(
                problemWith({ searchDomainArn: "arn:aws:es:eu-west-1:123456789012:domain/os-cgap-mastertest" }),
                'cgap:searchDomainArn is "arn:aws:es:eu-west-1:123456789012:domain/os-cgap-mastertest"; it is in eu-west-1; ' +
                    "the portal only works in us-east-1, so it must name one there.",
            );
            assert.match(
                problemWith({ repositoryUrl: "123456789012.dkr.ecr.us-west-2.amazonaws.com/cgap-mastertest" }),
                /^cgap:repositoryUrl is "[^"]+"; it is in us-west-2; the portal only works in us-east-1/,
            );
            assert.match(
                problemWith({ ingestionQueueUrl: "https://sqs.eu-central-1.amazonaws.com/123456789012/cgap-mastertest-ingestion-queue" }),
                /^cgap:ingestionQueueUrl is "[^"]+"; it is in eu-central-1;/,
            );
            // The same values in us-east-1 pass.
            const config = parseStackConfig({
                ...MINIMAL,
                repositoryUrl: "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest",
                ingestionQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/cgap-mastertest-ingestion-queue",
            });
            assert.strictEqual(config.repositoryUrl, "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-mastertest");
        });

        it("a region other than us-east-1, saying why", () => {
            const problem = problemWith({}, "eu-west-1");
            assert.match(problem, /^aws:region is "eu-west-1"; the portal only works in us-east-1: /);
            assert.match(problem, /dcicutils 8\.16\.1 and dcicsnovault 11\.19\.0 hard-code us-east-1 for Secrets Manager, SQS/);
            assert.match(problem, /pulumi config set aws:region us-east-1/);
        });

        it("an env bucket that is not a bucket name, a KMS key that is not a key ARN, no data bucket", () => {
            assert.match(problemWith({ globalEnvBucket: "s3://envs" }), /^cgap:globalEnvBucket is "s3:\/\/envs"; it must be an S3 bucket name/);
            assert.match(
                problemWith({ s3KmsKeyArn: "alias/cgap-s3" }),
                /^cgap:s3KmsKeyArn is "alias\/cgap-s3"; it must be a KMS key ARN, arn:aws:kms:<region>:<account>:key\/<key id>\.$/,
            );
            assert.match(problemWith({ s3KmsKeyArn: "arn:aws:kms:us-east-1:123456789012:alias/cgap" }), /must be a KMS key ARN/);
            assert.match(problemWith({ dataBuckets: "[]" }), /^cgap:dataBuckets is "\[\]"; it must name at least one bucket/);
        });

        describe("a capacity mix that does not say what it means", () => {
            const mix = (role: string, capacity: unknown, extra: Record<string, unknown> = {}) =>
                problemWith({ sizing: JSON.stringify({ [role]: { capacity, ...extra } }) });

            it("a base above the count", () => {
                assert.strictEqual(
                    mix("wsgi", { "on-demand": { base: 3 }, spot: { weight: 1 } }),
                    "cgap:sizing.wsgi.capacity puts a base of 3 tasks on on-demand, above the count of 2: lower the base to at most 2, or raise cgap:sizing.wsgi.count to 3 or more.",
                );
            });

            it("production's default base above a count the stack lowered", () => {
                assert.strictEqual(
                    problemWith({ environment: "production", sizing: JSON.stringify({ wsgi: { count: 1 } }) }),
                    "cgap:sizing.wsgi.capacity puts a base of 2 tasks on on-demand (production's default), above the count of 1: lower the base to at most 1, or raise cgap:sizing.wsgi.count to 2 or more.",
                );
            });

            it("weights that send the tasks beyond the base nowhere", () => {
                assert.throws(
                    () =>
                        parseStackConfig({
                            ...MINIMAL,
                            sizing: JSON.stringify({ wsgi: { capacity: { "on-demand": { base: 2, weight: 0 }, spot: { base: 0, weight: 0 } } } }),
                        }),
                    (err: ConfigError) =>
                        err.problems.length === 2 &&
                        err.problems[0].startsWith("cgap:sizing.wsgi.capacity.spot has base 0 and weight 0, so no task is ever placed on spot") &&
                        err.problems[1].startsWith("cgap:sizing.wsgi.capacity gives every capacity weight 0"),
                );
                const onlyBase = mix("indexer", { "on-demand": { base: 2 } });
                assert.strictEqual(
                    onlyBase,
                    "cgap:sizing.indexer.capacity gives every capacity weight 0, so ECS has nowhere to place the tasks beyond the base: give the capacity that takes the rest a weight above 0, e.g. { on-demand: { base: 2 }, spot: { weight: 1 } }.",
                );
            });

            it("a capacity that gets nothing", () => {
                assert.strictEqual(
                    mix("wsgi", { "on-demand": {}, spot: { weight: 1 } }),
                    "cgap:sizing.wsgi.capacity.on-demand has base 0 and weight 0, so no task is ever placed on on-demand: give it a base or a weight, or leave it out.",
                );
            });

            it("a base on both capacities", () => {
                assert.strictEqual(
                    mix("wsgi", { "on-demand": { base: 2 }, spot: { base: 2, weight: 1 } }),
                    "cgap:sizing.wsgi.capacity sets a base on on-demand and spot; ECS allows a base on one capacity of a strategy only: keep the base on on-demand and give spot a weight.",
                );
            });

            it("an unknown capacity, field or number out of ECS's range", () => {
                assert.strictEqual(
                    mix("wsgi", { ondemand: { base: 2 }, spot: { weight: 1 } }),
                    'cgap:sizing.wsgi.capacity.ondemand: "ondemand" is not a capacity; capacities are spot, on-demand.',
                );
                assert.strictEqual(
                    mix("wsgi", { "on-demand": { bsae: 2 }, spot: { weight: 1 } }),
                    "cgap:sizing.wsgi.capacity.on-demand.bsae is not a field of a capacity share; fields are base, weight.",
                );
                assert.strictEqual(
                    mix("wsgi", { spot: { weight: 1001 } }),
                    "cgap:sizing.wsgi.capacity.spot.weight is 1001; it must be a whole number from 0 to 1000.",
                );
                assert.strictEqual(
                    mix("wsgi", { spot: { weight: -1 } }),
                    "cgap:sizing.wsgi.capacity.spot.weight is -1; it must be a whole number from 0 to 1000.",
                );
                assert.strictEqual(
                    mix("wsgi", { spot: 3 }),
                    "cgap:sizing.wsgi.capacity.spot is 3; it must be a map of base and weight, e.g. { on-demand: { base: 2 }, spot: { weight: 1 } }.",
                );
                assert.match(mix("wsgi", {}), /^cgap:sizing\.wsgi\.capacity is an empty mix/);
            });

            it("a mix for the deployment task, which runs one task", () => {
                assert.strictEqual(
                    mix("deployment", { "on-demand": { base: 1 }, spot: { weight: 1 } }),
                    "cgap:sizing.deployment.capacity is a mix; the deployment role runs one task at a time, so it takes spot or on-demand.",
                );
            });

            it("Spot with an arm64 platform, which Fargate Spot does not run", () => {
                assert.strictEqual(
                    problemWith({ platform: "linux/arm64", sizing: JSON.stringify({ indexer: { capacity: "on-demand" } }) }),
                    "cgap:sizing.wsgi.capacity uses spot, but cgap:platform is linux/arm64 and Fargate Spot runs linux/amd64 tasks only: set cgap:sizing.wsgi.capacity to on-demand, or the platform to linux/amd64.",
                );
            });

            it("an on-demand base hidden in a spot-only default does not get past the count check", () => {
                // A colleague sets count 0 to park WSGI: a base of 0 is fine, production's default of 2 is not.
                assert.match(
                    problemWith({ environment: "production", sizing: JSON.stringify({ wsgi: { count: 0 } }) }),
                    /base of 2 tasks on on-demand \(production's default\), above the count of 0/,
                );
                assert.strictEqual(parseStackConfig({ ...MINIMAL, sizing: JSON.stringify({ wsgi: { count: 0 } }) }).sizing.wsgi.count, 0);
            });
        });

        it("a missing identity, without a datastore to read it from", () => {
            assert.strictEqual(
                problemWith({ identity: undefined }),
                "cgap:identity is required: set it with `pulumi config set cgap:identity <secret name>`, or name the datastore " +
                    "stack that exports it in cgap:estate.datastoreStack.",
            );
        });

        for (const key of ["envName", "environment", "appVersion", "dataBuckets", "searchDomainArn", "globalEnvBucket"]) {
            it(`a missing ${key}`, () => {
                assert.strictEqual(
                    problemWith({ [key]: undefined }),
                    `cgap:${key} is required; set it with \`pulumi config set cgap:${key} <value>\`.`,
                );
            });
        }

        it("an environment outside development/staging/production", () => {
            assert.strictEqual(
                problemWith({ environment: "prod" }),
                'cgap:environment is "prod"; it must be one of development, staging, production.',
            );
        });

        it("a malformed VPC id", () => {
            assert.strictEqual(
                problemWith({ vpcId: "vpc-xyz", publicSubnetIds: "subnet-0a1b2c3d,subnet-0a1b2c3e", privateSubnetIds: "subnet-0a1b2c3f" }),
                'cgap:vpcId is "vpc-xyz"; it must look like vpc-0123456789abcdef0.',
            );
        });

        it("a malformed subnet id", () => {
            assert.strictEqual(
                problemWith({ vpcId: "vpc-0a1b2c3d", publicSubnetIds: "subnet-0a1b2c3d,sub-1", privateSubnetIds: "subnet-0a1b2c3f" }),
                'cgap:publicSubnetIds is "subnet-0a1b2c3d,sub-1"; it has "sub-1"; subnet ids look like subnet-0123456789abcdef0.',
            );
        });

        it("one public subnet (the ALB needs two zones)", () => {
            assert.match(
                problemWith({ vpcId: "vpc-0a1b2c3d", publicSubnetIds: "subnet-0a1b2c3d", privateSubnetIds: "subnet-0a1b2c3f" }),
                /^cgap:publicSubnetIds .* needs at least 2 subnets/,
            );
        });

        it("half a network", () => {
            assert.strictEqual(
                problemWith({ vpcId: "vpc-0a1b2c3d" }),
                "cgap:vpcId set without cgap:publicSubnetIds, cgap:privateSubnetIds: give all three to run in an existing network, " +
                    "name its stack in cgap:estate.networkStack, or give none to let the stack create its VPC.",
            );
        });

        it("a subnet that is both public and private", () => {
            assert.match(
                problemWith({ vpcId: "vpc-0a1b2c3d", publicSubnetIds: "subnet-0a1b2c3d,subnet-0a1b2c3e", privateSubnetIds: "subnet-0a1b2c3d" }),
                /share subnet-0a1b2c3d: tasks must run in private subnets only/,
            );
        });

        it("a key the stack does not read", () => {
            assert.match(problemWith({ envname: "x" }), /^cgap:envname is not a setting of this stack; did you mean cgap:envName\? known keys: envName, /);
            assert.match(problemWith({ indexerIntervalSecs: "3" }), /did you mean cgap:indexerIntervalSeconds\?/);
            // Nothing near: no guess.
            assert.match(problemWith({ colour: "blue" }), /^cgap:colour is not a setting of this stack; known keys: /);
        });

        it("a sizing that is not a map, in words instead of parser text", () => {
            const expected = "it must be a map, role to { count, min, max, cpu, memory, capacity }, e.g. { wsgi: { count: 8 } }.";
            assert.strictEqual(problemWith({ sizing: "big" }), `cgap:sizing is "big"; ${expected}`);
            assert.strictEqual(problemWith({ sizing: "{wsgi:" }), `cgap:sizing is "{wsgi:"; ${expected}`);
            assert.strictEqual(problemWith({ sizing: "[1]" }), `cgap:sizing is "[1]"; ${expected}`);
        });

        it("a number with a unit or out of range, saying what is allowed", () => {
            const expected = "it must be a whole number of seconds from 1 to 3600, written without a unit (e.g. 3).";
            for (const value of ["3s", "0", "1.5", "", "three", "3601"]) {
                assert.strictEqual(problemWith({ indexerIntervalSeconds: value }), `cgap:indexerIntervalSeconds is ${JSON.stringify(value)}; ${expected}`);
            }
            assert.strictEqual(parseStackConfig({ ...MINIMAL, indexerIntervalSeconds: " 10 " }).indexerIntervalSeconds, 10);
        });

        it("an encrypted (secure:) value, saying to store it in plain text, for any key", () => {
            const encrypted = JSON.stringify({ secure: "v1:AAABAK8t0a2QLn==" });
            assert.strictEqual(
                problemWith({ identity: encrypted }),
                "cgap:identity is encrypted (secure:), and no setting of this stack is a secret: the identity is only the " +
                    "name of one. Store it in plain text with `pulumi config set cgap:identity <value>` (without --secret).",
            );
            assert.match(problemWith({ rollout: encrypted }), /^cgap:rollout is encrypted \(secure:\)/);
        });

        it("a bucket name S3 would refuse, a search domain that is not an ARN", () => {
            assert.strictEqual(
                problemWith({ dataBuckets: "cgap-files,Bad_Bucket" }),
                'cgap:dataBuckets is "cgap-files,Bad_Bucket"; it has "Bad_Bucket"; S3 bucket names are 3-63 lower-case letters, digits, dots and hyphens.',
            );
            assert.match(problemWith({ searchDomainArn: "cgap-es" }), /^cgap:searchDomainArn is "cgap-es"; it must be an OpenSearch\/Elasticsearch domain ARN/);
        });

        it("a certificate that is not an ACM ARN, a platform and a boolean it does not know", () => {
            assert.match(problemWith({ certificateArn: "arn:aws:iam::123456789012:server-certificate/x" }), /^cgap:certificateArn .* must be an ACM certificate ARN/);
            assert.strictEqual(problemWith({ platform: "linux/386" }), 'cgap:platform is "linux/386"; it must be one of linux/amd64, linux/arm64.');
            assert.strictEqual(problemWith({ buildOnPreview: "yes" }), 'cgap:buildOnPreview is "yes"; it must be true or false.');
        });
    });

    it("warns about config in a namespace nothing reads, suggesting the cgap: key a typo meant", () => {
        assert.deepStrictEqual(
            unreadConfigWarnings({
                "cgap:envName": "cgap-mastertest",
                "aws:region": "us-east-1",
                "docker:host": "unix:///var/run/docker.sock",
                "cgpa:envName": "cgap-mastertest",
                "cagp:indexerIntervalSecond": "3",
                "mycompany:owner": "team",
                "mycompany:envName": "cgap-mastertest",
            }),
            [
                // The namespace and the key both misspelled: named with the key it resembles.
                'Config key cagp:indexerIntervalSecond is ignored: nothing in this stack reads the namespace "cagp" ' +
                    "(read: cgap, aws, awsx, docker, pulumi). Did you mean cgap:indexerIntervalSeconds?",
                'Config key cgpa:envName is ignored: nothing in this stack reads the namespace "cgpa" ' +
                    "(read: cgap, aws, awsx, docker, pulumi). Did you mean cgap:envName?",
                // A namespace nowhere near cgap is someone else's, whatever its keys are called.
                'Config key mycompany:envName is ignored: nothing in this stack reads the namespace "mycompany" ' +
                    "(read: cgap, aws, awsx, docker, pulumi).",
                'Config key mycompany:owner is ignored: nothing in this stack reads the namespace "mycompany" ' +
                    "(read: cgap, aws, awsx, docker, pulumi).",
            ],
        );
    });

    it("lists every problem at once, in one message", () => {
        assert.throws(
            () => parseStackConfig({ ...MINIMAL, environment: "prod", rollout: "web" }),
            (err: Error) =>
                err instanceof ConfigError &&
                err.problems.length === 2 &&
                err.message.startsWith("Invalid stack config (2 problems):\n  - cgap:environment"),
        );
    });
});
