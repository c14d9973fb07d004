"use strict";
// The Lambda function of components/spotDrain.ts: takes a WSGI task that Fargate Spot is
// reclaiming out of the load balancer's target group at once.
//
// ECS deregisters a task from its target group before it stops it, except on a Spot reclaim: the
// task gets its SIGTERM with the two-minute notice and may stay registered until it has STOPPED
// (AWS knowledge center, "How do I handle Spot termination notices in AWS Fargate Spot tasks?"),
// so the ALB keeps sending it requests it will not finish. ECS announces the reclaim as an "ECS
// Task State Change" event whose detail has stopCode "SpotInterruption" and, in its ENI
// attachment, the task's private IPv4 address: the id of an `ip` target.
//
// Plain JavaScript, so that the function's code is this file as it is; the AWS SDK v3 comes with
// the Lambda Node.js runtime.

/** The function's environment, set by components/spotDrain.ts. */
const ENVIRONMENT = { targetGroupArn: "TARGET_GROUP_ARN", port: "TARGET_PORT" };

/**
 * The DeregisterTargets input for a reclaim event, or undefined when the event is not a reclaim
 * or names no address (then there is nothing to take out).
 */
function deregistrationOf(event, targetGroupArn, port) {
    const detail = (event && event.detail) || {};
    if (detail.stopCode !== "SpotInterruption") {
        return undefined;
    }
    const addresses = (detail.attachments || [])
        .filter((a) => a.type === "eni")
        .flatMap((a) => (a.details || []).filter((d) => d.name === "privateIPv4Address").map((d) => d.value))
        .filter((value) => typeof value === "string" && value !== "");
    if (addresses.length === 0) {
        return undefined;
    }
    return { TargetGroupArn: targetGroupArn, Targets: addresses.map((Id) => ({ Id, Port: port })) };
}

async function handler(event) {
    const input = deregistrationOf(event, process.env[ENVIRONMENT.targetGroupArn], Number(process.env[ENVIRONMENT.port]));
    const task = (event && event.detail && event.detail.taskArn) || "(no task)";
    if (input === undefined) {
        console.log(`${task}: not a Spot reclaim with a task address; nothing to deregister`);
        return { deregistered: [] };
    }
    // Loaded here: the runtime provides it, and the tests of deregistrationOf need not.
    const { ElasticLoadBalancingV2Client, DeregisterTargetsCommand } = require("@aws-sdk/client-elastic-load-balancing-v2");
    await new ElasticLoadBalancingV2Client({}).send(new DeregisterTargetsCommand(input));
    console.log(`${task}: Spot is reclaiming it; deregistered ${input.Targets.map((t) => `${t.Id}:${t.Port}`).join(", ")}`);
    return { deregistered: input.Targets };
}

module.exports = { ENVIRONMENT, deregistrationOf, handler };
