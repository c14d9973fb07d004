import * as assert from "assert";
import { ProgramResult, runProgram, UNKNOWN } from "../../ops/offline/program";
import { BUILD_CACHE_TAG, CACHE_STAGE, ROLE_SPECS, ROLES } from "../../components/roles";
import { identifyRole } from "../../policy/images";
import { inputs, one, ofType, roleImages, T } from "./helpers";

const REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cgap-sandbox";

/** An ECR wildcard filter (`*` any run of characters) as a regular expression. */
function wildcard(filter: string): RegExp {
    return new RegExp(`^${filter.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

// sandbox: the stack that creates its repository, so its first rollout meets an empty one.
describe("the build cache in the registry", () => {
    /** `pulumi up` against an empty repository: no cache image and no role tag exist yet. */
    let first: ProgramResult;
    /** `pulumi preview` of a stack that does not exist yet: the repository URL is not known. */
    let firstPreview: ProgramResult;

    before(async () => {
        first = await runProgram({ stack: "sandbox", preview: false, registry: {} });
        firstPreview = await runProgram({ stack: "sandbox", preview: true, firstRollout: true, registry: {} });
    });

    it("gives all five builds the same cache sources, the cache image and the WSGI image, and inline cache", () => {
        const images = ofType(first.resources, T.image);
        assert.strictEqual(images.length, ROLES.length + 1);
        for (const image of images) {
            const build = inputs(image).build;
            assert.deepStrictEqual(build.cacheFrom, { images: [`${REPO}:${BUILD_CACHE_TAG}`, `${REPO}:${ROLE_SPECS.wsgi.tag}`] }, image.name);
            assert.strictEqual(build.args.BUILDKIT_INLINE_CACHE, "1", image.name);
            assert.strictEqual(build.builderVersion, "BuilderBuildKit", image.name);
        }
    });

    it("pushes the Dockerfile's build stage as the cache image, built from the role images' context with no role", () => {
        const cache = inputs(one(first.resources, T.image, "cgap-build-cache"));
        const wsgi = inputs(one(first.resources, T.image, "cgap-wsgi"));
        assert.strictEqual(cache.imageName, `${REPO}:${BUILD_CACHE_TAG}`);
        assert.strictEqual(cache.skipPush, false);
        assert.strictEqual(cache.build.target, CACHE_STAGE);
        assert.deepStrictEqual(cache.build.args, { CGAP_VERSION: "v15.6.0", BUILDKIT_INLINE_CACHE: "1" });
        const { target: _target, args: _cacheArgs, ...cacheRest } = cache.build;
        const { args: _roleArgs, ...roleRest } = wsgi.build;
        assert.deepStrictEqual(cacheRest, roleRest, "the cache image must be built exactly as the role images are");
        assert.strictEqual(identifyRole(cache), undefined, "the policy pack must not take the cache image for a role");
    });

    it("pushes the cache image to a tag the repository lets move, so every build can push it again", () => {
        const filters = inputs(one(first.resources, T.repository, "cgap-repository")).imageTagMutabilityExclusionFilters as {
            filter: string;
        }[];
        assert.ok(
            filters.some((f) => wildcard(f.filter).test(BUILD_CACHE_TAG)),
            `${BUILD_CACHE_TAG} matches none of the movable tag filters ${JSON.stringify(filters)}: its second push would fail`,
        );
        assert.ok(!ROLES.some((r) => ROLE_SPECS[r].tag === BUILD_CACHE_TAG));
    });

    it("builds the first rollout: nothing looks the cache sources up, so a repository without them is no error", () => {
        assert.deepStrictEqual(roleImages(first.resources).map((i) => i.name).sort(), ROLES.map((r) => `cgap-${r}`).sort());
        const refs = first.outputs.images as Record<string, string>;
        for (const role of ROLES) {
            assert.match(refs[role], new RegExp(`^${REPO.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}$`));
        }
    });

    it("declares every image in the first preview, the cache sources unknown until the repository exists", () => {
        const images = ofType(firstPreview.resources, T.image);
        assert.strictEqual(images.length, ROLES.length + 1);
        for (const image of images) {
            const build = image.inputs.build as { cacheFrom: { images: unknown[] } };
            assert.deepStrictEqual(build.cacheFrom.images, [UNKNOWN, UNKNOWN], image.name);
        }
    });
});
