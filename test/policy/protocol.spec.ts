// The policy pack judged through the analyzer protocol, started exactly as the Pulumi CLI starts
// it (ops/offline/analyzer.ts). Resources have the shapes the engine sends (test/policy/fixtures.ts).
import * as assert from "assert";

import * as grpc from "@grpc/grpc-js";

import { Diagnostic, PolicyPackConfig, PolicyPackProcess, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { levelProblems, refusal } from "../../policy/gates";
import { ROLE_IMAGES } from "../../policy/roles";
import {
    asTheEngineSends,
    cacheSources,
    changingImage,
    firstRolloutImage,
    foreignImages,
    foreignResource,
    hex64,
    infrastructure,
    lastRun,
    pushedImage,
    ranImages,
    REGISTRY,
    renamed,
    repoUrl,
    rolloutStack,
    stackResource,
    waitingOnPush,
    withTask,
} from "./fixtures";
import { listDiagnostics, pack, packAsIs, PackName, policiesAt, REVIEWED_SETTINGS, startAll } from "./packs";

const IMAGE_TYPE = "docker:index/image:Image";
const TASK_TYPE = "aws:ecs/taskDefinition:TaskDefinition";
const BUNDLE = "indexer-deployment-bundle";
const PRODUCTION = "production-rollout-complete";
const ROLLOUT_POLICIES = [BUNDLE, PRODUCTION];

interface Judgement {
    diagnostics: Diagnostic[];
    mandatory: string[];
    advisory: string[];
    text: string;
}

/** Judges a stack as one preview (or update) does, and checks what must hold for every judgement. */
async function judge(name: PackName, resources: StackResource[], stackTags?: Record<string, string>): Promise<Judgement> {
    const p = await packAsIs(name);
    const diagnostics = await p.judge(resources, { stackTags: stackTags ?? {} });
    const text = listDiagnostics(diagnostics);
    for (const d of diagnostics) {
        assert.ok(!/can't run policy/.test(d.message), `an unknown value escaped a policy:\n${text}`);
        if (ROLLOUT_POLICIES.includes(d.policyName)) {
            assert.strictEqual(d.enforcementLevel, "mandatory", `a rollout policy came back ${d.enforcementLevel}:\n${text}`);
        }
    }
    return { diagnostics, mandatory: policiesAt(diagnostics, "mandatory"), advisory: policiesAt(diagnostics, "advisory"), text };
}

function assertClean(j: Judgement): void {
    assert.deepStrictEqual(j.diagnostics, [], `expected no diagnostics at all:\n${j.text}`);
}

function assertRefusedBy(j: Judgement, policies: string[], ...mentions: RegExp[]): void {
    assert.deepStrictEqual(j.mandatory, [...policies].sort(), j.text);
    for (const mention of mentions) {
        assert.ok(
            j.diagnostics.some((d) => policies.includes(d.policyName) && mention.test(d.message)),
            `no message matches ${mention}:\n${j.text}`,
        );
    }
}

/** The portal's deployment image, pushed to another repository under another resource name. */
function renamedDeployment(stackName: string): StackResource {
    return renamed(changingImage("deployment", { stack: stackName, envName: "cgap-elsewhere" }), "deployment-elsewhere", stackName);
}

/** A preview's stack: infrastructure plus the given images (on the given stack). */
function stack(stackName: string, images: StackResource[], infra: Parameters<typeof infrastructure>[0] = {}): StackResource[] {
    return asTheEngineSends([...infrastructure({ stack: stackName, ...infra }), ...images]);
}

describe("policy pack through the analyzer protocol", function () {
    // The packs type-check themselves when they start: a few seconds each.
    this.timeout(180_000);

    before(async () => {
        await startAll();
    });

    describe("the pack", () => {
        let p: PolicyPackProcess;
        before(async () => {
            p = await pack("mastertestPreview");
        });

        it("is cgap-rollout, with the two rollout gates mandatory stack policies and every other policy advisory", async () => {
            const info = await p.info();
            assert.strictEqual(info.name, "cgap-rollout");
            assert.strictEqual(info.version, "1.0.0");
            const levels = Object.fromEntries(info.policies.map((x) => [x.name, `${x.enforcementLevel}/${x.type}`]));
            assert.strictEqual(levels[BUNDLE], "mandatory/stack");
            assert.strictEqual(levels[PRODUCTION], "mandatory/stack");
            const others = info.policies.filter((x) => !ROLLOUT_POLICIES.includes(x.name));
            assert.ok(others.length >= 14, `${others.length} compliance policies`);
            assert.deepStrictEqual(others.filter((x) => x.enforcementLevel !== "advisory").map((x) => x.name), []);
        });

        it("names the Security Hub (or Checkov) control each compliance policy mirrors", async () => {
            const controls = Object.fromEntries((await p.info()).policies.map((x) => [x.name, x.control]));
            assert.deepStrictEqual(
                Object.entries(controls).filter(([, c]) => c).sort((a, b) => a[0].localeCompare(b[0])),
                [
                    ["alarm-has-actions", "CloudWatch.15"],
                    ["alb-access-logs", "ELB.5"],
                    ["alb-drop-invalid-headers", "ELB.4"],
                    ["alb-http-redirects-to-https", "ELB.1"],
                    ["alb-waf-web-acl", "ELB.16"],
                    ["ecr-customer-managed-kms-key", "ECR.5"],
                    ["ecr-lifecycle-policy", "ECR.3"],
                    ["ecr-scan-on-push", "ECR.1"],
                    ["ecr-tag-immutability", "ECR.2"],
                    ["ecs-cluster-container-insights", "ECS.12"],
                    ["ecs-container-logging-configured", "ECS.9"],
                    ["ecs-container-non-root-user", "ECS.20"],
                    ["ecs-container-not-privileged", "ECS.4"],
                    ["ecs-container-read-only-root", "ECS.5"],
                    ["ecs-fargate-platform-latest", "ECS.10"],
                    ["ecs-no-plaintext-secrets-in-environment", "ECS.8"],
                    ["ecs-service-no-public-ip", "ECS.2"],

                    ["ecs-task-no-host-network", "ECS.17"],
                    ["ecs-task-no-host-pid", "ECS.3"],
                    ["ecs-task-set-no-public-ip", "ECS.16"],
                    ["iam-no-full-admin", "IAM.1"],
                    ["lb-deletion-protection", "ELB.6"],
                    ["lb-listener-recommended-tls-policy", "ELB.17"],
                    ["lb-listener-secure-protocol", "ELB.18"],
                    ["log-group-kms-encrypted", "CKV_AWS_158"],
                    ["log-group-retention", "CloudWatch.16"],
                    ["sg-no-unrestricted-high-risk-ports", "EC2.19"],
                    ["sg-unrestricted-ingress-authorized-ports", "EC2.18"],
                    ["sqs-encrypted-at-rest", "SQS.1"],
                    ["subnet-no-public-ip-on-launch", "EC2.15"],
                    ["vpc-default-security-group-closed", "EC2.2"],
                    ["vpc-flow-logs", "EC2.6"],
                ],
            );
        });
    });

    describe("on mastertest, in a preview", () => {
        const s = "mastertest";

        it("a full rollout passes every policy", async () => {
            assertClean(await judge("mastertestPreview", rolloutStack({}, { stack: s })));
        });

        it("a preview that changes no image passes", async () => {
            const states = { wsgi: "pushed", indexer: "pushed", ingester: "pushed", deployment: "pushed" } as const;
            assertClean(await judge("mastertestPreview", rolloutStack(states, { stack: s })));
        });

        it("refuses the indexer changing while the deployment image stays", async () => {
            const j = await judge("mastertestPreview", rolloutStack({ wsgi: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }));
            assertRefusedBy(j, [BUNDLE], /changes the indexer image \(latest-indexer/, /Fix: drop --target\. "deployment" is already in cgap:rollout/);
        });

        it("refuses the indexer without the deployment image", async () => {
            const j = await judge("mastertestPreview", rolloutStack({ deployment: "absent" }, { stack: s }));
            assertRefusedBy(j, [BUNDLE], /deployment image \(latest-deployment\) is not/);
        });

        it("refuses the indexer alone, the other images not declared", async () => {
            const j = await judge("mastertestPreview", stack(s, [changingImage("indexer", { stack: s })]));
            assertRefusedBy(j, [BUNDLE], /latest-indexer/);
        });

        it("allows the deployment image changing alone, the others unchanged", async () => {
            const j = await judge("mastertestPreview", rolloutStack({ wsgi: "pushed", indexer: "pushed", ingester: "pushed" }, { stack: s }));
            assertClean(j);
        });

        it("allows the deployment image alone, the others not declared", async () => {
            assertClean(await judge("mastertestPreview", stack(s, [changingImage("deployment", { stack: s })])));
        });

        it("allows WSGI alone off production", async () => {
            assertClean(await judge("mastertestPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s })));
            assertClean(await judge("mastertestPreview", stack(s, [changingImage("wsgi", { stack: s })])));
        });

        it("recognises role images by ENTRYPOINT on a first rollout, when imageName is unknown", async () => {
            const states = { wsgi: "firstRollout", indexer: "firstRollout", ingester: "firstRollout", deployment: "firstRollout" } as const;
            assertClean(await judge("mastertestPreview", rolloutStack(states, { stack: s, creating: true, taskImages: { wsgi: UNKNOWN, indexer: UNKNOWN, ingester: UNKNOWN, deployment: UNKNOWN } })));
            const j = await judge("mastertestPreview", stack(s, [firstRolloutImage("indexer", { stack: s })], { creating: true }));
            assertRefusedBy(j, [BUNDLE], /latest-indexer/);
        });

        it("treats a buildOnPreview local image ID as changing", async () => {
            const states = { wsgi: "builtOnPreview", indexer: "builtOnPreview", ingester: "builtOnPreview", deployment: "builtOnPreview" } as const;
            assertClean(await judge("mastertestPreview", rolloutStack(states, { stack: s })));
            const j = await judge("mastertestPreview", rolloutStack({ indexer: "builtOnPreview", deployment: "pushed" }, { stack: s }));
            assertRefusedBy(j, [BUNDLE], /local image ID/);
        });

        it("refuses indexer and deployment images whose build inputs differ in anything but ENTRYPOINT", async () => {
            const cases: [string, StackResource, RegExp][] = [
                ["app version", changingImage("deployment", { stack: s, appVersion: "1.0.1" }), /args\.CGAP_VERSION: "1\.0\.0" \(latest-indexer\) vs "1\.0\.1" \(latest-deployment\)/],
                ["platform", changingImage("deployment", { stack: s, platform: "linux/arm64" }), /platform/],
                ["Dockerfile", changingImage("deployment", { stack: s, dockerfile: "images/Dockerfile.slim" }), /dockerfile/],
                ["extra build arg", changingImage("deployment", { stack: s, args: { DEBUG: "1" } }), /args\.DEBUG/],
                ["context digest", changingImage("deployment", { stack: s, contextDigest: hex64("other") }), /contextDigest/],
                ["cache source", changingImage("deployment", { stack: s, cacheFrom: { images: [`${REGISTRY}/elsewhere:latest`] } }), /cacheFrom: .*latest-build-cache.* \(latest-indexer\) vs .*elsewhere:latest" \(latest-deployment\)/],
                ["no cache source", changingImage("deployment", { stack: s, cacheFrom: undefined }), /cacheFrom: .* vs "\(none\)" \(latest-deployment\)/],
                ["legacy builder", changingImage("deployment", { stack: s, builderVersion: "BuilderV1" }), /builderVersion/],
            ];
            for (const [what, deployment, mention] of cases) {
                const images = [changingImage("indexer", { stack: s }), deployment];
                const j = await judge("mastertestPreview", stack(s, images));
                assertRefusedBy(j, [BUNDLE], mention);
                assert.ok(/differ/.test(j.text), `${what}: ${j.text}`);
            }
        });

        it("compares an unchanged image's outputs with a changing image's inputs without false alarms", async () => {
            // Same build: outputs say dockerfile "Dockerfile" (relative to the context), inputs "images/Dockerfile".
            const j = await judge("mastertestPreview", rolloutStack({ indexer: "pushed", deployment: "changing", wsgi: "pushed", ingester: "pushed" }, { stack: s }));
            assertClean(j);
            const k = await judge("mastertestPreview", stack(s, [pushedImage("indexer", { stack: s, platform: "linux/arm64" }), changingImage("deployment", { stack: s })]));
            assertRefusedBy(k, [BUNDLE], /platform/);
        });

        it("ignores foreign images and resources full of unknowns, without crashing or tripping a rule", async () => {
            const unknownEverything = (type: string, name: string, keys: string[]): StackResource => ({
                type,
                name,
                props: Object.fromEntries(keys.map((k) => [k, UNKNOWN])),
            });
            const noise: StackResource[] = [
                ...Array.from({ length: 21 }, (_, i) => foreignResource(i, s)),
                { type: "docker:index/image:Image", name: "redis", props: { imageName: "redis:7", repoDigest: UNKNOWN } },
                { type: "docker:index/image:Image", name: "no-props", props: {} },
                unknownEverything("docker:index/image:Image", "all-unknown-image", ["imageName", "build", "repoDigest", "skipPush", "registry"]),
                { type: "docker:index/image:Image", name: "unknown-args", props: { imageName: UNKNOWN, build: { context: "x", args: UNKNOWN } } },
                unknownEverything("aws:ecs/taskDefinition:TaskDefinition", "td", ["containerDefinitions", "networkMode", "pidMode", "family"]),
                unknownEverything("aws:ecs/service:Service", "svc", ["networkConfiguration", "deploymentCircuitBreaker", "platformVersion", "launchType", "deploymentController"]),
                unknownEverything("aws:ecs/cluster:Cluster", "cluster", ["settings"]),
                unknownEverything("aws:ecr/repository:Repository", "repo", ["name", "imageScanningConfiguration", "imageTagMutability", "imageTagMutabilityExclusionFilters", "encryptionConfigurations"]),
                unknownEverything("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lc", ["repository", "policy"]),
                unknownEverything("aws:lb/loadBalancer:LoadBalancer", "alb", ["loadBalancerType", "dropInvalidHeaderFields", "arn", "enableDeletionProtection", "accessLogs"]),
                unknownEverything("aws:cloudwatch/logGroup:LogGroup", "lg", ["name", "retentionInDays", "kmsKeyId"]),
                unknownEverything("aws:sqs/queue:Queue", "q", ["name", "sqsManagedSseEnabled", "kmsMasterKeyId"]),
                unknownEverything("aws:ecs/taskSet:TaskSet", "ts", ["networkConfiguration"]),
                unknownEverything("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", ["securityGroupId", "cidrIpv4", "fromPort", "toPort", "ipProtocol"]),
                unknownEverything("aws:wafv2/webAclAssociation:WebAclAssociation", "waf", ["resourceArn", "webAclArn"]),
                unknownEverything("aws:lb/listener:Listener", "listener", ["loadBalancerArn", "protocol", "certificateArn", "defaultActions"]),
                unknownEverything("aws:iam/rolePolicy:RolePolicy", "rp", ["policy", "role"]),
                unknownEverything("aws:iam/role:Role", "role", ["inlinePolicies"]),
                { type: "aws:ecs/service:Service", name: "svc-partial", props: { networkConfiguration: { assignPublicIp: UNKNOWN }, deploymentCircuitBreaker: { enable: UNKNOWN, rollback: true } } },
                { type: "aws:ecs/cluster:Cluster", name: "cluster-partial", props: { settings: [{ name: "containerInsights", value: UNKNOWN }] } },
            ];
            assertClean(await judge("mastertestPreview", [...rolloutStack({}, { stack: s }), ...noise]));
            assertClean(await judge("mastertestPreview", noise));
        });

        it("counts production by the stack tag environment=production", async () => {
            const j = await judge("mastertestPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }), { environment: "production" });
            assertRefusedBy(j, [PRODUCTION], /stack tag environment=production/);
            assertClean(await judge("mastertestPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }), { environment: "staging" }));
        });

        describe("with policy config", () => {
            let p: PolicyPackProcess;
            before(async () => {
                p = await pack("mastertestPreview");
            });
            afterEach(async () => {
                await p.reconfigure(REVIEWED_SETTINGS);
            });

            it("counts production by the productionStacks globs", async () => {
                await p.reconfigure({ ...REVIEWED_SETTINGS, [PRODUCTION]: { productionStacks: ["master*"] } });
                const j = await judge("mastertestPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }));
                assertRefusedBy(j, [PRODUCTION], /productionStacks pattern "master\*"/);
            });

            it("refuses a productionStacks config it cannot use, keeping the config it had", async () => {
                await assert.rejects(
                    p.reconfigure({ ...REVIEWED_SETTINGS, [PRODUCTION]: { productionStacks: "mastertest" } }),
                    /policy config refused, nothing was judged \(1 problem;[^]*\n {2}- production-rollout-complete\.productionStacks must be a list, got "mastertest"/,
                );
                // Nothing half-applied: the config before the refused one still holds.
                const j = await judge("mastertestPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }));
                assert.deepStrictEqual(j.diagnostics, [], j.text);
            });

            describe("the rollout gates stay mandatory whatever the config asks", () => {
                const indexerAlone = () => rolloutStack({ wsgi: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s });
                const lowering: [string, PolicyPackConfig, RegExp][] = [
                    ...(["disabled", "advisory", "remediate"] as const).map((level): [string, PolicyPackConfig, RegExp] => [
                        `name to ${level}`,
                        { [BUNDLE]: level },
                        new RegExp(`"${BUNDLE}" is a rollout gate and stays mandatory; the config asks for "${level}": below mandatory an indexer image could roll out without the deployment image`),
                    ]),
                    ["name to an object", { [BUNDLE]: { enforcementLevel: "disabled" } }, /"indexer-deployment-bundle" is a rollout gate and stays mandatory; the config asks for "disabled"/],
                    ["the production gate", { [PRODUCTION]: { enforcementLevel: "advisory", productionStacks: ["production"] } }, /"production-rollout-complete" is a rollout gate and stays mandatory; the config asks for "advisory"/],
                    ["all", { all: "disabled" }, /\(2 problems;[^]*"indexer-deployment-bundle" is a rollout gate[^\n]*\(through "all": "disabled"\)[^]*"production-rollout-complete" is a rollout gate[^\n]*\(through "all": "disabled"\)/],
                    ["all, with an advisory policy named", { all: "advisory", "ecr-scan-on-push": "advisory" }, /the config asks for "advisory" \(through "all": "advisory"\)/],
                ];
                for (const [form, config, message] of lowering) {
                    it(`refuses at Configure a gate lowered by ${form}, with one message, keeping the config it had`, async () => {
                        await assert.rejects(p.reconfigure({ ...REVIEWED_SETTINGS, ...config }), (err: { code?: number; details?: string }) => {
                            assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
                            assert.match(err.details ?? "", /^policy config refused, nothing was judged/);
                            assert.match(err.details ?? "", message);
                            // The same words the offline check and the platform print (policy/gates.ts).
                            assert.ok(err.details!.includes(refusal(levelProblems(config)).split("\n")[1].slice(4, 80)), err.details);
                            return true;
                        });
                        assertRefusedBy(await judge("mastertestPreview", indexerAlone()), [BUNDLE], /changes the indexer image/);
                    });
                }

                it("accepts the gates at mandatory, named or through all, and an advisory policy disabled", async () => {
                    for (const config of [{ [BUNDLE]: "mandatory" }, { [PRODUCTION]: { enforcementLevel: "mandatory" } }, { all: "mandatory" }, { all: "advisory", [BUNDLE]: "mandatory", [PRODUCTION]: "mandatory" }] as PolicyPackConfig[]) {
                        await p.reconfigure({ ...REVIEWED_SETTINGS, ...config });
                        assertRefusedBy(await judge("mastertestPreview", indexerAlone()), [BUNDLE]);
                    }
                    const bad = rolloutStack({}, { stack: s }).map((r) =>
                        r.type === "aws:ecs/service:Service" ? { ...r, props: { ...r.props, networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: true } } } : r,
                    );
                    assert.deepStrictEqual((await judge("mastertestPreview", bad)).advisory, ["ecs-service-no-public-ip"]);
                    await p.reconfigure({ ...REVIEWED_SETTINGS, "ecs-service-no-public-ip": "disabled" });
                    assertClean(await judge("mastertestPreview", bad));
                });
            });

            it("turns a compliance policy mandatory when configured so", async () => {
                const bad = rolloutStack({}, { stack: s }).map((r) =>
                    r.type === "aws:ecs/service:Service"
                        ? { ...r, props: { ...r.props, networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: true } } }
                        : r,
                );
                assert.deepStrictEqual((await judge("mastertestPreview", bad)).advisory, ["ecs-service-no-public-ip"]);
                await p.reconfigure({ ...REVIEWED_SETTINGS, "ecs-service-no-public-ip": "mandatory" });
                const j = await judge("mastertestPreview", bad);
                assert.deepStrictEqual(j.mandatory, ["ecs-service-no-public-ip"], j.text);
                await p.reconfigure({ ...REVIEWED_SETTINGS, all: "mandatory" });
                assert.deepStrictEqual((await judge("mastertestPreview", bad)).mandatory, ["ecs-service-no-public-ip"]);
            });

        });
    });

    describe("on production, in a preview", () => {
        const s = "production";

        it("a full rollout passes every policy", async () => {
            assertClean(await judge("productionPreview", rolloutStack({}, { stack: s, envName: "cgap-production" })));
        });

        it("a preview that changes none of the four images passes", async () => {
            const states = { wsgi: "pushed", indexer: "pushed", ingester: "pushed", deployment: "pushed" } as const;
            assertClean(await judge("productionPreview", rolloutStack(states, { stack: s })));
        });

        it("refuses WSGI alone, the others unchanged", async () => {
            const j = await judge("productionPreview", rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s }));
            assertRefusedBy(j, [PRODUCTION], /changes latest and leaves latest-indexer, latest-ingester and latest-deployment unchanged/, /Fix: drop --target\. "indexer", "ingester", "deployment" are already in cgap:rollout/);
        });

        it("refuses WSGI alone, the others not declared", async () => {
            const j = await judge("productionPreview", stack(s, [changingImage("wsgi", { stack: s })]));
            assertRefusedBy(j, [PRODUCTION], /latest-indexer, latest-ingester and latest-deployment are absent/, /push all four/);
        });

        it("refuses a --target preview that changes three images and leaves one", async () => {
            const j = await judge("productionPreview", rolloutStack({ ingester: "pushed" }, { stack: s }));
            assertRefusedBy(j, [PRODUCTION], /leaves latest-ingester unchanged/, /drop --target/);
        });

        it("refuses a --target preview that leaves the deployment image, under both rules", async () => {
            const j = await judge("productionPreview", rolloutStack({ deployment: "pushed" }, { stack: s }));
            assertRefusedBy(j, [BUNDLE, PRODUCTION]);
        });

        it("refuses a role image set not to push, and one whose skipPush is unknown", async () => {
            const off = await judge("productionPreview", asTheEngineSends([...rolloutStack({ ingester: "absent" }, { stack: s }), changingImage("ingester", { stack: s, skipPush: true })]));
            assertRefusedBy(off, [PRODUCTION], /latest-ingester is not pushed \(skipPush is true\)/);
            const unknown = await judge("productionPreview", asTheEngineSends([...rolloutStack({ ingester: "absent" }, { stack: s }), changingImage("ingester", { stack: s, skipPush: UNKNOWN })]));
            assertRefusedBy(unknown, [PRODUCTION], /skipPush is not known/);
        });

        it("refuses four images whose build inputs differ in anything but ENTRYPOINT", async () => {
            const j = await judge("productionPreview", asTheEngineSends([...rolloutStack({ ingester: "absent" }, { stack: s }), changingImage("ingester", { stack: s, appVersion: "2.0.0" })]));
            assertRefusedBy(j, [PRODUCTION], /args\.CGAP_VERSION/);
        });

        it("refuses four images whose cache sources differ, even in order only", async () => {
            const reordered = { images: [...cacheSources(repoUrl()).images].reverse() };
            const j = await judge("productionPreview", asTheEngineSends([...rolloutStack({ ingester: "absent" }, { stack: s }), changingImage("ingester", { stack: s, cacheFrom: reordered })]));
            assertRefusedBy(j, [PRODUCTION], /cacheFrom/);
        });

        it("passes a first rollout, everything the cloud computes unknown", async () => {
            const states = { wsgi: "firstRollout", indexer: "firstRollout", ingester: "firstRollout", deployment: "firstRollout" } as const;
            assertClean(await judge("productionPreview", rolloutStack(states, { stack: s, creating: true, taskImages: { wsgi: UNKNOWN, indexer: UNKNOWN, ingester: UNKNOWN, deployment: UNKNOWN } })));
        });

        it("treats buildOnPreview local image IDs as changing", async () => {
            const all = { wsgi: "builtOnPreview", indexer: "builtOnPreview", ingester: "builtOnPreview", deployment: "builtOnPreview" } as const;
            assertClean(await judge("productionPreview", rolloutStack(all, { stack: s })));
            const j = await judge("productionPreview", rolloutStack({ ...all, wsgi: "pushed" }, { stack: s }));
            assertRefusedBy(j, [PRODUCTION], /leaves latest unchanged/);
        });

        it("refuses, mandatory, when every property of the role images is unknown", async () => {
            const unknownImages: StackResource[] = (["wsgi", "indexer", "ingester", "deployment"] as const).map((role) => ({
                type: "docker:index/image:Image",
                name: `cgap-${role}-image`,
                urn: changingImage(role, { stack: s }).urn,
                props: { imageName: UNKNOWN, repoDigest: UNKNOWN, skipPush: UNKNOWN, registry: UNKNOWN, build: { context: UNKNOWN, dockerfile: UNKNOWN, args: { ENTRYPOINT: ROLE_IMAGES[role].entrypoint, CGAP_VERSION: UNKNOWN } } },
            }));
            const j = await judge("productionPreview", stack(s, unknownImages, { creating: true }));
            // A deployment image not known to push does not ship with the indexer either.
            assertRefusedBy(j, [BUNDLE, PRODUCTION], /skipPush is not known/);
        });
    });

    describe("foreign images: the portal's are the ones in the repository its task definitions run from", () => {
        const pushed = { wsgi: "pushed", indexer: "pushed", ingester: "pushed", deployment: "pushed" } as const;
        for (const [s, p] of [["mastertest", "mastertestPreview"], ["production", "productionPreview"]] as const) {
            it(`${s}: a helper tagged latest, an untagged sidecar and a second app with the same tags neither trip nor satisfy`, async () => {
                // A full rollout next to a second app that does not change, and the other way round.
                assertClean(await judge(p, [...rolloutStack({}, { stack: s }), ...foreignImages(s, "pushed")]));
                assertClean(await judge(p, [...rolloutStack(pushed, { stack: s }), ...foreignImages(s, "changing")]));
                // While the role images wait on their push, the task definitions' dependencies name them.
                assertClean(await judge(p, waitingOnPush([...rolloutStack({}, { stack: s }), ...foreignImages(s, "pushed")])));
            });

            it(`${s}: a deployment image pushed to another repository does not ship with the indexer`, async () => {
                const elsewhere = renamedDeployment(s);
                const j = await judge(p, [...rolloutStack({ deployment: "absent" }, { stack: s }), elsewhere]);
                assertRefusedBy(j, s === "production" ? [BUNDLE, PRODUCTION] : [BUNDLE], /deployment image \(latest-deployment\) is not/);
            });

            it(`${s}: the deployment task definition waiting on that other repository's image runs it, and one build across two repositories is refused`, async () => {
                const elsewhere = renamedDeployment(s);
                const resources = rolloutStack({ deployment: "absent" }, { stack: s }).map((r) =>
                    r.name === "cgap-deployment" ? { ...r, props: { ...r.props, containerDefinitions: UNKNOWN }, propertyDependencies: { containerDefinitions: [elsewhere.urn!] } } : r,
                );
                const j = await judge(p, [...resources, elsewhere]);
                assertRefusedBy(j, s === "production" ? [BUNDLE, PRODUCTION] : [BUNDLE], /repository: .*cgap-mastertest.*cgap-elsewhere/);
            });
        }

        it("production: the second app's four images do not stand in for a portal role left out", async () => {
            const j = await judge("productionPreview", [...rolloutStack({ ingester: "absent" }, { stack: "production" }), ...foreignImages("production", "changing")]);
            assertRefusedBy(j, [PRODUCTION], /latest-ingester is absent/);
        });

        it("a first rollout: the role containers wait on the portal's images, so the second app's do not count", async () => {
            const states = { wsgi: "firstRollout", indexer: "firstRollout", ingester: "firstRollout", deployment: "firstRollout" } as const;
            const unknownTasks = { wsgi: UNKNOWN, indexer: UNKNOWN, ingester: UNKNOWN, deployment: UNKNOWN };
            const resources = [...rolloutStack(states, { stack: "production", creating: true, taskImages: unknownTasks }), ...foreignImages("production", "pushed")];
            assertClean(await judge("productionPreview", resources));
            // Without the dependencies that say which image each container waits on, nothing counts: fail closed.
            const untold = resources.map((r) => (r.type === "aws:ecs/taskDefinition:TaskDefinition" ? { ...r, propertyDependencies: {} } : r));
            assertRefusedBy(await judge("productionPreview", untold), [PRODUCTION], /are absent/);
        });
    });

    describe("judged by what each role container will run, whatever builds or tags its image", () => {
        const pushedAll = { wsgi: "pushed", indexer: "pushed", ingester: "pushed", deployment: "pushed" } as const;
        const leftOut = { wsgi: "absent", ingester: "absent", deployment: "absent" } as const;
        const tag = (name: string, envName = "cgap-mastertest") => `${repoUrl(envName)}:${name}`;
        const digest = (seed: string, envName = "cgap-mastertest") => `${repoUrl(envName)}@sha256:${hex64(seed)}`;
        /** Another app's image and task definition, both being rolled out: a container that is no role's. */
        const otherApp = (st: string, name: string, imageName: string, build: Record<string, unknown>): StackResource[] => {
            const image = stackResource(st, IMAGE_TYPE, `${name}-image`, { imageName, build, skipPush: false, buildOnPreview: false });
            const task = stackResource(st, TASK_TYPE, `${name}-task`, { family: `${name}-app`, containerDefinitions: UNKNOWN }, { propertyDependencies: { containerDefinitions: [image.urn] } });
            return [image, task];
        };

        describe("no false refusals for what is not the portal", () => {
            it("production: a full rollout next to an unrelated app (foursight) whose image is tagged latest", async () => {
                const foursight = otherApp("production", "foursight", `${REGISTRY}/foursight:latest`, { context: "foursight", args: { ENTRYPOINT: "entrypoint.sh" } });
                assertClean(await judge("productionPreview", [...rolloutStack({}, { stack: "production" }), ...foursight]));
            });

            it("production: only the unrelated app rolls out, the portal unchanged", async () => {
                const foursight = otherApp("production", "foursight", `${REGISTRY}/foursight:latest`, { context: "foursight" });
                const j = await judge("productionPreview", [...rolloutStack(pushedAll, { stack: "production" }), ...foursight]);
                assertClean(j);
                assert.ok(!/--target/.test(j.text), j.text);
            });

            it("a WSGI task with a sidecar from its own repository, unchanged and rolled out with WSGI", async () => {
                const exporter = { name: "nginx-exporter", image: `${REGISTRY}/nginx-exporter@sha256:${hex64("exporter")}`, essential: false, user: "nobody", logConfiguration: { logDriver: "awslogs", options: {} } };
                assertClean(await judge("productionPreview", withTask(rolloutStack(pushedAll, { stack: "production" }), "wsgi", { extraContainers: [exporter] })));
                const sidecarImage = stackResource("production", IMAGE_TYPE, "nginx-exporter-image", { imageName: `${REGISTRY}/nginx-exporter:latest`, build: { context: "exporter" }, skipPush: false });
                const full = rolloutStack({}, { stack: "production" });
                const wsgiImage = full.find((r) => r.name === "cgap-wsgi-image")!.urn!;
                assertClean(await judge("productionPreview", [...withTask(full, "wsgi", { waitsOn: [sidecarImage.urn, wsgiImage] }), sidecarImage]));
            });

            it("a second app's images with the portal's tags and ENTRYPOINTs, their repository unknown in the preview", async () => {
                const second = (["wsgi", "indexer", "ingester", "deployment"] as const).map((role) => renamed(firstRolloutImage(role, { stack: "production" }), `second-${role}`, "production"));
                assertClean(await judge("productionPreview", [...rolloutStack({}, { stack: "production" }), ...second]));
                assertClean(await judge("mastertestPreview", [...rolloutStack(leftOut, { stack: "mastertest" }).filter((r) => r.name !== "cgap-indexer-image"), ...second.map((r) => renamed(r, r.name, "mastertest"))]));
            });
        });

        describe("no way past the gate by building or tagging differently", () => {
            const s = "mastertest";
            /** The indexer's task definition waits on `source` (added to the stack); the other roles keep what they run. */
            const indexerFrom = (source: StackResource, st = s) =>
                [...withTask(rolloutStack(st === "production" ? pushedAll : {}, { stack: st }).filter((r) => r.name !== "cgap-indexer-image"), "indexer", { waitsOn: [source.urn!] }), source];

            const builders: [string, () => StackResource][] = [
                ["@pulumi/docker-build", () => stackResource(s, "docker-build:index:Image", "cgap-indexer", { tags: [tag("latest-indexer")], buildArgs: { ENTRYPOINT: "entrypoint_indexer.sh" }, push: true, context: { location: "images" }, ref: UNKNOWN, digest: UNKNOWN })],
                ["docker.Tag + docker.RegistryImage", () => stackResource(s, "docker:index/registryImage:RegistryImage", "cgap-indexer-push", { name: tag("latest-indexer"), sha256Digest: UNKNOWN })],
                ["docker.RemoteImage of a hand-pushed tag", () => stackResource(s, "docker:index/remoteImage:RemoteImage", "cgap-indexer-remote", { name: tag("latest-indexer"), repoDigest: UNKNOWN })],
            ];
            for (const [how, source] of builders) {
                it(`refuses the indexer built or tagged by ${how}`, async () => {
                    const resources = indexerFrom(source());
                    assertRefusedBy(await judge("mastertestPreview", resources), [BUNDLE], /would change to an image that is not this stack's build/, /put "indexer" in cgap:rollout/);
                });
            }

            it("refuses a versioned tag (v15.7.0-indexer) the indexer's task definition waits on, the deployment image left alone", async () => {
                const versioned = renamed({ ...changingImage("indexer", { stack: s }), props: { ...changingImage("indexer", { stack: s }).props, imageName: tag("v15.7.0-indexer") } }, "cgap-indexer-v15", s);
                const resources = [...withTask(rolloutStack({ ...pushedAll, indexer: "absent" }, { stack: s }), "indexer", { waitsOn: [versioned.urn!] }), versioned];
                assertRefusedBy(await judge("mastertestPreview", resources), [BUNDLE], /changes the indexer image/);
            });

            it("refuses images on an explicit provider whose config is unknown (the provider answers {}): fails closed", async () => {
                const blind = (role: "indexer" | "deployment") => ({ ...changingImage(role, { stack: s }), props: {} });
                const resources = asTheEngineSends([...rolloutStack({ ...pushedAll, indexer: "absent", deployment: "absent" }, { stack: s }), blind("indexer"), blind("deployment")]);
                const j = await judge("mastertestPreview", resources);
                assertRefusedBy(j, [BUNDLE], /cannot be told, so the change is refused/, /default docker provider/);
            });

            for (const [st, packName] of [["mastertest", "mastertestPreview"], ["production", "productionPreview"]] as const) {
                it(`${st}: refuses an indexer task definition edited to another digest with no image change (a hand rollback or pin)`, async () => {
                    const envName = "cgap-mastertest";
                    const pinned = digest("a hotfix", envName);
                    // With the role images in the stack, unchanged: the container runs none of them.
                    const withImages = withTask(rolloutStack(pushedAll, { stack: st }), "indexer", { image: pinned });
                    const policies = st === "production" ? [BUNDLE, PRODUCTION] : [BUNDLE];
                    assertRefusedBy(await judge(packName, withImages), policies, /not the digest of this stack's docker:index\/image:Image "cgap-indexer-image"/);
                    // With the roles left out: the stack's record of its last run tells.
                    const recorded = lastRun(st, ranImages());
                    const leftOutAll = withTask(rolloutStack({ wsgi: "absent", indexer: "absent", ingester: "absent", deployment: "absent" }, { stack: st }), "indexer", { image: pinned });
                    assertRefusedBy(await judge(packName, [...leftOutAll, ...recorded]), policies, /this stack last ran .* and builds no image with that digest/);
                });
            }

            it("refuses a deployment image rebuilt while its task definition keeps the old digest, next to a rolled-out indexer", async () => {
                const resources = [...withTask(rolloutStack({ ...pushedAll, indexer: "changing", deployment: "absent" }, { stack: s }), "deployment", {}), changingImage("deployment", { stack: s })];
                assertRefusedBy(await judge("mastertestPreview", resources), [BUNDLE], /deployment image \(latest-deployment\) is not/);
            });

            it("refuses a mirror repository whose URL is unknown standing in for the missing deployment (or, on production, ingester) image", async () => {
                const mirror = (role: "deployment" | "ingester", st: string) => renamed(firstRolloutImage(role, { stack: st }), `mirror-${role}`, st);
                const bundle = [...rolloutStack({ ...pushedAll, indexer: "changing", deployment: "absent" }, { stack: s }), mirror("deployment", s)];
                assertRefusedBy(await judge("mastertestPreview", bundle), [BUNDLE], /deployment image \(latest-deployment\) is not/);
                const production = [...rolloutStack({ ingester: "absent" }, { stack: "production" }), mirror("ingester", "production")];
                assertRefusedBy(await judge("productionPreview", production), [PRODUCTION], /latest-ingester is absent/);
            });
        });

        describe("legit rollouts keep passing", () => {
            it("a re-run after a full rollout: every container runs the digest the stack recorded", async () => {
                assertClean(await judge("productionPreview", [...rolloutStack(pushedAll, { stack: "production" }), ...lastRun("production", ranImages())]));
            });

            it("a partial rollout whose left-out roles keep what the stack recorded for them", async () => {
                const resources = [...rolloutStack({ indexer: "changing", deployment: "changing", wsgi: "absent", ingester: "absent" }, { stack: "mastertest" }), ...lastRun("mastertest", ranImages())];
                assertClean(await judge("mastertestPreview", resources));
            });

            it("an image renamed with an alias: the task definition waits on its new URN", async () => {
                const parent = "urn:pulumi:production::cgap::cgap:images:ImageBundle::cgap";
                const resources = rolloutStack({}, { stack: "production" }).map((r) =>
                    r.type === IMAGE_TYPE && r.name === "cgap-indexer-image" ? { ...r, urn: `${parent}$${IMAGE_TYPE}::cgap-indexer`, name: "cgap-indexer", parent, aliases: [r.urn!] } : r,
                );
                const moved = resources.find((r) => r.type === IMAGE_TYPE && r.name === "cgap-indexer")!;
                assertClean(await judge("productionPreview", withTask(resources, "indexer", { waitsOn: [moved.urn!] })));
            });
        });
    });

    describe("an unpushed deployment image does not ship", () => {
        it("mastertest: the indexer next to a deployment image set to skipPush is refused", async () => {
            const resources = asTheEngineSends([...rolloutStack({ deployment: "absent" }, { stack: "mastertest" }), changingImage("deployment", { stack: "mastertest", skipPush: true })]);
            const j = await judge("mastertestPreview", resources);
            assertRefusedBy(j, [BUNDLE], /deployment image \(latest-deployment\) is not pushed \(skipPush is true, so it never reaches ECR\)/);
            const unknown = asTheEngineSends([...rolloutStack({ deployment: "absent" }, { stack: "mastertest" }), changingImage("deployment", { stack: "mastertest", skipPush: UNKNOWN })]);
            assertRefusedBy(await judge("mastertestPreview", unknown), [BUNDLE], /skipPush is not known/);
        });
    });

    describe("on production, in the update (dry run off)", () => {
        const s = "production";
        const pushed = { wsgi: "pushed", indexer: "pushed", ingester: "pushed", deployment: "pushed" } as const;

        it("passes four pushed images", async () => {
            assertClean(await judge("productionUpdate", rolloutStack(pushed, { stack: s })));
        });

        it("does no change detection: the indexer without a pushed digest is not a bundle skew, only not pushed", async () => {
            const j = await judge("productionUpdate", rolloutStack({ ...pushed, indexer: "builtOnPreview" }, { stack: s }));
            assertRefusedBy(j, [PRODUCTION], /latest-indexer is not pushed \(no pushed digest after the update\)/);
            assert.ok(!/this preview changes/.test(j.text), j.text);
        });

        it("passes digests of different pushes, which only a preview could tell apart", async () => {
            const resources = asTheEngineSends([...rolloutStack({ ...pushed, ingester: "absent" }, { stack: s }), pushedImage("ingester", { stack: s, digestSeed: "an older push" })]);
            assertClean(await judge("productionUpdate", resources));
        });

        it("still refuses an absent deployment image, under both rules", async () => {
            const j = await judge("productionUpdate", rolloutStack({ ...pushed, deployment: "absent" }, { stack: s }));
            assertRefusedBy(j, [BUNDLE, PRODUCTION], /absent/);
        });

        it("refuses an image without a pushed digest after the update", async () => {
            const j = await judge("productionUpdate", rolloutStack({ ...pushed, wsgi: "builtOnPreview" }, { stack: s }));
            assertRefusedBy(j, [PRODUCTION], /latest is not pushed \(no pushed digest after the update\)/);
        });
    });

    describe("production recognised without its name", () => {
        const wsgiAlone = (s: string) => rolloutStack({ indexer: "pushed", ingester: "pushed", deployment: "pushed" }, { stack: s });

        it("by stack config cgap:environment", async () => {
            const j = await judge("configuredProductionPreview", wsgiAlone("staging-eu"));
            assertRefusedBy(j, [PRODUCTION], /"staging-eu" \(its config sets cgap:environment to production\)/);
            // A full rollout passes the gates; the ELB.18 exception of config.example.json names the production stack only.
            assertRefusedBy(await judge("configuredProductionPreview", rolloutStack({}, { stack: "staging-eu" })), []);
        });

        it("when the engine did not say which stack this is (pulumi.getStack() would answer \"stack\")", async () => {
            const j = await judge("unnamedPreview", wsgiAlone("stack"));
            assertRefusedBy(j, [PRODUCTION], /its name could not be read/);
            assertRefusedBy(await judge("unnamedPreview", rolloutStack({}, { stack: "stack" })), []);
        });
    });
});
