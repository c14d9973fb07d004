// The compliance policies through the running pack: for every policy that mirrors a control, a
// compliant, a violating and an unknown-value case; each violation cites its control. Then the
// stack's deliberate deviations as settings, one diagnostic per root cause, and bad config refused.
import * as assert from "assert";

import { Diagnostic, PolicyPackProcess, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { evaluate, evaluateWithExceptions } from "../../policy/compliance";
import { complianceChecks } from "../../policy/policies";
import { hex64, REGISTRY } from "./fixtures";
import { listDiagnostics, pack, REVIEWED_SETTINGS } from "./packs";

const TD = "aws:ecs/taskDefinition:TaskDefinition";
const ALB = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";
const REPO = "aws:ecr/repository:Repository";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";

const urnOf = (type: string, name: string) => `urn:pulumi:mastertest::cgap::${type}::${name}`;
function r(type: string, name: string, props: Record<string, unknown>, extra: Partial<StackResource> = {}): StackResource {
    return { type, name, urn: urnOf(type, name), props, ...extra };
}

/** A container that meets every container control. */
function container(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: "app",
        image: `${REGISTRY}/cgap@sha256:${hex64("app")}`,
        user: "nginx",
        readonlyRootFilesystem: true,
        environment: [{ name: "IDENTITY", value: "cgap-identity" }],
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/cgap" } },
        ...overrides,
    };
}
function taskDefinition(name: string, containers: Record<string, unknown>[] | string, props: Record<string, unknown> = {}): StackResource {
    return r(TD, name, { networkMode: "awsvpc", containerDefinitions: typeof containers === "string" ? containers : JSON.stringify(containers), ...props });
}
function alb(name: string, props: Record<string, unknown> = {}): StackResource {
    return r(ALB, name, {
        loadBalancerType: "application",
        arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/${name}/1`,
        dropInvalidHeaderFields: true,
        enableDeletionProtection: true,
        accessLogs: { bucket: "cgap-logs", enabled: true },
        ...props,
    });
}
const REDIRECT = [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }];
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

interface Case {
    policy: string;
    compliant: StackResource[];
    /** The resources, and how many violations (one per root cause) the pack reports. */
    violating: [StackResource[], number];
    unknown: StackResource[];
}

const CASES: Case[] = [
    {
        policy: "ecs-no-plaintext-secrets-in-environment",
        // Names that merely look secret are not what ECS.8 names: SECRET_ARN holds an ARN, TOKEN_TTL_SECONDS a number.
        compliant: [taskDefinition("td", [container({ environment: [{ name: "SECRET_ARN", value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x" }, { name: "TOKEN_TTL_SECONDS", value: "3600" }] })])],
        violating: [[taskDefinition("td", [container({ environment: [{ name: "AWS_SECRET_ACCESS_KEY", value: "x" }] }), container({ name: "b", environment: [{ name: "LEGACY", value: "AKIAABCDEFGHIJKLMNOP" }] })])], 2],
        unknown: [taskDefinition("td", UNKNOWN)],
    },
    {
        policy: "ecs-container-logging-configured",
        compliant: [taskDefinition("td", [container()])],
        violating: [[taskDefinition("td", [container({ logConfiguration: undefined })])], 1],
        unknown: [taskDefinition("td", UNKNOWN)],
    },
    {
        policy: "ecs-container-read-only-root",
        // ECS.5 does not apply to Windows task definitions.
        compliant: [taskDefinition("td", [container()]), taskDefinition("win", [container({ readonlyRootFilesystem: false })], { runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE" } })],
        violating: [[taskDefinition("td", [container({ readonlyRootFilesystem: false }), container({ name: "b", readonlyRootFilesystem: undefined })])], 2],
        unknown: [taskDefinition("td", UNKNOWN)],
    },
    {
        policy: "ecs-container-non-root-user",
        compliant: [taskDefinition("td", [container()]), taskDefinition("win", [container({ user: undefined })], { runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE" } })],
        violating: [[taskDefinition("td", [container({ user: undefined })]), taskDefinition("root", [container({ user: "0:0" })])], 2],
        unknown: [taskDefinition("td", [container({ user: undefined })], { runtimePlatform: { operatingSystemFamily: UNKNOWN } })],
    },
    {
        policy: "ecs-task-no-host-network",
        compliant: [taskDefinition("td", [container()])],
        violating: [[taskDefinition("td", [container()], { networkMode: "host" })], 1],
        unknown: [taskDefinition("td", [container()], { networkMode: UNKNOWN })],
    },
    {
        policy: "ecs-task-no-host-pid",
        compliant: [taskDefinition("td", [container()], { pidMode: "task" })],
        violating: [[taskDefinition("td", [container()], { pidMode: "host" })], 1],
        unknown: [taskDefinition("td", [container()], { pidMode: UNKNOWN })],
    },
    {
        policy: "ecs-container-not-privileged",
        compliant: [taskDefinition("td", [container({ privileged: false })])],
        violating: [[taskDefinition("td", [container({ privileged: true })])], 1],
        unknown: [taskDefinition("td", UNKNOWN)],
    },
    {
        policy: "ecs-service-no-public-ip",
        compliant: [r("aws:ecs/service:Service", "svc", { networkConfiguration: { assignPublicIp: false } })],
        violating: [[r("aws:ecs/service:Service", "svc", { networkConfiguration: { assignPublicIp: true } })], 1],
        unknown: [r("aws:ecs/service:Service", "svc", { networkConfiguration: { assignPublicIp: UNKNOWN } })],
    },
    {
        policy: "ecs-task-set-no-public-ip",
        compliant: [r("aws:ecs/taskSet:TaskSet", "ts", { networkConfiguration: { assignPublicIp: false } })],
        violating: [[r("aws:ecs/taskSet:TaskSet", "ts", { networkConfiguration: { assignPublicIp: true } })], 1],
        unknown: [r("aws:ecs/taskSet:TaskSet", "ts", { networkConfiguration: UNKNOWN })],
    },
    {
        policy: "ecs-fargate-platform-latest",
        compliant: [r("aws:ecs/service:Service", "svc", { platformVersion: "LATEST" }), r("aws:ecs/service:Service", "unset", {})],
        violating: [[r("aws:ecs/service:Service", "svc", { platformVersion: "1.3.0" })], 1],
        unknown: [r("aws:ecs/service:Service", "svc", { platformVersion: UNKNOWN })],
    },
    {
        policy: "ecs-cluster-container-insights",
        // No setting of its own: the account default, set in the stack, decides.
        compliant: [r("aws:ecs/cluster:Cluster", "c", { settings: [] }), r("aws:ecs/accountSettingDefault:AccountSettingDefault", "insights", { name: "containerInsights", value: "enhanced" })],
        violating: [[r("aws:ecs/cluster:Cluster", "c", {}), r("aws:ecs/cluster:Cluster", "off", { settings: [{ name: "containerInsights", value: "disabled" }] })], 2],
        unknown: [r("aws:ecs/cluster:Cluster", "c", { settings: UNKNOWN })],
    },
    {
        policy: "ecr-scan-on-push",
        // Registry-level continuous scanning covers a repository that does not scan on push itself.
        compliant: [
            r(REPO, "repo", { name: "cgap-mastertest", imageScanningConfiguration: { scanOnPush: false } }),
            r("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning", {
                scanType: "ENHANCED",
                rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: "cgap-*", filterType: "WILDCARD" }] }],
            }),
        ],
        // With enhanced scanning, a repository no rule matches is not scanned, whatever its scanOnPush says.
        violating: [
            [
                r(REPO, "repo", { name: "cgap-mastertest", imageScanningConfiguration: { scanOnPush: true } }),
                r("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning", {
                    scanType: "ENHANCED",
                    rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: "other-*", filterType: "WILDCARD" }] }],
                }),
            ],
            1,
        ],
        unknown: [r(REPO, "repo", { name: "cgap-mastertest", imageScanningConfiguration: { scanOnPush: UNKNOWN } })],
    },
    {
        policy: "ecr-tag-immutability",
        compliant: [r(REPO, "repo", { imageTagMutability: "IMMUTABLE" })],
        // This stack's own setting: ECR.2 passes IMMUTABLE only.
        violating: [[r(REPO, "repo", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "latest*", filterType: "WILDCARD" }] })], 1],
        unknown: [r(REPO, "repo", { imageTagMutability: UNKNOWN })],
    },
    {
        policy: "ecr-lifecycle-policy",
        compliant: [r(REPO, "repo", { name: "a" }), r("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lc", { repository: "a", policy: JSON.stringify({ rules: [{ rulePriority: 1 }] }) })],
        violating: [[r(REPO, "repo", { name: "a" })], 1],
        unknown: [r(REPO, "repo", { name: "a" }), r("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lc", { repository: "a", policy: UNKNOWN })],
    },
    {
        policy: "ecr-customer-managed-kms-key",
        // Dual-layer KMS (KMS_DSSE) with a customer managed key meets ECR.5 as KMS does.
        compliant: [
            r(REPO, "repo", { encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/1" }] }),
            r(REPO, "dsse", { encryptionConfigurations: [{ encryptionType: "KMS_DSSE", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/2" }] }),
        ],
        violating: [
            [
                r(REPO, "repo", {}),
                r(REPO, "aws-managed", { encryptionConfigurations: [{ encryptionType: "KMS" }] }),
                r(REPO, "dsse-aws-managed", { encryptionConfigurations: [{ encryptionType: "KMS_DSSE" }] }),
            ],
            3,
        ],
        unknown: [r(REPO, "repo", { encryptionConfigurations: UNKNOWN })],
    },
    {
        policy: "alb-http-redirects-to-https",
        compliant: [
            alb("lb"),
            r(LISTENER, "https", { loadBalancerArn: alb("lb").props.arn, protocol: "HTTPS", certificateArn: CERT, defaultActions: [{ type: "forward" }] }),
            r(LISTENER, "http", { loadBalancerArn: alb("lb").props.arn, protocol: "HTTP", defaultActions: REDIRECT }),
        ],
        // Judged on the load balancer, as AWS does: one ALB with two plain HTTP listeners (one
        // violation per listener, both on the ALB), and an ALB with no HTTPS listener (mastertest's shape).
        violating: [
            [
                alb("lb"),
                alb("two"),
                r(LISTENER, "http", { loadBalancerArn: alb("lb").props.arn, protocol: "HTTP", defaultActions: [{ type: "forward" }] }),
                r(LISTENER, "http-a", { loadBalancerArn: alb("two").props.arn, protocol: "HTTP", port: 80, defaultActions: [{ type: "forward" }] }),
                r(LISTENER, "http-b", { loadBalancerArn: alb("two").props.arn, protocol: "HTTP", port: 8080, defaultActions: [{ type: "forward" }] }),
            ],
            3,
        ],
        unknown: [alb("lb"), r(LISTENER, "http", { loadBalancerArn: alb("lb").props.arn, protocol: UNKNOWN, defaultActions: [{ type: "forward" }] })],
    },
    {
        policy: "lb-listener-secure-protocol",
        compliant: [
            r(LISTENER, "https", { protocol: "HTTPS", certificateArn: CERT, defaultActions: [{ type: "forward" }] }),
            r(LISTENER, "tls", { protocol: "TLS", certificateArn: CERT, defaultActions: [{ type: "forward" }] }),
        ],
        // As AWS evaluates it: the protocol, so an HTTP listener that only redirects fails too (production's :80).
        violating: [[r(LISTENER, "http", { protocol: "HTTP", defaultActions: REDIRECT }), r(LISTENER, "tcp", { protocol: "TCP", defaultActions: [{ type: "forward" }] })], 2],
        unknown: [r(LISTENER, "http", { protocol: UNKNOWN, defaultActions: REDIRECT })],
    },
    {
        policy: "lb-listener-recommended-tls-policy",
        // An HTTP listener has no TLS policy: ELB.17 judges HTTPS and TLS listeners only.
        compliant: [
            r(LISTENER, "https", { protocol: "HTTPS", certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", defaultActions: [{ type: "forward" }] }),
            r(LISTENER, "tls", { protocol: "TLS", certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09", defaultActions: [{ type: "forward" }] }),
            r(LISTENER, "http", { protocol: "HTTP", defaultActions: REDIRECT }),
        ],
        // TLS13-1-2-2021-06 (production's before) is not in ELB.17's list; unset means the API's ELBSecurityPolicy-2016-08.
        violating: [
            [
                r(LISTENER, "https", { protocol: "HTTPS", certificateArn: CERT, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions: [{ type: "forward" }] }),
                r(LISTENER, "unset", { protocol: "HTTPS", certificateArn: CERT, defaultActions: [{ type: "forward" }] }),
            ],
            2,
        ],
        unknown: [r(LISTENER, "https", { protocol: "HTTPS", certificateArn: CERT, sslPolicy: UNKNOWN, defaultActions: [{ type: "forward" }] })],
    },
    {
        policy: "alb-drop-invalid-headers",
        compliant: [alb("lb")],
        violating: [[alb("lb", { dropInvalidHeaderFields: false })], 1],
        unknown: [alb("lb", { dropInvalidHeaderFields: UNKNOWN })],
    },
    {
        policy: "alb-access-logs",
        compliant: [alb("lb")],
        violating: [[alb("lb", { accessLogs: undefined }), alb("off", { accessLogs: { bucket: "b", enabled: false } }), alb("bucket-only", { accessLogs: { bucket: "b" } })], 3],
        unknown: [alb("lb", { accessLogs: UNKNOWN })],
    },
    {
        policy: "lb-deletion-protection",
        compliant: [alb("lb"), alb("nlb", { loadBalancerType: "network" })],
        violating: [[alb("lb", { enableDeletionProtection: false }), alb("nlb", { loadBalancerType: "network", enableDeletionProtection: undefined })], 2],
        unknown: [alb("lb", { enableDeletionProtection: UNKNOWN })],
    },
    {
        policy: "alb-waf-web-acl",
        compliant: [alb("lb"), r("aws:wafv2/webAclAssociation:WebAclAssociation", "waf", { resourceArn: alb("lb").props.arn, webAclArn: "arn:aws:wafv2:acl" })],
        violating: [[alb("lb")], 1],
        // Two ALBs and an association whose resourceArn is not known: neither is judged yet.
        unknown: [alb("a", { arn: UNKNOWN }), alb("b", { arn: UNKNOWN }), r("aws:wafv2/webAclAssociation:WebAclAssociation", "waf", { resourceArn: UNKNOWN })],
    },
    {
        policy: "sg-unrestricted-ingress-authorized-ports",
        // A rule declared as its own resource, given to its group by the group's id.
        compliant: [r(SG, "sg", { id: "sg-1" }), r(INGRESS, "https", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" })],
        violating: [[r(SG, "sg", { id: "sg-1" }), r(INGRESS, "app", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 8000, toPort: 8000, cidrIpv6: "::/0" })], 1],
        unknown: [r(SG, "sg", { id: "sg-1" }), r(INGRESS, "app", { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 8000, toPort: 8000, cidrIpv4: UNKNOWN })],
    },
    {
        policy: "sg-no-unrestricted-high-risk-ports",
        // EC2.19 looks at TCP (and rules of every protocol): an open UDP 3389 is EC2.18's failure, not EC2.19's.
        compliant: [
            r(SG, "sg", {
                ingress: [
                    { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"] },
                    { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                    { protocol: "udp", fromPort: 3389, toPort: 3389, cidrBlocks: ["0.0.0.0/0"] },
                ],
            }),
        ],
        violating: [[r(SG, "sg", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] }), r("aws:ec2/securityGroupRule:SecurityGroupRule", "all", { type: "ingress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-elsewhere" })], 2],
        unknown: [r(SG, "sg", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: UNKNOWN }] })],
    },
    {
        policy: "vpc-default-security-group-closed",
        compliant: [r("aws:ec2/vpc:Vpc", "vpc", { id: "vpc-1" }), r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", { vpcId: "vpc-1", ingress: [], egress: [] })],
        // AWS's default group left as created, and one taken over but given a rule; a closed group of another VPC covers neither.
        violating: [
            [
                r("aws:ec2/vpc:Vpc", "untouched", { id: "vpc-1" }),
                r("aws:ec2/vpc:Vpc", "open", { id: "vpc-2" }),
                r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "open-default", { vpcId: "vpc-2", egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }),
                r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "elsewhere", { vpcId: "vpc-9", ingress: [], egress: [] }),
            ],
            2,
        ],
        unknown: [r("aws:ec2/vpc:Vpc", "vpc", { id: "vpc-1" }), r("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", { vpcId: "vpc-1", ingress: UNKNOWN })],
    },
    {
        policy: "vpc-flow-logs",
        compliant: [r("aws:ec2/vpc:Vpc", "vpc", { id: "vpc-1" }), r("aws:ec2/flowLog:FlowLog", "fl", { vpcId: "vpc-1", trafficType: "REJECT" })],
        // No flow log, and one that records only accepted traffic.
        violating: [[r("aws:ec2/vpc:Vpc", "a", { id: "vpc-1" }), r("aws:ec2/vpc:Vpc", "b", { id: "vpc-2" }), r("aws:ec2/flowLog:FlowLog", "fl", { vpcId: "vpc-2", trafficType: "ACCEPT" })], 2],
        unknown: [r("aws:ec2/vpc:Vpc", "vpc", { id: UNKNOWN }), r("aws:ec2/flowLog:FlowLog", "fl", { vpcId: UNKNOWN, trafficType: "ALL" })],
    },
    {
        policy: "subnet-no-public-ip-on-launch",
        compliant: [r("aws:ec2/subnet:Subnet", "private", { mapPublicIpOnLaunch: false }), r("aws:ec2/subnet:Subnet", "default", {})],
        // IPv6 addresses assigned on creation are public too (EC2.15 fails IPv4 or IPv6).
        violating: [[r("aws:ec2/subnet:Subnet", "public", { mapPublicIpOnLaunch: true }), r("aws:ec2/subnet:Subnet", "ipv6", { assignIpv6AddressOnCreation: true })], 2],
        unknown: [r("aws:ec2/subnet:Subnet", "public", { mapPublicIpOnLaunch: UNKNOWN })],
    },
    {
        policy: "log-group-retention",
        compliant: [r("aws:cloudwatch/logGroup:LogGroup", "lg", { retentionInDays: 365 }), r("aws:cloudwatch/logGroup:LogGroup", "forever", {})],
        violating: [[r("aws:cloudwatch/logGroup:LogGroup", "lg", { retentionInDays: 30 })], 1],
        unknown: [r("aws:cloudwatch/logGroup:LogGroup", "lg", { retentionInDays: UNKNOWN })],
    },
    {
        policy: "alarm-has-actions",
        compliant: [r("aws:cloudwatch/metricAlarm:MetricAlarm", "scale-out", { alarmActions: ["arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1"] })],
        // No actions at all, and an empty list (an OK action alone does not count: ALARM state is what AWS asks for).
        violating: [[r("aws:cloudwatch/metricAlarm:MetricAlarm", "rollback", {}), r("aws:cloudwatch/metricAlarm:MetricAlarm", "ok-only", { alarmActions: [], okActions: ["arn:aws:sns:us-east-1:123456789012:t"] })], 2],
        unknown: [r("aws:cloudwatch/metricAlarm:MetricAlarm", "a", { alarmActions: [UNKNOWN] })],
    },
    {
        policy: "log-group-kms-encrypted",
        compliant: [r("aws:cloudwatch/logGroup:LogGroup", "lg", { kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/1" })],
        violating: [[r("aws:cloudwatch/logGroup:LogGroup", "lg", { retentionInDays: 365 })], 1],
        unknown: [r("aws:cloudwatch/logGroup:LogGroup", "lg", { kmsKeyId: UNKNOWN })],
    },
    {
        policy: "sqs-encrypted-at-rest",
        compliant: [r("aws:sqs/queue:Queue", "q", { sqsManagedSseEnabled: true }), r("aws:sqs/queue:Queue", "kms", { kmsMasterKeyId: "alias/cgap" })],
        violating: [[r("aws:sqs/queue:Queue", "q", { sqsManagedSseEnabled: false })], 1],
        unknown: [r("aws:sqs/queue:Queue", "q", { sqsManagedSseEnabled: UNKNOWN })],
    },
    {
        policy: "iam-no-full-admin",
        // IAM.1 judges customer managed policies only; an inline one is iam-no-admin-grant's (below).
        compliant: [
            r("aws:iam/policy:Policy", "p", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" }] }) }),
            r("aws:iam/rolePolicy:RolePolicy", "inline", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }),
        ],
        violating: [[r("aws:iam/policy:Policy", "p", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "*:*"], Resource: ["*"] }] }) })], 1],
        unknown: [r("aws:iam/policy:Policy", "p", { policy: UNKNOWN })],
    },
];

/**
 * Severity and standard of each control, as AWS's control pages and the FSBP standard's list give
 * them (see policy/controls.ts for the pages). A policy whose control is missing here fails, so a
 * new one is checked against its page too.
 */
const AS_AWS_LISTS_THEM: Record<string, [string, string]> = {
    "ECS.2": ["high", "FSBP"],
    "ECS.3": ["high", "FSBP"],
    "ECS.4": ["high", "FSBP"],
    "ECS.5": ["high", "FSBP"],
    "ECS.8": ["high", "FSBP"],
    "ECS.9": ["high", "FSBP"],
    "ECS.10": ["medium", "FSBP"],
    "ECS.12": ["medium", "FSBP"],
    "ECS.16": ["high", "FSBP"],
    "ECS.17": ["medium", "NIST 800-53"],
    "ECS.20": ["medium", "Security Hub"],
    "ECR.1": ["high", "FSBP"],
    "ECR.2": ["medium", "FSBP"],
    "ECR.3": ["medium", "FSBP"],
    "ECR.5": ["medium", "NIST 800-53"],
    "ELB.1": ["medium", "FSBP"],
    "ELB.4": ["medium", "FSBP"],
    "ELB.5": ["medium", "FSBP"],
    "ELB.6": ["medium", "FSBP"],
    "ELB.16": ["medium", "NIST 800-53"],
    "ELB.17": ["medium", "FSBP"],
    "ELB.18": ["medium", "FSBP"],
    "EC2.2": ["high", "FSBP"],
    "EC2.6": ["medium", "FSBP"],
    "EC2.15": ["medium", "FSBP"],
    "EC2.18": ["high", "FSBP"],
    "EC2.19": ["critical", "FSBP"],
    "SQS.1": ["medium", "FSBP"],
    "IAM.1": ["high", "FSBP"],
    "CloudWatch.15": ["high", "NIST 800-53"],
    "CloudWatch.16": ["medium", "NIST 800-53"],
};

function only(diagnostics: Diagnostic[], policy: string): Diagnostic[] {
    return diagnostics.filter((d) => d.policyName === policy);
}

describe("compliance policies through the running pack", function () {
    this.timeout(180_000);
    let p: PolicyPackProcess;

    // Every policy at its default level and settings, no exception: what Security Hub would say.
    before(async () => {
        p = await pack("mastertestPreview");
        await p.reconfigure({});
    });
    after(async () => {
        await p.reconfigure(REVIEWED_SETTINGS);
    });

    async function judge(resources: StackResource[]): Promise<Diagnostic[]> {
        const diagnostics = await p.judge(resources);
        assert.ok(!diagnostics.some((d) => /can't run policy/.test(d.message)), `an unknown value escaped a policy:\n${listDiagnostics(diagnostics)}`);
        return diagnostics;
    }

    it("has a case for every policy that mirrors a control, and every such policy cites it with remediation steps", async () => {
        const withControl = complianceChecks.filter((c) => c.control).map((c) => c.name).sort();
        assert.deepStrictEqual(CASES.map((c) => c.policy).sort(), withControl);
        const info = await p.info();
        for (const check of complianceChecks.filter((c) => c.control)) {
            const served = info.policies.find((x) => x.name === check.name)!;
            assert.strictEqual(served.control, check.control!.id);
            assert.strictEqual(served.url, check.control!.url);
            assert.ok(served.remediationSteps && served.remediationSteps.length > 20, `${check.name} has no remediationSteps`);
            assert.ok(served.configSchema?.exceptions, `${check.name} takes no exceptions`);
        }
        assert.ok(!info.policies.some((x) => x.control === "ECS.1"), "ECS.1 was retired in March 2026; host network mode is ECS.17");
    });

    for (const c of CASES) {
        describe(c.policy, () => {
            const check = complianceChecks.find((x) => x.name === c.policy)!;
            const cited = `[${check.control!.standard} ${check.control!.id}]`;

            it(`passes the compliant case`, async () => {
                assert.deepStrictEqual(listDiagnostics(only(await judge(c.compliant), c.policy)), "");
            });

            it(`reports the violating case once per root cause, citing ${cited} and its documentation`, async () => {
                const [resources, count] = c.violating;
                const found = only(await judge(resources), c.policy);
                assert.strictEqual(found.length, count, listDiagnostics(found));
                for (const d of found) {
                    assert.ok(d.message.includes(cited), `no ${cited} in: ${d.message}`);
                    assert.ok(d.message.includes(check.control!.url), `no control URL in: ${d.message}`);
                    assert.strictEqual(d.enforcementLevel, "advisory");
                    assert.ok(d.urn && resources.some((x) => x.urn === d.urn), `names no resource of the case: ${d.urn}`);
                }
            });

            it(`holds the unknown case for the update: no violation, and the verdict is unknown, not a pass`, async () => {
                assert.deepStrictEqual(listDiagnostics(only(await judge(c.unknown), c.policy)), "");
                const views = c.unknown.filter((x) => [...check.types, ...(check.reads ?? [])].includes(x.type)).map((x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props }));
                const verdicts = (check.scope === "resource" ? views.flatMap((v) => evaluate(check, [v], {}, "mastertest")) : evaluate(check, views, {}, "mastertest")).map((f) => f.verdict);
                assert.ok(verdicts.includes("unknown"), `${c.policy}: ${verdicts.join(", ")}`);
            });
        });
    }

    it("gives each policy its control's severity and standard as AWS lists them", async () => {
        const info = await p.info();
        for (const check of complianceChecks.filter((c) => c.control && c.control.standard !== "Checkov")) {
            const expected = AS_AWS_LISTS_THEM[check.control!.id];
            assert.ok(expected, `${check.control!.id} (${check.name}) is not checked against its page yet`);
            assert.deepStrictEqual([check.severity, check.control!.standard], expected, check.name);
            // The running pack serves the same severity to the engine (and Pulumi Cloud).
            assert.strictEqual(info.policies.find((x) => x.name === check.name)?.severity, check.severity, check.name);
        }
    });

    describe("one diagnostic per root cause", () => {
        it("reports an unreadable containerDefinitions once, not once per container policy", async () => {
            const diagnostics = await judge([taskDefinition("td", "{not json")]);
            assert.deepStrictEqual(diagnostics.map((d) => d.policyName), ["ecs-container-logging-configured"], listDiagnostics(diagnostics));
            assert.match(diagnostics[0].message, /\[FSBP ECS\.9\].*not valid JSON/s);
        });
    });

    describe("ELB.1 is judged on the load balancer its listeners belong to", () => {
        const lb = (name: string) => alb(name, { arn: UNKNOWN });
        const listener = (name: string, owner: StackResource | undefined, props: Record<string, unknown>) =>
            r(LISTENER, name, { loadBalancerArn: UNKNOWN, ...props }, owner ? { propertyDependencies: { loadBalancerArn: [owner.urn!] } } : {});
        const check = complianceChecks.find((c) => c.name === "alb-http-redirects-to-https")!;
        const verdicts = (resources: StackResource[]) =>
            evaluate(check, resources.map((x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props, propertyDependencies: x.propertyDependencies })), {}, "mastertest").map(
                (f) => `${f.resource.name}:${f.verdict}`,
            );

        it("by the listener's dependency when the ARNs are not known yet", async () => {
            const secure = lb("secure");
            const plain = lb("plain");
            const resources = [
                secure,
                plain,
                listener("secure-https", secure, { protocol: "HTTPS", certificateArn: CERT, defaultActions: [{ type: "forward" }] }),
                listener("secure-http", secure, { protocol: "HTTP", defaultActions: REDIRECT }),
                listener("plain-http", plain, { protocol: "HTTP", defaultActions: [{ type: "forward" }] }),
            ];
            const diagnostics = only(await judge(resources), "alb-http-redirects-to-https");
            assert.deepStrictEqual(
                diagnostics.map((d) => [d.urn?.split("::").pop(), /HTTP listener "([\w-]+)"/.exec(d.message)?.[1]]),
                [["plain", "plain-http"]],
            );
            assert.deepStrictEqual(verdicts(resources), ["secure:pass", "plain:fail"]);
        });

        it("and says it cannot tell yet rather than pass a load balancer a stray listener may belong to", async () => {
            const resources = [lb("a"), lb("b"), listener("http", undefined, { protocol: "HTTP", defaultActions: [{ type: "forward" }] })];
            assert.deepStrictEqual(listDiagnostics(only(await judge(resources), "alb-http-redirects-to-https")), "");
            assert.deepStrictEqual(verdicts(resources), ["a:unknown", "b:unknown"]);
        });

        it("an exception names the load balancer, as AWS's finding does; one naming the listener accepts nothing", () => {
            const resources = [alb("cgap-alb"), r(LISTENER, "cgap-http", { loadBalancerArn: alb("cgap-alb").props.arn, protocol: "HTTP", defaultActions: [{ type: "forward" }] })];
            const views = resources.map((x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props }));
            const byLb = evaluateWithExceptions(check, views, { exceptions: [{ resource: "cgap-alb", reason: "no certificate on this stack" }] }, "mastertest");
            assert.deepStrictEqual(byLb.findings.map((f) => f.verdict), ["excepted"]);
            const byListener = evaluateWithExceptions(check, views, { exceptions: [{ resource: "cgap-http", reason: "no certificate on this stack" }] }, "mastertest");
            assert.deepStrictEqual(byListener.findings.map((f) => f.verdict), ["fail"]);
            assert.deepStrictEqual(byListener.stale.map((x) => x.exception.resource), ["cgap-http"]);
        });
    });

    describe("iam-no-admin-grant, the project's own rule: where IAM.1 does not look", () => {
        const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
        const attachments: [string, StackResource][] = [
            ["a role policy attachment", r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", { role: "cgap-task", policyArn: ADMIN })],
            ["a user policy attachment", r("aws:iam/userPolicyAttachment:UserPolicyAttachment", "a", { user: "deployer", policyArn: ADMIN })],
            ["a group policy attachment", r("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "a", { group: "ops", policyArn: ADMIN })],
            ["a policy attachment", r("aws:iam/policyAttachment:PolicyAttachment", "a", { roles: ["cgap-task"], policyArn: ADMIN })],
            ["a role's managedPolicyArns", r("aws:iam/role:Role", "a", { assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", ADMIN] })],
            ["an exclusive attachment list", r("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "a", { roleName: "cgap-task", policyArns: [ADMIN] })],
            ["an attachment in GovCloud", r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", { role: "cgap-task", policyArn: "arn:aws-us-gov:iam::aws:policy/AdministratorAccess" })],
        ];
        for (const [how, resource] of attachments) {
            it(`reports ${how}`, async () => {
                const found = only(await judge([resource]), "iam-no-admin-grant");
                assert.strictEqual(found.length, 1, listDiagnostics(found));
                assert.match(found[0].message, /attaches AWS's AdministratorAccess policy/);
                assert.doesNotMatch(found[0].message, /\[FSBP/, "the project's own rule cites no control");
                assert.deepStrictEqual(only(await judge([resource]), "iam-no-full-admin"), [], "IAM.1 does not judge an attachment");
            });
        }

        it("reports an inline policy of a role, user or group, and a role's inlinePolicies, allowing * on *", async () => {
            const admin = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
            const inline = [
                r("aws:iam/rolePolicy:RolePolicy", "role-inline", { role: "cgap-task", policy: admin }),
                r("aws:iam/userPolicy:UserPolicy", "user-inline", { user: "deployer", policy: admin }),
                r("aws:iam/groupPolicy:GroupPolicy", "group-inline", { group: "ops", policy: admin }),
                r("aws:iam/role:Role", "role", { assumeRolePolicy: "{}", inlinePolicies: [{ name: "all", policy: admin }] }),
            ];
            const found = only(await judge(inline), "iam-no-admin-grant");
            assert.deepStrictEqual(found.map((d) => d.urn?.split("::").pop()).sort(), ["group-inline", "role", "role-inline", "user-inline"]);
            assert.deepStrictEqual(only(await judge(inline), "iam-no-full-admin"), []);
        });

        it("IAM.1 excludes a policy used as a permissions boundary; attaching that policy to a role is still refused", async () => {
            const admin = JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
            const boundary = r("aws:iam/policy:Policy", "boundary", { arn: "arn:aws:iam::123456789012:policy/boundary", policy: admin });
            const bounded = r("aws:iam/role:Role", "bounded", { assumeRolePolicy: "{}", permissionsBoundary: "arn:aws:iam::123456789012:policy/boundary" });
            // As AWS runs IAM.1 (excludePermissionBoundaryPolicy: true): the boundary is excluded.
            assert.deepStrictEqual(only(await judge([boundary, bounded]), "iam-no-full-admin"), []);
            const unbounded = only(await judge([boundary]), "iam-no-full-admin");
            assert.strictEqual(unbounded.length, 1, "the same policy used as no boundary fails IAM.1");
            // The way around it: the same policy as some role's boundary and attached to the task role.
            const attached = r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "task-admin", { role: "cgap-task", policyArn: "arn:aws:iam::123456789012:policy/boundary" });
            const found = only(await judge([boundary, bounded, attached]), "iam-no-admin-grant");
            assert.deepStrictEqual(found.map((d) => d.urn?.split("::").pop()), ["task-admin"]);
            assert.match(found[0].message, /attaches policy "boundary", which allows every action/);
            // While the policy's ARN is not known (a preview creating both), the attachment's dependency names it.
            const early = [
                { ...boundary, props: { ...boundary.props, arn: UNKNOWN } },
                { ...attached, props: { ...attached.props, policyArn: UNKNOWN }, propertyDependencies: { policyArn: [boundary.urn!] } },
            ];
            assert.deepStrictEqual(only(await judge(early), "iam-no-admin-grant").map((d) => d.urn?.split("::").pop()), ["task-admin"]);
        });

        it("passes other managed policies, a customer policy of the same name, and says unknown while an ARN is not known", async () => {
            const fine = [
                r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ro", { role: "cgap-task", policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }),
                r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "own", { role: "cgap-task", policyArn: "arn:aws:iam::123456789012:policy/AdministratorAccess" }),
                r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "amplify", { role: "cgap-task", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess-Amplify" }),
                r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "later", { role: "cgap-task", policyArn: UNKNOWN }),
            ];
            assert.deepStrictEqual(listDiagnostics(only(await judge(fine), "iam-no-admin-grant")), "");
            const check = complianceChecks.find((c) => c.name === "iam-no-admin-grant")!;
            const verdicts = fine.flatMap((x) => evaluate(check, [{ type: x.type, urn: x.urn!, name: x.name, props: x.props }], {}, "mastertest"));
            assert.deepStrictEqual(verdicts.map((f) => f.verdict), ["pass", "pass", "pass", "unknown"]);
        });
    });

    describe("deviations are settings in policy config, never silent passes", () => {
        const repo = r(REPO, "cgap-repository", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "latest*", filterType: "WILDCARD" }] });
        afterEach(async () => {
            await p.reconfigure({});
        });

        it("ECR.2 excepts the movable latest* tags only when acceptedMutableTagFilters lists them", async () => {
            assert.strictEqual(only(await judge([repo]), "ecr-tag-immutability").length, 1);
            await p.reconfigure({ "ecr-tag-immutability": { acceptedMutableTagFilters: ["latest*"] } });
            assert.strictEqual(only(await judge([repo]), "ecr-tag-immutability").length, 0);
            const [finding] = evaluate(complianceChecks.find((c) => c.name === "ecr-tag-immutability")!, [{ ...repo, urn: repo.urn! }], { acceptedMutableTagFilters: ["latest*"] }, "mastertest");
            assert.strictEqual(finding.verdict, "excepted");
            const wider = r(REPO, "wider", { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "*", filterType: "WILDCARD" }] });
            assert.strictEqual(only(await judge([wider]), "ecr-tag-immutability").length, 1, "an exclusion beyond the accepted filters still fails");
        });

        it("registryScanFilters stands in for a registry rule the pack cannot see: what it covers is excepted, naming it, never passed", async () => {
            const bare = r(REPO, "repo", { name: "cgap-mastertest", imageScanningConfiguration: { scanOnPush: false } });
            await p.reconfigure({ "ecr-scan-on-push": { registryScanFilters: ["*"] } });
            assert.deepStrictEqual(listDiagnostics(only(await judge([bare]), "ecr-scan-on-push")), "");
            const check = complianceChecks.find((c) => c.name === "ecr-scan-on-push")!;
            const [finding] = evaluate(check, [{ type: REPO, urn: bare.urn!, name: bare.name, props: bare.props }], { registryScanFilters: ["*"] }, "mastertest");
            assert.strictEqual(finding.verdict, "excepted");
            assert.match(finding.reasons[0], /^accepted exception \(registryScanFilters\): "\*" says a registry scanning rule managed outside this stack scans it/);
            // A registry scanning configuration in the stack is what counts then: the claim does not override it.
            const registry = r("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning", { scanType: "BASIC", rules: [] });
            assert.strictEqual(only(await judge([bare, registry]), "ecr-scan-on-push").length, 1);
        });

        it("accountContainerInsights stands in for an account default the pack cannot see: what it covers is excepted, naming it", () => {
            const check = complianceChecks.find((c) => c.name === "ecs-cluster-container-insights")!;
            const cluster = { type: "aws:ecs/cluster:Cluster", urn: urnOf("aws:ecs/cluster:Cluster", "c"), name: "c", props: {} };
            const [claimed] = evaluate(check, [cluster], { accountContainerInsights: "enabled" }, "mastertest");
            assert.strictEqual(claimed.verdict, "excepted");
            assert.match(claimed.reasons[0], /^accepted exception \(accountContainerInsights\): "enabled" says the account default, set outside this stack/);
            // The account default the stack sets itself is seen, and passes.
            const own = { type: "aws:ecs/accountSettingDefault:AccountSettingDefault", urn: urnOf("aws:ecs/accountSettingDefault:AccountSettingDefault", "insights"), name: "insights", props: { name: "containerInsights", value: "enabled" } };
            assert.deepStrictEqual(evaluate(check, [cluster, own], {}, "mastertest").map((f) => f.verdict), ["pass"]);
        });

        it("a security group passes EC2.18 only when every rule that may be its own does", () => {
            const check = complianceChecks.find((c) => c.name === "sg-unrestricted-ingress-authorized-ports")!;
            const group = r(SG, "cgap-alb-sg", { id: UNKNOWN, ingress: [] });
            const stray = r(INGRESS, "open-8000", { securityGroupId: UNKNOWN, ipProtocol: "tcp", fromPort: 8000, toPort: 8000, cidrIpv4: "0.0.0.0/0" });
            const views = [group, stray].map((x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props }));
            assert.deepStrictEqual(
                evaluate(check, views, {}, "mastertest").map((f) => `${f.resource.name}:${f.verdict}`),
                ["cgap-alb-sg:unknown", "open-8000:fail"],
            );
            // Given to its group by the dependency the engine records, the rule fails the group itself.
            const owned = { ...views[1], propertyDependencies: { securityGroupId: [group.urn!] } };
            assert.deepStrictEqual(evaluate(check, [views[0], owned], {}, "mastertest").map((f) => `${f.resource.name}:${f.verdict}`), ["cgap-alb-sg:fail"]);
        });

        it("an exception that accepts nothing on the stack is stale, never kept silently", () => {
            const check = complianceChecks.find((c) => c.name === "lb-deletion-protection")!;
            const views = [alb("cgap-alb", { enableDeletionProtection: false }), alb("cgap-admin-alb", { enableDeletionProtection: true }), alb("cgap-new-alb", { enableDeletionProtection: UNKNOWN })].map(
                (x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props }),
            );
            const exceptions = [
                { resource: "cgap-alb", reason: "deleted on purpose next week" },
                { resource: "cgap-admin-alb", reason: "protected since, kept by mistake" },
                { resource: "cgap-old-alb", reason: "the load balancer the stack had before" },
                { resource: "cgap-new-alb", reason: "not judged before the update" },
                { resource: "cgap-old-alb", stack: "production", reason: "applies to production only" },
            ];
            const { findings, stale } = evaluateWithExceptions(check, views, { exceptions }, "mastertest");
            assert.deepStrictEqual(
                findings.map((f) => `${f.resource.name}:${f.verdict}`),
                ["cgap-alb:excepted", "cgap-admin-alb:pass", "cgap-new-alb:unknown"],
            );
            // A pass accepts nothing; a name the stack does not have accepts nothing; an unknown may
            // still fail in the update, and another stack's exception is that stack's business.
            assert.deepStrictEqual(
                stale.map((x) => `${x.exception.resource}: ${x.why}`),
                [
                    'cgap-admin-alb: "cgap-admin-alb" passes, so the exception accepts nothing',
                    'cgap-old-alb: no resource named "cgap-old-alb" is judged by this policy on this stack',
                ],
            );
        });

        it("an exception names its resource exactly: a name that differs by a character or its case accepts nothing", () => {
            const check = complianceChecks.find((c) => c.name === "lb-deletion-protection")!;
            const views = [alb("cgap-alb", { enableDeletionProtection: false })].map((x) => ({ type: x.type, urn: x.urn!, name: x.name, props: x.props }));
            for (const resource of ["cgap-al", "CGAP-ALB", "cgap-alb "]) {
                const { findings, stale } = evaluateWithExceptions(check, views, { exceptions: [{ resource, reason: "close enough" }] }, "mastertest");
                assert.deepStrictEqual([findings[0].verdict, stale.length], ["fail", 1], resource);
            }
        });

        it("an exception names the resource and the stack it covers, and no other", async () => {
            const http = [alb("cgap-alb"), r(LISTENER, "cgap-http", { loadBalancerArn: alb("cgap-alb").props.arn, protocol: "HTTP", defaultActions: [{ type: "forward" }] })];
            await p.reconfigure({ "alb-http-redirects-to-https": { exceptions: [{ stack: "production", resource: "cgap-alb", reason: "production has a certificate" }] } });
            assert.strictEqual(only(await judge(http), "alb-http-redirects-to-https").length, 1, "a production exception does not cover mastertest");
            await p.reconfigure({ "alb-http-redirects-to-https": { exceptions: [{ stack: "mastertest", resource: "cgap-alb", reason: "no certificate" }] } });
            assert.strictEqual(only(await judge(http), "alb-http-redirects-to-https").length, 0);
            const other = alb("other-alb");
            const otherHttp = r(LISTENER, "other-http", { loadBalancerArn: other.props.arn, protocol: "HTTP", defaultActions: [{ type: "forward" }] });
            assert.strictEqual(only(await judge([...http, other, otherHttp]), "alb-http-redirects-to-https").length, 1, "another load balancer is still judged");
        });
    });

    describe("bad policy config is refused with one message naming each culprit", () => {
        afterEach(async () => {
            await p.reconfigure({});
        });

        const refused = (config: Parameters<PolicyPackProcess["reconfigure"]>[0], ...mentions: RegExp[]) =>
            assert.rejects(p.reconfigure(config), (err: Error) => {
                assert.match(err.message, /policy config refused, nothing was judged/);
                for (const m of mentions) {
                    assert.match(err.message, m);
                }
                return true;
            });

        it("a misspelled policy name, with the name it probably meant", async () => {
            await refused({ "ecs-service-no-public-ips": "mandatory" }, /"ecs-service-no-public-ips" is not a policy of this pack \(did you mean "ecs-service-no-public-ip"\?\)/);
        });

        it("a string where a list is expected, an unknown setting, an exception without a reason", async () => {
            await refused(
                {
                    "ecr-tag-immutability": { acceptedMutableTagFilters: "latest*" },
                    "ecs-fargate-platform-latest": { allowedPlatformVersion: ["LATEST"] },
                    "alb-waf-web-acl": { exceptions: [{ resource: "cgap-alb" }] },
                },
                /ecr-tag-immutability\.acceptedMutableTagFilters must be a list, got "latest\*"/,
                /ecs-fargate-platform-latest\.allowedPlatformVersion is not a setting/,
                /alb-waf-web-acl\.exceptions\[0\]\.reason is required/,
            );
        });

        it("an exception whose reason has no words or that names no one resource exactly", async () => {
            // Every resource of the stack is named cgap-...: "cgap-*" or "*-*" would accept every
            // failure of the control, now and later, as surely as "*".
            await refused(
                {
                    "alb-waf-web-acl": { exceptions: [{ resource: "cgap-alb", reason: " " }] },
                    "alb-access-logs": { exceptions: [{ resource: "*", reason: "not yet" }] },
                    "lb-deletion-protection": { exceptions: [{ resource: "?*", reason: "-" }] },
                    "ecs-container-read-only-root": { exceptions: [{ resource: "cgap-*", reason: "writes its config at start" }] },
                    "log-group-retention": { exceptions: [{ resource: "*-*", reason: "kept elsewhere" }] },
                },
                /alb-waf-web-acl\.exceptions\[0\]\.reason must give the reason in words, got " "/,
                /alb-access-logs\.exceptions\[0\]\.resource must name one resource exactly, without \* or \?/,
                /lb-deletion-protection\.exceptions\[0\]\.resource must name one resource exactly/,
                /lb-deletion-protection\.exceptions\[0\]\.reason must give the reason in words/,
                /ecs-container-read-only-root\.exceptions\[0\]\.resource must name one resource exactly, without \* or \?.*got "cgap-\*"/,
                /log-group-retention\.exceptions\[0\]\.resource must name one resource exactly/,
            );
        });

        it("settings that would widen a control beyond what Security Hub allows", async () => {
            await refused(
                {
                    // ECS.10's latest version is not customizable in Security Hub: no list of "allowed" ones.
                    "ecs-fargate-platform-latest": { allowedPlatformVersions: ["LATEST", "1.3.0"] },
                    // EC2.18 takes at most 32 ports of each protocol, each 1-65535.
                    "sg-unrestricted-ingress-authorized-ports": { authorizedTcpPorts: Array.from({ length: 33 }, (_, i) => 8000 + i), authorizedUdpPorts: [0, 65536] },
                    // CloudWatch.16's shortest minimum is a year.
                    "log-group-retention": { minRetentionDays: 30 },
                },
                /ecs-fargate-platform-latest\.allowedPlatformVersions is not a setting/,
                /sg-unrestricted-ingress-authorized-ports\.authorizedTcpPorts must list at most 32 items, got 33/,
                /sg-unrestricted-ingress-authorized-ports\.authorizedUdpPorts\[0\] must be at least 1, got 0/,
                /sg-unrestricted-ingress-authorized-ports\.authorizedUdpPorts\[1\] must be at most 65535, got 65536/,
                /log-group-retention\.minRetentionDays must be at least 365, got 30/,
            );
        });

        it("keeps the config it had: a refused config is never half-applied", async () => {
            const bad = [r("aws:ecs/service:Service", "svc", { networkConfiguration: { assignPublicIp: true } })];
            await p.reconfigure({ "ecs-service-no-public-ip": "mandatory" });
            await refused({ "ecs-service-no-public-ip": "advisory", typo: "disabled" }, /"typo" is not a policy/);
            assert.deepStrictEqual(only(await judge(bad), "ecs-service-no-public-ip").map((d) => d.enforcementLevel), ["mandatory"]);
        });
    });
});
