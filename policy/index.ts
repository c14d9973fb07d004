// The cgap-rollout policy pack: two mandatory rollout gates and the advisory compliance checks.
//
// Run it with `pulumi preview --policy-pack policy [--policy-pack-config <file>]`, or publish it
// to a Pulumi Cloud policy group. A compliance policy's level can be changed by ordinary policy
// config (`{ "<policy-name>": "mandatory" }`); see config.example.json. The rollout gates stay at
// the level gates.ts fixes. Config naming no policy of the pack, a setting of the wrong type, or a
// gate set below its level is refused at Configure (configGuard.ts).
import { PolicyPack } from "@pulumi/policy";

import { refuseBadPolicyConfig } from "./configGuard";
import { deserializeOncePerRequest } from "./deserializeOnce";
import { POLICY_PACK_NAME, policies } from "./policies";

refuseBadPolicyConfig(policies);
deserializeOncePerRequest();

new PolicyPack(POLICY_PACK_NAME, {
    description:
        "Refuses skewed and incomplete CGAP portal rollouts, and checks the stack's ECS, ECR, load balancer, network, " +
        "logging, queue and IAM resources against AWS Security Hub controls (FSBP first).",
    policies,
});
