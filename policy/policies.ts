// Every policy of the pack, in the order the CLI lists them. Kept apart from index.ts (which
// starts the analyzer server) so that tests and tools can read the list.
import { Policies } from "@pulumi/policy";

import { ComplianceCheck, toPolicy } from "./compliance";
import { ecrChecks } from "./ecr";
import { ecsChecks, ecsExecOffInProduction } from "./ecs";
import { elbChecks } from "./elb";
import { vpcChecks } from "./vpc";
import { iamChecks } from "./iam";
import { indexerDeploymentBundle } from "./indexerDeploymentBundle";
import { logChecks } from "./logs";
import { networkChecks } from "./network";
import { productionRolloutComplete } from "./productionRolloutComplete";
import { sqsChecks } from "./sqs";

export const POLICY_PACK_NAME = "cgap-rollout";

/** The rollout gates, at the fixed level gates.ts gives them (a test checks that the two lists agree). */
export const rolloutPolicies: Policies = [indexerDeploymentBundle, productionRolloutComplete];

/** The pack's own advisories that are no compliance check: they judge by the stack being production. */
export const productionPolicies: Policies = [ecsExecOffInProduction];

/** The compliance checks (and the pack's own ECS rules), advisory by default: pure judgements the report reuses. */
export const complianceChecks: readonly ComplianceCheck[] = [...ecsChecks, ...ecrChecks, ...elbChecks, ...networkChecks, ...vpcChecks, ...logChecks, ...sqsChecks, ...iamChecks];

export const compliancePolicies: Policies = complianceChecks.map(toPolicy);

export const policies: Policies = [...rolloutPolicies, ...productionPolicies, ...compliancePolicies];
