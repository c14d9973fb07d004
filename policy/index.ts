// The cgap-rollout policy pack: two mandatory rollout gates and the advisory compliance checks.
//
// Run it with `pulumi preview --policy-pack policy [--policy-pack-config <file>]`, or publish it
// to a Pulumi Cloud policy group. Every policy's level can be changed by ordinary policy config
// (`{ "<policy-name>": "mandatory" }`); see config.example.json.
import { PolicyPack } from "@pulumi/policy";

import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
    description:
        "Refuses skewed and incomplete CGAP portal rollouts, and checks the stack's ECS, ECR, load balancer " +
        "and IAM resources against AWS Foundational Security Best Practices.",
    policies,
});
