"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.productionRolloutComplete = exports.PRODUCTION_ROLLOUT_COMPLETE = void 0;
const guard_1 = require("./guard");
const images_1 = require("./images");
const rollout_1 = require("./rollout");
const stack_1 = require("./stack");
exports.PRODUCTION_ROLLOUT_COMPLETE = "production-rollout-complete";
exports.productionRolloutComplete = {
    name: exports.PRODUCTION_ROLLOUT_COMPLETE,
    description: "A production stack rolls out all four role images (latest, latest-indexer, latest-ingester, " +
        "latest-deployment) together: all present, all pushed, all changing or none, one build.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps: "Unset cgap:rollout (the default is all four roles) or list all four, drop --target, and push all four tags.",
    configSchema: {
        properties: {
            productionStacks: {
                type: "array",
                items: { type: "string", minLength: 1 },
                default: [...stack_1.DEFAULT_PRODUCTION_STACKS],
                description: "Stack-name globs (* and ?, case-insensitive) that are production. A stack tagged " +
                    "environment=production or configured cgap:environment=production is production too.",
            },
        },
    },
    validateStack: (args, report) => {
        let notProduction = false;
        (0, guard_1.failClosed)(exports.PRODUCTION_ROLLOUT_COMPLETE, (stackArgs, stackReport) => {
            const globs = (0, stack_1.productionStacksFromConfig)((0, guard_1.policyConfig)(stackArgs).productionStacks);
            const stack = (0, stack_1.readStackIdentity)(stackArgs.stackTags);
            const why = (0, stack_1.productionReason)(stack, globs);
            if (why === undefined) {
                notProduction = true;
                return;
            }
            const findings = (0, rollout_1.judgeProductionRollout)((0, images_1.roleImagesOf)((0, guard_1.stackResources)(stackArgs, [images_1.DOCKER_IMAGE_TYPE])), {
                ...(0, stack_1.readPhase)(),
                stackName: stack.stackName ? (0, stack_1.shortStackName)(stack.stackName) : "(unnamed)",
                why,
            });
            for (const finding of findings) {
                stackReport(finding.message, finding.urn);
            }
        })(args, report);
        if (notProduction) {
            // Outside the fail-closed wrapper: this is the SDK's own "does not apply" signal.
            args.notApplicable("not a production stack");
        }
    },
};
