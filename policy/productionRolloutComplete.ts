import { StackValidationPolicy } from "@pulumi/policy";

import { gateLevel } from "./gates";
import { failClosed, policyConfig, stackResources } from "./guard";
import { portalRollout, ROLLOUT_TYPES } from "./portal";
import { judgeProductionRollout } from "./rollout";
import {
    PRODUCTION_STACKS_SETTING,
    productionReason,
    productionStacksFromConfig,
    readPhase,
    readRollout,
    readStackIdentity,
    shortStackName,
} from "./stack";

export const PRODUCTION_ROLLOUT_COMPLETE = "production-rollout-complete";

export const productionRolloutComplete: StackValidationPolicy = {
    name: PRODUCTION_ROLLOUT_COMPLETE,
    description:
        "A production stack rolls out all four role images (latest, latest-indexer, latest-ingester, " +
        "latest-deployment) together: all present, all pushed, all changing or none, one build. " +
        "A role changes when its container's image does, and only to this stack's docker.Image build. " +
        "In the update phase (and under --skip-preview) it cannot see which roles changed: only a preview refuses a partial rollout.",
    enforcementLevel: gateLevel(PRODUCTION_ROLLOUT_COMPLETE),
    severity: "critical",
    remediationSteps:
        "Unset cgap:rollout (the default is all four roles) or list all four, drop --target, and push all four tags.",
    configSchema: {
        properties: {
            productionStacks: PRODUCTION_STACKS_SETTING,
        },
    },
    validateStack: (args, report) => {
        let notProduction = false;
        failClosed(PRODUCTION_ROLLOUT_COMPLETE, (stackArgs, stackReport) => {
            const globs = productionStacksFromConfig(policyConfig(stackArgs).productionStacks);
            const stack = readStackIdentity(stackArgs.stackTags);
            const why = productionReason(stack, globs);
            if (why === undefined) {
                notProduction = true;
                return;
            }
            const { images, roles } = portalRollout(stackResources(stackArgs, ROLLOUT_TYPES), stack.stackName && shortStackName(stack.stackName));
            const findings = judgeProductionRollout(images, {
                ...readPhase(),
                rollout: readRollout(),
                roles,
                stackName: stack.stackName ? shortStackName(stack.stackName) : "(unnamed)",
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
