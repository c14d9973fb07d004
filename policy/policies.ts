// Every policy of the pack, in the order the CLI lists them. Kept apart from index.ts (which
// starts the analyzer server) so that tests and tools can read the list.
import { Policies } from "@pulumi/policy";

import { ecrPolicies } from "./ecr";
import { ecsPolicies } from "./ecs";
import { elbPolicies } from "./elb";
import { iamPolicies } from "./iam";
import { indexerDeploymentBundle } from "./indexerDeploymentBundle";
import { productionRolloutComplete } from "./productionRolloutComplete";

export const POLICY_PACK_NAME = "cgap-rollout";

/** The rollout gates, mandatory by default. */
export const rolloutPolicies: Policies = [indexerDeploymentBundle, productionRolloutComplete];

/** The compliance checks, advisory by default. */
export const compliancePolicies: Policies = [...ecsPolicies, ...ecrPolicies, ...elbPolicies, ...iamPolicies];

export const policies: Policies = [...rolloutPolicies, ...compliancePolicies];
