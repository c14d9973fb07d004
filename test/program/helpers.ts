import * as assert from "assert";
import { RegisteredResource } from "../../ops/offline/program";

export const T = {
    image: "docker:index/image:Image",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    cluster: "aws:ecs/cluster:Cluster",
    capacityProviders: "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    repository: "aws:ecr/repository:Repository",
    lifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    queue: "aws:sqs/queue:Queue",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
} as const;

export function ofType(resources: RegisteredResource[], type: string): RegisteredResource[] {
    return resources.filter((r) => r.type === type);
}

/** The docker.Image resources of roles, leaving out the build cache image (it has no ENTRYPOINT). */
export function roleImages(resources: RegisteredResource[]): RegisteredResource[] {
    return ofType(resources, T.image).filter((r) => inputs(r).build?.args?.ENTRYPOINT !== undefined);
}

export function one(resources: RegisteredResource[], type: string, name: string): RegisteredResource {
    const found = resources.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(found.length, 1, `expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
}

/** Inputs as plain values. */
export function inputs(resource: RegisteredResource): Record<string, any> {
    return resource.plainInputs as Record<string, any>;
}

export function containerDefinition(taskDefinition: RegisteredResource): Record<string, any> {
    const definitions = JSON.parse(inputs(taskDefinition).containerDefinitions as string);
    assert.strictEqual(definitions.length, 1);
    return definitions[0];
}

export interface PolicyStatement {
    Sid: string;
    Effect: string;
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string>>;
}

export function statements(rolePolicy: RegisteredResource): PolicyStatement[] {
    return JSON.parse(inputs(rolePolicy).policy as string).Statement;
}
