import * as assert from "node:assert/strict";
import { GetKeyPolicyCommand, KMSClient, ListGrantsCommand, type GrantListEntry } from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { describeError, EXIT } from "../../ops/cli";
import { judgeKeyAccess, main, readPreflightInputs, renderKeyAccess } from "../../ops/aws/preflight";
import { StackOutputs } from "../../ops/aws/stackOutputs";
import { ACCOUNT, REGION, sampleOutputs, writeOutputsFile } from "./fixtures";

const TASK_ROLE = `arn:aws:iam::${ACCOUNT}:role/cgap-roles-task-1a2b3c4`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`;

/**
 * The key policy 4dn-cloud-infra's datastore.py s3_encrypt_key writes: full use for the
 * deploying IAM user, the five usage actions for its S3 IAM user and its ECS role, and no
 * statement for the account root, so IAM policies alone grant nothing on this key.
 */
function infraKeyPolicy(extra: object[] = []): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Enable Admin IAM Policies",
                Effect: "Allow",
                Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/deployer`] },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "Allow use of the key",
                Effect: "Allow",
                Principal: {
                    AWS: [`arn:aws:iam::${ACCOUNT}:user/c4-iam-main-stack-S3IAMUser`, `arn:aws:iam::${ACCOUNT}:role/c4-iam-main-stack-ECSAssumedIAMRole`],
                },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: "*",
            },
            ...extra,
        ],
    });
}

const judge = (policy: string, grants: GrantListEntry[] = []) => judgeKeyAccess({ taskRoleArn: TASK_ROLE, keyArn: KEY, region: REGION, policy, grants });

const ADDED = {
    Sid: "AllowCgapTaskRoleThroughS3",
    Effect: "Allow",
    Principal: { AWS: TASK_ROLE },
    Action: ["kms:Decrypt", "kms:GenerateDataKey"],
    Resource: "*",
    Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
};

describe("preflight: can the task role use the datastore's S3 KMS key", () => {
    it("says no for 4dn-cloud-infra's key policy as written, and gives the statement to add", () => {
        const access = judge(infraKeyPolicy());
        assert.equal(access.kind, "missing");
        if (access.kind !== "missing") {
            return;
        }
        assert.match(access.why, /lets arn:aws:iam::123456789012:role\/cgap-roles-task-1a2b3c4 use kms:Decrypt, kms:GenerateDataKey \(the key policy does not delegate to IAM/);
        assert.deepEqual(access.statement, ADDED);
    });

    it("says yes once that statement is in the key policy", () => {
        const access = judge(infraKeyPolicy([ADDED]));
        assert.deepEqual(access, {
            kind: "ok",
            how: "kms:Decrypt: key policy statement AllowCgapTaskRoleThroughS3; kms:GenerateDataKey: key policy statement AllowCgapTaskRoleThroughS3",
        });
    });

    it("says yes when the key policy delegates to IAM (the account root), where the role's own grant applies", () => {
        const root = { Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" };
        const access = judge(infraKeyPolicy([root]));
        assert.equal(access.kind, "ok");
        assert.match(access.kind === "ok" ? access.how : "", /delegates to IAM: the task role's DatastoreKeyThroughS3/);
        // Another account's root is not a delegation for this role.
        const other = { ...root, Principal: { AWS: "arn:aws:iam::210987654321:root" } };
        assert.equal(judge(infraKeyPolicy([other])).kind, "missing");
    });

    it("says yes for a KMS grant to the role with both operations, and no for one with Decrypt only", () => {
        const grant = (ops: string[]): GrantListEntry => ({ GrantId: "g-1", GranteePrincipal: TASK_ROLE, Operations: ops as GrantListEntry["Operations"] });
        assert.equal(judge(infraKeyPolicy(), [grant(["Decrypt", "GenerateDataKey"])]).kind, "ok");
        const partial = judge(infraKeyPolicy(), [grant(["Decrypt"])]);
        assert.equal(partial.kind, "missing");
        assert.match(partial.kind === "missing" ? partial.why : "", /use kms:GenerateDataKey \(/);
    });

    it("does not count a statement for another service or under a condition it cannot judge", () => {
        const viaEc2 = { ...ADDED, Condition: { StringEquals: { "kms:ViaService": "ec2.us-east-1.amazonaws.com" } } };
        assert.equal(judge(infraKeyPolicy([viaEc2])).kind, "missing");
        const fromIp = { ...ADDED, Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } };
        assert.equal(judge(infraKeyPolicy([fromIp])).kind, "missing");
        const otherRole = { ...ADDED, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/someone-else` } };
        assert.equal(judge(infraKeyPolicy([otherRole])).kind, "missing");
        const encryptOnly = { ...ADDED, Action: ["kms:Encrypt"] };
        assert.equal(judge(infraKeyPolicy([encryptOnly])).kind, "missing");
    });

    it("counts wildcard actions as IAM does (kms:GenerateDataKey*, kms:*)", () => {
        assert.equal(judge(infraKeyPolicy([{ ...ADDED, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] }])).kind, "ok");
        assert.equal(judge(infraKeyPolicy([{ ...ADDED, Action: "kms:*" }])).kind, "ok");
    });

    it("says no when a Deny names the role, whatever allows it", () => {
        const deny = { Sid: "NoTasks", Effect: "Deny", Principal: { AWS: TASK_ROLE }, Action: "kms:Decrypt", Resource: "*" };
        const access = judge(infraKeyPolicy([ADDED, deny]));
        assert.equal(access.kind, "missing");
        assert.match(access.kind === "missing" ? access.why : "", /the key policy denies it \(NoTasks\)/);
    });

    it("prints the statement to add as JSON, naming the key, the role and why every role would fail", () => {
        const inputs = { stack: "production", taskRoleArn: TASK_ROLE, s3KmsKeyArn: KEY };
        const text = renderKeyAccess(inputs, judge(infraKeyPolicy()));
        assert.match(text, /^stack production: the task role CANNOT use the S3 KMS key arn:aws:kms:/);
        assert.deepEqual(JSON.parse(text.slice(text.indexOf("{"))), ADDED);
    });

    describe("npm run preflight (main, against stubbed KMS)", () => {
        const kmsMock = mockClient(KMSClient);
        afterEach(() => kmsMock.reset());
        const outputs = (s3KmsKeyArn: string) => ({ ...sampleOutputs(), appAccess: { taskRoleArn: TASK_ROLE, globalEnvBucket: "envs", s3KmsKeyArn } });
        let written = "";
        const capture = async (argv: string[]) => {
            const write = process.stdout.write.bind(process.stdout);
            written = "";
            process.stdout.write = ((chunk: string) => ((written += chunk), true)) as typeof process.stdout.write;
            try {
                return await main(argv);
            } finally {
                process.stdout.write = write;
            }
        };

        it("exits 1 when the key policy does not let the role in, having asked for the policy and the role's grants", async () => {
            kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: infraKeyPolicy() });
            kmsMock.on(ListGrantsCommand).resolves({ Grants: [], Truncated: false });
            const code = await capture(["--stack", "production", "--outputs", writeOutputsFile(outputs(KEY))]);
            assert.equal(code, EXIT.findings);
            assert.match(written, /CANNOT use the S3 KMS key/);
            assert.deepEqual(kmsMock.commandCalls(GetKeyPolicyCommand)[0].args[0].input, { KeyId: KEY, PolicyName: "default" });
            assert.deepEqual(kmsMock.commandCalls(ListGrantsCommand)[0].args[0].input, { KeyId: KEY, GranteePrincipal: TASK_ROLE, Marker: undefined });
        });

        it("exits 0 when it can", async () => {
            kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: infraKeyPolicy([ADDED]) });
            kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
            assert.equal(await capture(["--stack", "production", "--outputs", writeOutputsFile(outputs(KEY))]), EXIT.ok);
            assert.match(written, /can use the S3 KMS key/);
        });

        it("exits 0 without asking KMS when the stack names no key", async () => {
            assert.equal(await capture(["--stack", "mastertest", "--outputs", writeOutputsFile(outputs(""))]), EXIT.ok);
            assert.match(written, /names no S3 KMS key/);
            assert.equal(kmsMock.calls().length, 0);
        });

        it("maps an operator who may not read the key policy to exit 3, naming the error", async () => {
            const denied = Object.assign(new Error("User is not authorized to perform: kms:GetKeyPolicy"), {
                name: "AccessDeniedException",
                $metadata: { httpStatusCode: 400 },
            });
            kmsMock.on(GetKeyPolicyCommand).rejects(denied);
            kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
            await assert.rejects(capture(["--stack", "production", "--outputs", writeOutputsFile(outputs(KEY))]), (err) => {
                const { message, exitCode } = describeError(err);
                return exitCode === EXIT.aws && /AccessDeniedException: User is not authorized to perform: kms:GetKeyPolicy/.test(message);
            });
        });

        it("reads the task role and key from the stack's appAccess output", () => {
            const inputs = readPreflightInputs(new StackOutputs("production", outputs(KEY)));
            assert.deepEqual(inputs, { stack: "production", taskRoleArn: TASK_ROLE, s3KmsKeyArn: KEY });
        });
    });
});
