import { StackValidationPolicy } from "@pulumi/policy";

import { gateLevel } from "./gates";
import { failClosed, stackResources } from "./guard";
import { portalRollout, ROLLOUT_TYPES } from "./portal";
import { judgeIndexerDeploymentBundle } from "./rollout";
import { readPhase, readRollout, readStackIdentity, shortStackName } from "./stack";

export const INDEXER_DEPLOYMENT_BUNDLE = "indexer-deployment-bundle";

export const indexerDeploymentBundle: StackValidationPolicy = {
    name: INDEXER_DEPLOYMENT_BUNDLE,
    description:
        "The indexer image (latest-indexer) ships only with the deployment image (latest-deployment): " +
        "never alone, never changing while the deployment image stays, never from different build inputs. " +
        "A role changes when its container's image does, and only to this stack's docker.Image build. " +
        "In the update phase (and under --skip-preview) it cannot see which roles changed: only a preview refuses a partial rollout.",
    enforcementLevel: gateLevel(INDEXER_DEPLOYMENT_BUNDLE),
    severity: "high",
    remediationSteps:
        'Add "deployment" to cgap:rollout next to "indexer" (or unset cgap:rollout to roll out all four roles), ' +
        "drop --target, and push both images from the same build.",
    validateStack: failClosed(INDEXER_DEPLOYMENT_BUNDLE, (args, report) => {
        const stackName = readStackIdentity(args.stackTags).stackName;
        const { images, roles } = portalRollout(stackResources(args, ROLLOUT_TYPES), stackName && shortStackName(stackName));
        for (const finding of judgeIndexerDeploymentBundle(images, { ...readPhase(), rollout: readRollout(), roles })) {
            report(finding.message, finding.urn);
        }
    }),
};
