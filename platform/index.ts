// The platform that runs the portal's stacks: the cgap-rollout pack and the preventative policy
// group in Pulumi Cloud, and Pulumi Deployments for every portal stack. One `pulumi up` here
// stands them up; this project's own stack config says where (organization, repository, roles).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ownKeys, parseStackConfig } from "../components/config";
import { committedStackNames, projectName, readStackConfig } from "../ops/offline/stackFiles";
import {
    groupPolicyConfig,
    parsePlatformConfig,
    PLATFORM_NAMESPACE,
    POLICY_CONFIG_FILE,
    PortalStack,
} from "./components/config";
import { packManifest, packVersionTag } from "./components/packVersion";
import { PolicyGate } from "./components/policyGate";
import { StackDeployments } from "./components/stackDeployments";

/** The portal's project: the repository root. */
const PORTAL_DIR = path.resolve(__dirname, "..");
const PACK_DIR = path.join(PORTAL_DIR, "policy");

const project = projectName(PORTAL_DIR);
const portalStacks: Record<string, PortalStack> = Object.fromEntries(
    committedStackNames(PORTAL_DIR).map((stack) => [
        stack,
        { environment: parseStackConfig(ownKeys(readStackConfig(stack, PORTAL_DIR, project))).environment },
    ]),
);
const config = parsePlatformConfig(ownKeys(pulumi.runtime.allConfig(), PLATFORM_NAMESPACE), portalStacks);
const packConfig = groupPolicyConfig(
    POLICY_CONFIG_FILE,
    JSON.parse(fs.readFileSync(path.join(PORTAL_DIR, POLICY_CONFIG_FILE), "utf8")),
);

const gate = new PolicyGate("cgap", {
    organization: config.organization,
    packName: packManifest(PACK_DIR).name,
    packDir: PACK_DIR,
    versionTag: packVersionTag(PACK_DIR),
    packConfig,
    groupName: "cgap-portal",
    project,
    stacks: config.stacks.map((s) => s.name),
});

for (const stack of config.stacks) {
    new StackDeployments(stack.name, {
        organization: config.organization,
        project,
        stack: stack.name,
        repository: config.repository,
        branch: config.branch,
        deployOnMerge: stack.deployOnMerge,
        awsRoleArn: stack.awsRoleArn,
        production: stack.production,
    });
}

export const policyPack = { name: gate.pack.name, versionTag: gate.pack.versionTag };
export const policyGroup = gate.group.name;
/** Per portal stack: how Pulumi Deployments starts an update of it. */
export const deployments = Object.fromEntries(
    config.stacks.map((s) => [s.name, s.deployOnMerge ? "on merge to " + config.branch : "on demand only"]),
);
