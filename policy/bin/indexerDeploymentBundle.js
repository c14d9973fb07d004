"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.indexerDeploymentBundle = exports.INDEXER_DEPLOYMENT_BUNDLE = void 0;
const guard_1 = require("./guard");
const images_1 = require("./images");
const rollout_1 = require("./rollout");
const stack_1 = require("./stack");
exports.INDEXER_DEPLOYMENT_BUNDLE = "indexer-deployment-bundle";
exports.indexerDeploymentBundle = {
    name: exports.INDEXER_DEPLOYMENT_BUNDLE,
    description: "The indexer image (latest-indexer) ships only with the deployment image (latest-deployment): " +
        "never alone, never changing while the deployment image stays, never from different build inputs.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: 'Add "deployment" to cgap:rollout next to "indexer" (or unset cgap:rollout to roll out all four roles), ' +
        "drop --target, and push both images from the same build.",
    validateStack: (0, guard_1.failClosed)(exports.INDEXER_DEPLOYMENT_BUNDLE, (args, report) => {
        const images = (0, images_1.roleImagesOf)((0, guard_1.stackResources)(args, [images_1.DOCKER_IMAGE_TYPE]));
        for (const finding of (0, rollout_1.judgeIndexerDeploymentBundle)(images, (0, stack_1.readPhase)())) {
            report(finding.message, finding.urn);
        }
    }),
};
