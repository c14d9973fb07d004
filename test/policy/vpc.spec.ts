// The VPC controls (EC2.2, EC2.6, EC2.15) through the running pack, on the sandbox stack's own VPC
// as the real program registers it under mocks, with ids and without (a first rollout's preview,
// where a resource names the VPC or group it belongs to only by the value it was made from), then
// on the ways a colleague could get a VPC past them: one change each to that stack.
import * as assert from "assert";

import { Diagnostic, PolicyPackProcess, StackResource, UNKNOWN } from "../../ops/offline/analyzer";
import { analyzerResources } from "../../ops/offline/plan";
import { placeholderRegistry, runProgram } from "../../ops/offline/program";
import { evaluate } from "../../policy/compliance";
import { complianceChecks } from "../../policy/policies";
import { listDiagnostics, REVIEWED_SETTINGS, sharedPack } from "./packs";

const VPC_POLICIES = ["vpc-default-security-group-closed", "vpc-flow-logs", "subnet-no-public-ip-on-launch"];
const VPC = "aws:ec2/vpc:Vpc";
const SUBNET = "aws:ec2/subnet:Subnet";
const DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
const FLOW_LOG = "aws:ec2/flowLog:FlowLog";

function only(diagnostics: Diagnostic[]): Diagnostic[] {
    return diagnostics.filter((d) => VPC_POLICIES.includes(d.policyName));
}

/** The stack with the resource of `type` named `name` changed by `change`. */
function changed(stack: StackResource[], type: string, name: string, change: (r: StackResource) => StackResource): StackResource[] {
    assert.strictEqual(stack.filter((r) => r.type === type && r.name === name).length, 1, `${type} ${name}`);
    return stack.map((r) => (r.type === type && r.name === name ? change(r) : r));
}

function find(stack: StackResource[], type: string, name: string): StackResource {
    return stack.find((r) => r.type === type && r.name === name)!;
}

describe("the VPC controls on the sandbox stack's own VPC, through the running pack", function () {
    this.timeout(180_000);
    let p: PolicyPackProcess;
    let update: StackResource[];
    let firstPreview: StackResource[];

    before(async () => {
        const registry = placeholderRegistry();
        update = analyzerResources(await runProgram({ stack: "sandbox", preview: false, registry }), { registry });
        firstPreview = analyzerResources(await runProgram({ stack: "sandbox", preview: true, firstRollout: true, registry }), { registry });
        p = await sharedPack({ stack: "sandbox", dryRun: false, policyConfig: REVIEWED_SETTINGS });
    });

    async function judge(resources: StackResource[]): Promise<Diagnostic[]> {
        const diagnostics = await p.judge(resources);
        assert.ok(!diagnostics.some((d) => /can't run policy/.test(d.message)), listDiagnostics(diagnostics));
        return only(diagnostics);
    }

    it("judges the VPC and its four subnets, and finds nothing: by id, as the provider's state gives it", async () => {
        assert.strictEqual(update.filter((r) => r.type === VPC).length, 1);
        assert.strictEqual(update.filter((r) => r.type === SUBNET).length, 4);
        assert.strictEqual(find(update, VPC, "cgap-vpc").props.id, find(update, DEFAULT_SG, "cgap-default-sg").props.vpcId);
        assert.strictEqual(listDiagnostics(await judge(update)), "");
    });

    it("finds nothing either when the VPC's id is not among its properties and the others name it by dependency", async () => {
        const withoutIds = update.map((r) => {
            const { id: _id, ...props } = r.props;
            return { ...r, props };
        });
        assert.strictEqual(listDiagnostics(await judge(withoutIds)), "");
    });

    it("judges a first rollout's preview, where no id is known yet, by what each value was made from", async () => {
        assert.strictEqual(find(firstPreview, FLOW_LOG, "cgap-flow-log").props.vpcId, UNKNOWN);
        assert.strictEqual(listDiagnostics(await judge(firstPreview)), "");
        // Judged, not held as unknown: the same preview with the default group open, or the flow log
        // on accepted traffic only, fails.
        const open = changed(firstPreview, DEFAULT_SG, "cgap-default-sg", (r) => ({ ...r, props: { ...r.props, ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }] } }));
        assert.deepStrictEqual((await judge(open)).map((d) => d.policyName), ["vpc-default-security-group-closed"]);
        const accepted = changed(firstPreview, FLOW_LOG, "cgap-flow-log", (r) => ({ ...r, props: { ...r.props, trafficType: "ACCEPT" } }));
        assert.deepStrictEqual((await judge(accepted)).map((d) => d.policyName), ["vpc-flow-logs"]);
    });

    it("fails a subnet that maps public IPs on launch (EC2.15), public subnet or not", async () => {
        const stack = changed(update, SUBNET, "cgap-public-1", (r) => ({ ...r, props: { ...r.props, mapPublicIpOnLaunch: true }, inputs: { ...r.inputs, mapPublicIpOnLaunch: true } }));
        const found = await judge(stack);
        assert.deepStrictEqual(found.map((d) => [d.policyName, d.urn]), [["subnet-no-public-ip-on-launch", find(update, SUBNET, "cgap-public-1").urn]]);
    });

    it("fails the VPC when its flow log watches another VPC (EC2.6)", async () => {
        const other: StackResource = { type: VPC, name: "other", urn: "urn:pulumi:sandbox::cgap::aws:ec2/vpc:Vpc::other", props: { cidrBlock: "10.1.0.0/16" } };
        const stack = changed(update, FLOW_LOG, "cgap-flow-log", (r) => ({
            ...r,
            props: { ...r.props, vpcId: "vpc-0ther0000000000a" },
            propertyDependencies: { ...r.propertyDependencies, vpcId: [other.urn!] },
        }));
        const found = await judge([...stack, other]);
        // The flow log names the other VPC through propertyDependencies only (a made-up id by value):
        // it belongs to that one, and the stack's VPC has none.
        const urns = (policy: string) => found.filter((d) => d.policyName === policy).map((d) => d.urn);
        assert.deepStrictEqual(urns("vpc-flow-logs"), [find(update, VPC, "cgap-vpc").urn], listDiagnostics(found));
        // The other VPC is judged too: it kept AWS's default group.
        assert.deepStrictEqual(urns("vpc-default-security-group-closed"), [other.urn], listDiagnostics(found));
    });

    it("fails the VPC when its flow log, same VPC, records only accepted traffic (EC2.6)", async () => {
        const stack = changed(update, FLOW_LOG, "cgap-flow-log", (r) => ({ ...r, props: { ...r.props, trafficType: "ACCEPT" } }));
        assert.deepStrictEqual((await judge(stack)).map((d) => d.policyName), ["vpc-flow-logs"]);
    });

    it("fails the VPC when its default security group is given an egress rule (EC2.2), inline or as a rule resource of its own", async () => {
        const inline = changed(update, DEFAULT_SG, "cgap-default-sg", (r) => ({
            ...r,
            props: { ...r.props, egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] },
        }));
        const vpcUrn = find(update, VPC, "cgap-vpc").urn;
        const inlineFound = await judge(inline);
        assert.deepStrictEqual(inlineFound.map((d) => [d.policyName, d.urn]), [["vpc-default-security-group-closed", vpcUrn]]);
        assert.match(inlineFound[0].message, /has rules/);

        // The group declared closed, and a rule added to it as a resource of its own.
        const group = find(update, DEFAULT_SG, "cgap-default-sg");
        const rule: StackResource = {
            type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            name: "sneaky-egress",
            urn: "urn:pulumi:sandbox::cgap::aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::sneaky-egress",
            props: { securityGroupId: group.props.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
            propertyDependencies: { securityGroupId: [group.urn!] },
        };
        const separateFound = await judge([...update, rule]);
        assert.deepStrictEqual(separateFound.map((d) => [d.policyName, d.urn]), [["vpc-default-security-group-closed", vpcUrn]]);
        assert.match(separateFound[0].message, /sneaky-egress/);
    });

    it("fails the VPC when a rule is given to its default group through the VPC's defaultSecurityGroupId, and holds it for the update while that id is not known", async () => {
        const vpc = find(update, VPC, "cgap-vpc");
        const group = find(update, DEFAULT_SG, "cgap-default-sg");
        const rule = (props: Record<string, unknown>): StackResource => ({
            type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name: "via-vpc",
            urn: "urn:pulumi:sandbox::cgap::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::via-vpc",
            props: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.0.0.0/8", ...props },
            propertyDependencies: { securityGroupId: [vpc.urn!] },
        });
        const found = await judge([...update, rule({ securityGroupId: group.props.id })]);
        assert.deepStrictEqual(found.map((d) => d.policyName), ["vpc-default-security-group-closed"]);
        // In a first preview the value is unknown and made from the VPC: not passed, left to the update.
        const early = [...firstPreview, rule({ securityGroupId: UNKNOWN })];
        assert.deepStrictEqual(await judge(early), []);
        const check = complianceChecks.find((c) => c.name === "vpc-default-security-group-closed")!;
        const views = early.map((r) => ({ type: r.type, urn: r.urn!, name: r.name, props: r.props, propertyDependencies: r.propertyDependencies }));
        assert.deepStrictEqual(evaluate(check, views, {}, "sandbox").map((f) => f.verdict), ["unknown"]);
    });

    it("fails the VPC when the stack does not take its default security group over (EC2.2)", async () => {
        const stack = update.filter((r) => r.type !== DEFAULT_SG);
        assert.deepStrictEqual((await judge(stack)).map((d) => d.policyName), ["vpc-default-security-group-closed"]);
    });
});
