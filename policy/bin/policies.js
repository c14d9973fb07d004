"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.policies = exports.compliancePolicies = exports.rolloutPolicies = exports.POLICY_PACK_NAME = void 0;
const ecr_1 = require("./ecr");
const ecs_1 = require("./ecs");
const elb_1 = require("./elb");
const iam_1 = require("./iam");
const indexerDeploymentBundle_1 = require("./indexerDeploymentBundle");
const productionRolloutComplete_1 = require("./productionRolloutComplete");
exports.POLICY_PACK_NAME = "cgap-rollout";
/** The rollout gates, mandatory by default. */
exports.rolloutPolicies = [indexerDeploymentBundle_1.indexerDeploymentBundle, productionRolloutComplete_1.productionRolloutComplete];
/** The compliance checks, advisory by default. */
exports.compliancePolicies = [...ecs_1.ecsPolicies, ...ecr_1.ecrPolicies, ...elb_1.elbPolicies, ...iam_1.iamPolicies];
exports.policies = [...exports.rolloutPolicies, ...exports.compliancePolicies];
