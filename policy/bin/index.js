"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
// The cgap-rollout policy pack: two mandatory rollout gates and the advisory compliance checks.
//
// Run it with `pulumi preview --policy-pack policy [--policy-pack-config <file>]`, or publish it
// to a Pulumi Cloud policy group. Every policy's level can be changed by ordinary policy config
// (`{ "<policy-name>": "mandatory" }`); see config.example.json.
const policy_1 = require("@pulumi/policy");
const policies_1 = require("./policies");
new policy_1.PolicyPack(policies_1.POLICY_PACK_NAME, {
    description: "Refuses skewed and incomplete CGAP portal rollouts, and checks the stack's ECS, ECR, load balancer " +
        "and IAM resources against AWS Foundational Security Best Practices.",
    policies: policies_1.policies,
});
