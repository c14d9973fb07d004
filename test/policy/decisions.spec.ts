// Unit tests of the policy pack's decision helpers: pure functions over resource views.
import * as assert from "assert";

import { unknownCheckingProxy, UnknownValueError } from "../../policy/node_modules/@pulumi/policy";
import { ROLE_SPECS, ROLES as PROGRAM_ROLES } from "../../components/roles";
import { ecrTagImmutability, repositoriesWithoutLifecycle } from "../../policy/ecr";
import { attributedLoadBalancer, listenerKind, redirectsToHttps } from "../../policy/elb";
import { evaluate } from "../../policy/compliance";
import { failClosed, forTypes } from "../../policy/guard";
import { fullAdminStatements } from "../../policy/iam";
import {
    buildFingerprint,
    compareBuilds,
    digestState,
    dockerfileRelativeToContext,
    identifyRole,
    parseImageName,
    pushSetting,
    ResourceView,
    roleImageOf,
    roleImagesOf,
} from "../../policy/images";
import { containsUnknown, isUnknown, parseJsonDocument, rawProps, UNKNOWN_SENTINELS } from "../../policy/props";
import { ROLE_IMAGES, ROLES } from "../../policy/roles";
import { judgeIndexerDeploymentBundle, judgeProductionRollout } from "../../policy/rollout";
import { GATE_NAMES, gateLevel, GATES, levelProblems } from "../../policy/gates";
import { imageResourceRole, lastRecorded, roleStates } from "../../policy/portal";
import { rolloutPolicies } from "../../policy/policies";
import { DEFAULT_PRODUCTION_STACKS, globToRegExp, productionReason, productionStacksFromConfig } from "../../policy/stack";
import { UNKNOWN } from "../../ops/offline/analyzer";
import { buildCacheImage, builtOnPreviewImage, cacheSources, changingImage, firstRolloutImage, hex64, pushedImage, REGISTRY, repoUrl } from "./fixtures";

const IMAGE = "docker:index/image:Image";

function view(r: { type: string; name: string; urn?: string; props: Record<string, unknown>; parent?: string; propertyDependencies?: Record<string, string[]> }): ResourceView {
    return { type: r.type, name: r.name, urn: r.urn ?? `urn:${r.name}`, props: r.props, parent: r.parent, propertyDependencies: r.propertyDependencies };
}

function images(...resources: Parameters<typeof view>[0][]) {
    return roleImagesOf(resources.map(view));
}

describe("policy decisions", () => {
    describe("the role table", () => {
        it("agrees with the program's (components/roles.ts): same roles, tags, entrypoints and containers", () => {
            assert.deepStrictEqual([...ROLES], [...PROGRAM_ROLES]);
            for (const role of ROLES) {
                assert.deepStrictEqual(
                    ROLE_IMAGES[role],
                    { tag: ROLE_SPECS[role].tag, entrypoint: ROLE_SPECS[role].entrypoint, containerName: ROLE_SPECS[role].containerName },
                    role,
                );
            }
        });
    });

    describe("the gate table (policy/gates.ts)", () => {
        it("names exactly the pack's rollout policies, each declared at its fixed level", () => {
            assert.deepStrictEqual(rolloutPolicies.map((p) => p.name), [...GATE_NAMES]);
            assert.deepStrictEqual(rolloutPolicies.map((p) => p.enforcementLevel), GATES.map((g) => g.level));
            assert.throws(() => gateLevel("ecr-scan-on-push"), /"ecr-scan-on-push" is not a rollout gate/);
        });

        it("refuses every lowering form, and only those", () => {
            const gate = GATE_NAMES[0];
            assert.deepStrictEqual(levelProblems({}), []);
            assert.deepStrictEqual(levelProblems({ [gate]: "mandatory", all: "mandatory", "ecr-scan-on-push": "disabled" }), []);
            assert.deepStrictEqual(levelProblems({ all: "advisory", [GATE_NAMES[0]]: "mandatory", [GATE_NAMES[1]]: { enforcementLevel: "mandatory" } }), []);
            // Settings without a level keep the gate at its default.
            assert.deepStrictEqual(levelProblems({ [GATE_NAMES[1]]: { productionStacks: ["live"] } }), []);
            for (const lowered of ["advisory", "disabled", "remediate", { enforcementLevel: "advisory" }]) {
                const problems = levelProblems({ [gate]: lowered });
                assert.strictEqual(problems.length, 1, problems.join("\n"));
                assert.match(problems[0], new RegExp(`^"${gate}" is a rollout gate and stays mandatory; the config asks for "\\w+": below mandatory`));
                assert.doesNotMatch(problems[0], /through "all"/);
            }
            const all = levelProblems({ all: "disabled", "ecr-scan-on-push": "advisory" });
            assert.deepStrictEqual(all.map((p) => p.split(" ")[0]), GATE_NAMES.map((n) => `"${n}"`));
            assert.ok(all.every((p) => p.includes('(through "all": "disabled")')), all.join("\n"));
            // An own level that overrides "all" with another lowered level is named as the policy's own.
            assert.doesNotMatch(levelProblems({ all: "disabled", [gate]: "advisory" })[0], /through/);
        });

        it("names the policy of a level that does not exist", () => {
            assert.deepStrictEqual(levelProblems({ "ecr-scan-on-push": { enforcementLevel: "Mandatory" } }), [
                '"ecr-scan-on-push" sets enforcement level "Mandatory"; levels are advisory, mandatory, remediate, disabled',
            ]);
            assert.strictEqual(levelProblems({ [GATE_NAMES[0]]: "mandtory" }).length, 1);
        });
    });

    describe("what each role container will run (policy/portal.ts)", () => {
        const task = (name: string, props: Record<string, unknown>, waitsOn?: string[]) =>
            view({ type: "aws:ecs/taskDefinition:TaskDefinition", name, props, propertyDependencies: waitsOn && { containerDefinitions: waitsOn } });
        const containers = (...list: { name: string; image: string }[]) => JSON.stringify(list);
        const pushed = view(pushedImage("indexer"));
        const running = String(pushed.props.repoDigest);

        it("a known role container runs its image's pushed digest: unchanged, with that image", () => {
            const states = roleStates([pushed, task("t", { containerDefinitions: containers({ name: "Indexer", image: running }) })]);
            assert.deepStrictEqual(states.get("indexer")!.map((s) => [s.change, s.image?.urn]), [["none", pushed.urn]]);
        });

        it("counts no container but the four role containers, and no task definition by what it waits on alone", () => {
            const states = roleStates([
                task("foursight", { family: "foursight-app", containerDefinitions: UNKNOWN }, [pushed.urn]),
                task("sidecar", { containerDefinitions: containers({ name: "nginx-exporter", image: "exporter@sha256:" + hex64("e") }) }),
            ]);
            assert.deepStrictEqual([...states.keys()], []);
        });

        it("a container set to a digest the stack last recorded otherwise is a change outside the build", () => {
            const record = { type: "pulumi:pulumi:StackReference", name: "last", urn: "urn:pulumi:mastertest::cgap::cgap:stack:LastRun$pulumi:pulumi:StackReference::last", props: { name: "o/cgap/mastertest", outputs: { images: { indexer: running } } } };
            assert.deepStrictEqual(lastRecorded([view(record)], "mastertest"), { indexer: running });
            assert.strictEqual(lastRecorded([view(record)], "production"), undefined, "another stack's record is no record of this one");
            const pin = `${repoUrl()}@sha256:${hex64("pin")}`;
            const states = roleStates([view(record), task("t", { containerDefinitions: containers({ name: "Indexer", image: pin }) })], "mastertest");
            assert.strictEqual(states.get("indexer")![0].change, "other");
            const kept = roleStates([view(record), task("t", { containerDefinitions: containers({ name: "Indexer", image: running }) })], "mastertest");
            assert.strictEqual(kept.get("indexer")![0].change, "none");
        });

        it("waiting containers: this stack's build, another builder, nothing readable", () => {
            const building = view(changingImage("indexer"));
            const other = view({ type: "docker-build:index:Image", name: "b", props: { buildArgs: { ENTRYPOINT: "entrypoint_indexer.sh" }, tags: [`${repoUrl()}:latest-indexer`] } });
            const blind = view({ ...changingImage("indexer"), name: "blind", urn: "urn:blind", props: {} });
            const change = (image: ResourceView) => roleStates([image, task("t", { family: "cgap-mastertest-indexer", containerDefinitions: UNKNOWN }, [image.urn])]).get("indexer")![0].change;
            assert.strictEqual(change(building), "build");
            assert.strictEqual(change(other), "other");
            assert.strictEqual(change(blind), "unknown");
            assert.strictEqual(imageResourceRole(other), "indexer");
        });
    });

    describe("unknown values", () => {
        it("the engine's sentinel is one of the SDK's", () => {
            assert.ok(UNKNOWN_SENTINELS.has(UNKNOWN));
            assert.ok(isUnknown(UNKNOWN));
            assert.ok(!isUnknown("latest"));
        });

        it("rawProps reads the SDK's unknown-checking proxy without throwing, where plain access throws", () => {
            const proxied = unknownCheckingProxy({ imageName: UNKNOWN, build: { args: { ENTRYPOINT: "entrypoint.sh" }, context: UNKNOWN } });
            assert.throws(() => proxied.imageName, UnknownValueError);
            const raw = rawProps(proxied);
            assert.strictEqual(raw.imageName, UNKNOWN);
            assert.deepStrictEqual(raw.build, { args: { ENTRYPOINT: "entrypoint.sh" }, context: UNKNOWN });
            assert.deepStrictEqual(identifyRole(raw), { role: "wsgi", identifiedBy: "entrypoint" });
        });

        it("JSON documents: known, unknown, missing, invalid", () => {
            assert.deepStrictEqual(parseJsonDocument('{"a":1}'), { state: "known", value: { a: 1 } });
            assert.deepStrictEqual(parseJsonDocument(UNKNOWN), { state: "unknown" });
            assert.deepStrictEqual(parseJsonDocument(`[{"image":"${UNKNOWN}"}]`), { state: "unknown" });
            assert.deepStrictEqual(parseJsonDocument(undefined), { state: "missing" });
            assert.strictEqual(parseJsonDocument("{not json").state, "invalid");
            assert.deepStrictEqual(parseJsonDocument({ Statement: [] }), { state: "known", value: { Statement: [] } });
            assert.ok(containsUnknown({ a: [1, { b: UNKNOWN }] }));
        });
    });

    describe("role images", () => {
        it("splits image references into repository and tag", () => {
            assert.deepStrictEqual(parseImageName(`${repoUrl()}:latest-indexer`), { repository: repoUrl(), tag: "latest-indexer" });
            assert.deepStrictEqual(parseImageName("localhost:5000/cgap"), { repository: "localhost:5000/cgap", tag: "latest" });
            assert.deepStrictEqual(parseImageName("cgap:latest@sha256:" + hex64("x")), { repository: "cgap", tag: "latest" });
        });

        it("tells a pushed digest from a local image ID, a missing and an unknown one", () => {
            assert.strictEqual(digestState(`${repoUrl()}@sha256:${hex64("a")}`), "pushed");
            assert.strictEqual(digestState(`sha256:${hex64("a")}`), "local");
            assert.strictEqual(digestState(undefined), "missing");
            assert.strictEqual(digestState(""), "missing");
            assert.strictEqual(digestState(UNKNOWN), "unknown");
            assert.strictEqual(digestState(`${repoUrl()}@sha256:abc`), "malformed");
        });

        it("identifies the role by the imageName tag, else by ENTRYPOINT, and nothing else", () => {
            assert.deepStrictEqual(identifyRole({ imageName: `${repoUrl()}:latest` }), { role: "wsgi", identifiedBy: "imageName" });
            assert.deepStrictEqual(identifyRole({ imageName: `${repoUrl()}:latest-deployment` }), { role: "deployment", identifiedBy: "imageName" });
            // The tag decides even when ENTRYPOINT disagrees.
            assert.strictEqual(identifyRole({ imageName: `${repoUrl()}:latest-ingester`, build: { args: { ENTRYPOINT: "entrypoint.sh" } } })?.role, "ingester");
            assert.deepStrictEqual(identifyRole({ imageName: UNKNOWN, build: { args: { ENTRYPOINT: "entrypoint_indexer.sh" } } }), { role: "indexer", identifiedBy: "entrypoint" });
            assert.deepStrictEqual(identifyRole({ build: { args: { ENTRYPOINT: "entrypoint_ingester.sh" } } }), { role: "ingester", identifiedBy: "entrypoint" });
            assert.strictEqual(identifyRole({ imageName: `${REGISTRY}/sidecar:v2`, build: { args: { ENTRYPOINT: "entrypoint.sh" } } }), undefined);
            assert.strictEqual(identifyRole({ imageName: UNKNOWN, build: { args: { ENTRYPOINT: "entrypoint_indexer" } } }), undefined);
            assert.strictEqual(identifyRole({ imageName: UNKNOWN, build: UNKNOWN }), undefined);
            assert.strictEqual(roleImageOf(view({ type: "aws:s3/bucket:Bucket", name: "b", props: { imageName: "x:latest" } })), undefined);
        });

        it("reads skipPush: missing pushes, true or unknown does not", () => {
            assert.strictEqual(pushSetting({}), "push");
            assert.strictEqual(pushSetting({ skipPush: false }), "push");
            assert.strictEqual(pushSetting({ skipPush: true }), "skip");
            assert.strictEqual(pushSetting({ skipPush: UNKNOWN }), "unknown");
        });

        it("fingerprints a changing image's inputs and an unchanged image's outputs alike", () => {
            const inputs = buildFingerprint(changingImage("indexer").props);
            const outputs = buildFingerprint(pushedImage("indexer").props);
            const local = buildFingerprint(builtOnPreviewImage("indexer").props);
            assert.deepStrictEqual(
                { context: inputs.context, dockerfile: inputs.dockerfile, platform: inputs.platform, repository: inputs.repository },
                { context: outputs.context, dockerfile: outputs.dockerfile, platform: outputs.platform, repository: outputs.repository },
            );
            assert.deepStrictEqual(outputs, local);
            assert.deepStrictEqual(inputs.args, { CGAP_VERSION: "1.0.0", BUILDKIT_INLINE_CACHE: "1" });
            assert.strictEqual(inputs.target, "");
            assert.strictEqual(outputs.args, undefined, "outputs carry no build args");
            assert.strictEqual(buildFingerprint(firstRolloutImage("indexer").props).repository, undefined);
        });

        it("puts the Dockerfile relative to the context", () => {
            assert.strictEqual(dockerfileRelativeToContext("images", "images/Dockerfile"), "Dockerfile");
            assert.strictEqual(dockerfileRelativeToContext("./images/", "images/sub/Dockerfile"), "sub/Dockerfile");
            assert.strictEqual(dockerfileRelativeToContext(".", "Dockerfile"), "Dockerfile");
            assert.strictEqual(dockerfileRelativeToContext("images", "Dockerfile"), "../Dockerfile");
        });

        it("compares builds on every visible field but ENTRYPOINT", () => {
            assert.deepStrictEqual(compareBuilds(images(changingImage("indexer"), changingImage("deployment"))), []);
            assert.deepStrictEqual(compareBuilds(images(pushedImage("indexer"), changingImage("deployment"))), []);
            const differences = compareBuilds(images(changingImage("indexer"), changingImage("deployment", { appVersion: "2", platform: "linux/arm64" })));
            assert.deepStrictEqual(differences.map((d) => d.field), ["contextDigest", "platform", "args.CGAP_VERSION"]);
            assert.deepStrictEqual(differences[2].values, [
                { tag: "latest-indexer", value: "1.0.0" },
                { tag: "latest-deployment", value: "2" },
            ]);
            // A field unknown on one side is not compared.
            const unknownPlatform = changingImage("deployment", { platform: UNKNOWN, appVersion: UNKNOWN, contextDigest: hex64("context-1.0.0") });
            assert.deepStrictEqual(compareBuilds(images(changingImage("indexer"), unknownPlatform)).map((d) => d.field), []);
        });

        it("compares the cache sources, in order, and the builder: a reused layer is the one an earlier build made", () => {
            const indexer = changingImage("indexer");
            const sources = cacheSources(repoUrl()).images;
            const differing = (o: Parameters<typeof changingImage>[1]) =>
                compareBuilds(images(indexer, changingImage("deployment", o))).map((d) => d.field);
            assert.deepStrictEqual(differing({}), []);
            assert.deepStrictEqual(differing({ cacheFrom: { images: [...sources].reverse() } }), ["cacheFrom"]);
            assert.deepStrictEqual(differing({ cacheFrom: { images: [sources[0]] } }), ["cacheFrom"]);
            assert.deepStrictEqual(differing({ cacheFrom: undefined }), ["cacheFrom"]);
            assert.deepStrictEqual(differing({ cacheFrom: { images: [] } }), ["cacheFrom"]);
            assert.deepStrictEqual(differing({ builderVersion: "BuilderV1" }), ["builderVersion"]);
            assert.deepStrictEqual(differing({ args: { BUILDKIT_INLINE_CACHE: "0" } }), ["args.BUILDKIT_INLINE_CACHE"]);
            // No sources at all, spelled two ways, is one setting; an absent builder is the provider's default, BuildKit.
            assert.deepStrictEqual(compareBuilds(images(changingImage("indexer", { cacheFrom: { images: [] } }), changingImage("deployment", { cacheFrom: undefined }))), []);
            const defaultBuilder = changingImage("deployment");
            delete (defaultBuilder.props.build as Record<string, unknown>).builderVersion;
            assert.deepStrictEqual(compareBuilds(images(indexer, defaultBuilder)), []);
            // Not visible (unknown in a first rollout's preview, absent from outputs): not compared.
            assert.deepStrictEqual(differing({ cacheFrom: { images: [UNKNOWN, UNKNOWN] } }), []);
            assert.deepStrictEqual(differing({ cacheFrom: UNKNOWN }), []);
            assert.deepStrictEqual(compareBuilds(images(pushedImage("indexer"), changingImage("deployment", { cacheFrom: undefined }))), []);
        });

        it("never takes the build cache image for a role, in any form the engine sends it", () => {
            for (const state of ["changing", "pushed", "firstRollout"] as const) {
                assert.deepStrictEqual(images(buildCacheImage(state)), [], state);
            }
        });
    });

    describe("indexer-deployment-bundle", () => {
        const preview = { preview: true };
        it("allows no images, both changing, both unchanged, and the deployment image changing alone", () => {
            assert.deepStrictEqual(judgeIndexerDeploymentBundle([], preview), []);
            assert.deepStrictEqual(judgeIndexerDeploymentBundle(images(changingImage("indexer"), changingImage("deployment")), preview), []);
            assert.deepStrictEqual(judgeIndexerDeploymentBundle(images(pushedImage("indexer"), pushedImage("deployment")), preview), []);
            assert.deepStrictEqual(judgeIndexerDeploymentBundle(images(pushedImage("indexer"), changingImage("deployment")), preview), []);
            assert.deepStrictEqual(judgeIndexerDeploymentBundle(images(changingImage("deployment")), preview), []);
        });

        it("refuses the indexer alone, and changing while the deployment image stays", () => {
            assert.strictEqual(judgeIndexerDeploymentBundle(images(pushedImage("indexer")), preview).length, 1);
            const skew = judgeIndexerDeploymentBundle(images(changingImage("indexer"), pushedImage("deployment")), preview);
            assert.strictEqual(skew.length, 1);
            assert.match(skew[0].message, /changes the indexer image/);
            assert.strictEqual(skew[0].urn, changingImage("indexer").urn);
        });

        it("says to drop --target first when the deployment role is already in the rollout, and to add it only when it is not", () => {
            const skewed = images(changingImage("indexer"), pushedImage("deployment"));
            const targeted = judgeIndexerDeploymentBundle(skewed, { preview: true, rollout: ["indexer", "deployment"] });
            assert.match(targeted[0].message, /Fix: drop --target\. "deployment" is already in cgap:rollout; only --target kept latest-deployment from being rebuilt/);
            assert.doesNotMatch(targeted[0].message, /add "deployment" to cgap:rollout/);
            for (const rollout of [["indexer"] as const, undefined]) {
                const left = judgeIndexerDeploymentBundle(skewed, { preview: true, rollout });
                assert.match(left[0].message, /Fix: add "deployment" to cgap:rollout next to "indexer"/, String(rollout));
            }
        });

        it("does no change detection outside a preview", () => {
            assert.deepStrictEqual(judgeIndexerDeploymentBundle(images(builtOnPreviewImage("indexer"), pushedImage("deployment")), { preview: false }), []);
            assert.strictEqual(judgeIndexerDeploymentBundle(images(pushedImage("indexer")), { preview: false }).length, 1);
        });
    });

    describe("production-rollout-complete", () => {
        const context = { preview: true, stackName: "production", why: "test" };
        const all = (make: (role: (typeof ROLES)[number]) => Parameters<typeof view>[0]) => images(...ROLES.map(make));

        it("passes all four changing, and all four unchanged", () => {
            assert.deepStrictEqual(judgeProductionRollout(all((r) => changingImage(r)), context), []);
            assert.deepStrictEqual(judgeProductionRollout(all((r) => pushedImage(r)), context), []);
            assert.deepStrictEqual(judgeProductionRollout(all((r) => firstRolloutImage(r)), context), []);
        });

        it("refuses absent, unpushed, partly changing and mismatched images, one finding each", () => {
            const findings = judgeProductionRollout(
                images(changingImage("wsgi", { skipPush: true }), pushedImage("indexer"), changingImage("ingester", { appVersion: "9" })),
                context,
            );
            assert.strictEqual(findings.length, 4, findings.map((f) => f.message).join("\n"));
            assert.match(findings[0].message, /latest-deployment is absent/);
            assert.match(findings[1].message, /latest is not pushed \(skipPush is true\)/);
            assert.match(findings[2].message, /changes latest and latest-ingester and leaves latest-indexer unchanged/);
            assert.match(findings[3].message, /args\.CGAP_VERSION/);
        });

        it("says to drop --target when the unchanged roles are all in the rollout, else which roles to add", () => {
            const partial = images(changingImage("wsgi"), pushedImage("indexer"), pushedImage("ingester"), pushedImage("deployment"));
            const targeted = judgeProductionRollout(partial, { ...context, rollout: [...ROLES] });
            assert.strictEqual(targeted.length, 1);
            assert.match(
                targeted[0].message,
                /Fix: drop --target\. "indexer", "ingester", "deployment" are already in cgap:rollout; only --target kept latest-indexer, latest-ingester and latest-deployment from being rebuilt and pushed\.$/,
            );
            const left = judgeProductionRollout(partial, { ...context, rollout: ["wsgi", "indexer"] });
            assert.match(left[0].message, /Fix: add "indexer", "ingester", "deployment" to cgap:rollout/);
        });
    });

    describe("production stacks", () => {
        const stack = (stackName: string | undefined, tags: Record<string, string> = {}, environment?: string) => ({
            stackName,
            tags: new Map(Object.entries(tags)),
            environment,
        });

        it("matches stack-name globs, ignoring case", () => {
            assert.ok(globToRegExp("*-prod").test("cgap-prod"));
            assert.ok(globToRegExp("production").test("Production"));
            assert.ok(!globToRegExp("prod").test("prod2"));
            assert.ok(globToRegExp("eu-?").test("eu-1"));
            assert.ok(globToRegExp("a.b").test("a.b") && !globToRegExp("a.b").test("axb"));
        });

        it("by name, tag, or config; an unreadable name counts as production", () => {
            assert.match(productionReason(stack("production"), DEFAULT_PRODUCTION_STACKS)!, /pattern "production"/);
            assert.match(productionReason(stack("cgap-prod"), DEFAULT_PRODUCTION_STACKS)!, /pattern "\*-prod"/);
            assert.match(productionReason(stack("org/cgap/prod"), DEFAULT_PRODUCTION_STACKS)!, /pattern "prod"/);
            assert.match(productionReason(stack("eu", { environment: "Production" }), DEFAULT_PRODUCTION_STACKS)!, /stack tag/);
            assert.match(productionReason(stack("eu", {}, "production"), DEFAULT_PRODUCTION_STACKS)!, /cgap:environment/);
            assert.match(productionReason(stack(undefined), DEFAULT_PRODUCTION_STACKS)!, /could not be read/);
            assert.match(productionReason(stack(" "), DEFAULT_PRODUCTION_STACKS)!, /could not be read/);
            assert.strictEqual(productionReason(stack("mastertest", { environment: "staging" }, "development"), DEFAULT_PRODUCTION_STACKS), undefined);
            assert.strictEqual(productionReason(stack("production"), ["live"]), undefined);
        });

        it("validates the productionStacks policy config", () => {
            assert.deepStrictEqual(productionStacksFromConfig(undefined), DEFAULT_PRODUCTION_STACKS);
            assert.deepStrictEqual(productionStacksFromConfig(["live"]), ["live"]);
            assert.throws(() => productionStacksFromConfig("production"), /must be a list/);
            assert.throws(() => productionStacksFromConfig([""]), /must be a list/);
        });
    });

    describe("fail-closed wrappers", () => {
        const stackArgs = { resources: [], stackTags: new Map(), getConfig: () => ({}), notApplicable: () => { throw new Error("n/a"); } };

        it("turn anything a stack check throws into a violation", () => {
            const reports: string[] = [];
            const validate = failClosed("p", () => {
                throw new UnknownValueError(UNKNOWN, ["imageName"]);
            });
            validate(stackArgs as never, (message: string) => reports.push(message));
            assert.strictEqual(reports.length, 1);
            assert.match(reports[0], /^p could not finish its check, so the change is refused: string value at \.imageName/);
        });

        it("resource checks skip other types, report errors, and carry the SDK's type hint", () => {
            const reports: string[] = [];
            const validate = forTypes(["aws:ecs/service:Service"], () => {
                throw new Error("boom");
            });
            assert.strictEqual((validate as { __pulumiType?: string }).__pulumiType, "aws:ecs/service:Service");
            const args = (type: string) => ({ type, urn: "u", name: "n", props: {} }) as never;
            validate(args("aws:s3/bucket:Bucket"), (m: string) => reports.push(m));
            validate(args("aws:ecs/service:Service"), (m: string) => reports.push(m));
            assert.deepStrictEqual(reports, ['The check could not finish on aws:ecs/service:Service "n": boom.']);
            assert.strictEqual((forTypes(["a", "b"], () => undefined) as { __pulumiType?: string }).__pulumiType, undefined);
        });
    });

    describe("ECR", () => {
        it("tag immutability allows IMMUTABLE and only latest* exclusions", () => {
            const verdict = (props: Record<string, unknown>, accepted: string[] = []) => {
                const repo = view({ type: "aws:ecr/repository:Repository", name: "r", props });
                const [finding] = evaluate(ecrTagImmutability, [repo], { acceptedMutableTagFilters: accepted }, "mastertest");
                return finding.verdict;
            };
            const latest = { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "latest*", filterType: "WILDCARD" }] };
            assert.strictEqual(verdict({ imageTagMutability: "IMMUTABLE" }), "pass");
            assert.strictEqual(verdict(latest), "fail", "ECR.2 passes IMMUTABLE only");
            assert.strictEqual(verdict(latest, ["latest*"]), "excepted");
            assert.strictEqual(verdict({ ...latest, imageTagMutabilityExclusionFilters: [{ filter: "*", filterType: "WILDCARD" }] }, ["latest*"]), "fail");
            assert.strictEqual(verdict({ imageTagMutability: "MUTABLE" }, ["latest*"]), "fail");
            assert.strictEqual(verdict({}), "fail");
            assert.strictEqual(verdict({ imageTagMutability: UNKNOWN }), "unknown");
            assert.strictEqual(verdict({ ...latest, imageTagMutabilityExclusionFilters: UNKNOWN }, ["latest*"]), "unknown");
        });

        it("matches lifecycle policies to repositories by name, dependency, parent, or as a fallback", () => {
            const repo = (name: string, props: Record<string, unknown>, parent?: string) =>
                view({ type: "aws:ecr/repository:Repository", name, urn: `urn:${name}`, props, parent });
            const lifecycle = (name: string, repository: unknown, extra: Partial<ResourceView> = {}) =>
                view({ type: "aws:ecr/lifecyclePolicy:LifecyclePolicy", name, props: { repository, policy: "{}" }, ...extra });
            const names = (views: ResourceView[]) => views.map((v) => v.name);
            assert.deepStrictEqual(names(repositoriesWithoutLifecycle([repo("a", { name: "a" }), lifecycle("l", "a")])), []);
            assert.deepStrictEqual(names(repositoriesWithoutLifecycle([repo("a", { name: "a" }), lifecycle("l", "b")])), ["a"]);
            assert.deepStrictEqual(
                names(repositoriesWithoutLifecycle([repo("a", { name: UNKNOWN }), repo("b", { name: UNKNOWN }), lifecycle("l", UNKNOWN, { propertyDependencies: { repository: ["urn:b"] } })])),
                ["a"],
            );
            assert.deepStrictEqual(
                names(repositoriesWithoutLifecycle([repo("a", { name: UNKNOWN }, "p1"), repo("b", { name: UNKNOWN }, "p2"), lifecycle("l", UNKNOWN, { parent: "p2" })])),
                ["a"],
            );
            assert.deepStrictEqual(names(repositoriesWithoutLifecycle([repo("a", { name: UNKNOWN }), lifecycle("l", UNKNOWN)])), []);
        });
    });

    describe("ALB listeners", () => {
        const alb = (name: string, props: Record<string, unknown> = {}, parent?: string) =>
            view({ type: "aws:lb/loadBalancer:LoadBalancer", name, urn: `urn:${name}`, props: { loadBalancerType: "application", ...props }, parent });
        const listener = (name: string, props: Record<string, unknown>, extra: Partial<ResourceView> = {}) =>
            view({ type: "aws:lb/listener:Listener", name, props, ...extra });
        const redirect = [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }];

        it("tells HTTP from HTTPS listeners and redirects from forwards", () => {
            assert.strictEqual(listenerKind(listener("l", { protocol: "HTTP" })), "http");
            assert.strictEqual(listenerKind(listener("l", { certificateArn: "arn" })), "https");
            assert.strictEqual(listenerKind(listener("l", {})), "http");
            assert.strictEqual(listenerKind(listener("l", { protocol: UNKNOWN })), "unknown");
            assert.strictEqual(listenerKind(listener("l", { protocol: "TCP" })), "other");
            assert.strictEqual(redirectsToHttps(listener("l", { defaultActions: redirect })), true);
            assert.strictEqual(redirectsToHttps(listener("l", { defaultActions: [{ type: "forward" }] })), false);
            assert.strictEqual(redirectsToHttps(listener("l", { defaultActions: UNKNOWN })), undefined);
            assert.strictEqual(redirectsToHttps(listener("l", { defaultActions: [{ type: UNKNOWN }] })), undefined);
        });

        it("attributes listeners by ARN, then loadBalancerArn dependency, then parent, then the only ALB; never guesses between two", () => {
            const owner = (resources: ResourceView[]) => {
                const l = resources[resources.length - 1];
                const albs = resources.filter((r) => r.type === "aws:lb/loadBalancer:LoadBalancer");
                const found = attributedLoadBalancer(l, "loadBalancerArn", albs);
                return found === undefined ? "unattributed" : "alb" in found ? found.alb.name : found.arn;
            };
            assert.strictEqual(owner([alb("a", { arn: "arn:a" }), alb("b", { arn: "arn:b" }), listener("l", { loadBalancerArn: "arn:b" })]), "b");
            assert.strictEqual(owner([alb("a"), listener("l", { loadBalancerArn: "arn:elsewhere" })]), "arn:elsewhere");
            assert.strictEqual(
                owner([alb("a", { arn: UNKNOWN }), alb("b", { arn: UNKNOWN }), listener("l", { loadBalancerArn: UNKNOWN }, { propertyDependencies: { loadBalancerArn: ["urn:a"] } })]),
                "a",
            );
            assert.strictEqual(owner([alb("a", { arn: UNKNOWN }, "p1"), alb("b", { arn: UNKNOWN }, "p2"), listener("l", { loadBalancerArn: UNKNOWN }, { parent: "p2" })]), "b");
            assert.strictEqual(owner([alb("a", { arn: UNKNOWN }), listener("l", { loadBalancerArn: UNKNOWN })]), "a");
            assert.strictEqual(owner([alb("a"), alb("b"), listener("l", { loadBalancerArn: UNKNOWN })]), "unattributed");
            assert.strictEqual(owner([alb("a", {}, "p"), alb("b", {}, "p"), listener("l", { loadBalancerArn: UNKNOWN }, { parent: "p" })]), "unattributed");
        });
    });

    describe("IAM", () => {
        const doc = (...statements: unknown[]) => ({ Version: "2012-10-17", Statement: statements });
        it("finds statements allowing * on *, in every shape a policy document allows", () => {
            assert.strictEqual(fullAdminStatements(doc({ Effect: "Allow", Action: "*", Resource: "*" })).length, 1);
            assert.strictEqual(fullAdminStatements({ Statement: { Effect: "Allow", Action: ["s3:*", "*:*"], Resource: ["arn:x", "*"] } }).length, 1);
            assert.strictEqual(fullAdminStatements(doc({ Effect: "Deny", Action: "*", Resource: "*" })).length, 0);
            assert.strictEqual(fullAdminStatements(doc({ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" })).length, 0);
            assert.strictEqual(fullAdminStatements(doc({ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b/*" })).length, 0);
            assert.strictEqual(fullAdminStatements(doc({ Effect: "Allow", Action: UNKNOWN, Resource: "*" })).length, 0);
            assert.strictEqual(fullAdminStatements({}).length, 0);
        });
    });

    it("the role images of a stack ignore other resources", () => {
        const found = images(changingImage("wsgi"), { type: IMAGE, name: "redis", props: { imageName: "redis:7" } }, { type: "aws:s3/bucket:Bucket", name: "b", props: {} });
        assert.deepStrictEqual(found.map((i) => i.role), ["wsgi"]);
    });
});
