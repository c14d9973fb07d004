// `npm run preflight -- --stack <name> [--outputs <file>] [--region <region>]`
//
// Checks, with the operator's credentials, what IAM alone cannot give the app: use of the
// datastore's S3 KMS key. 4dn-cloud-infra's datastore.py (s3_encrypt_key) writes a key policy
// that names its deploying IAM user, its S3 IAM user and its ECS role, and has no statement for
// the account root: it does not delegate to IAM, so the task role's IAM grant
// (components/taskRoles.ts DatastoreKeyThroughS3) has no effect until the key policy (or a KMS
// grant) names the role too. Every bucket but the system bucket, the env files included, is
// encrypted with that key, so without it every role fails at start.
//
// Reads the key policy (kms:GetKeyPolicy) and the key's grants for the role (kms:ListGrants),
// decides whether the task role can Decrypt and GenerateDataKey through S3, and when it cannot,
// prints the exact key-policy statement to add. Exit 0: it can (or the stack names no key);
// 1: it cannot; 2: bad input; 3: AWS said no (e.g. the operator may not read the key policy).

import {
    GetKeyPolicyCommand,
    KMSClient,
    ListGrantsCommand,
    type GrantListEntry,
} from "@aws-sdk/client-kms";
import { KMS_S3_ACTIONS } from "../../components/appContract";
import { EXIT, runMain, type CommandSpec } from "../cli";
import { commandContext } from "./command";
import { type StackOutputs } from "./stackOutputs";

export interface PreflightInputs {
    stack: string;
    taskRoleArn: string;
    /** Undefined when the stack names no S3 KMS key (unencrypted buckets). */
    s3KmsKeyArn?: string;
}

export function readPreflightInputs(o: StackOutputs): PreflightInputs {
    return {
        stack: o.stack,
        taskRoleArn: o.string("appAccess.taskRoleArn"),
        s3KmsKeyArn: o.optionalString("appAccess.s3KmsKeyArn"),
    };
}

interface PolicyStatement {
    Sid?: string;
    Effect?: string;
    Principal?: unknown;
    NotPrincipal?: unknown;
    Action?: string | string[];
    NotAction?: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM action wildcard match (`kms:*`, `kms:GenerateDataKey*`), case-insensitive as IAM is. */
function actionMatches(pattern: string, action: string): boolean {
    const regex = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
    return regex.test(action);
}

/** `arn:aws:iam::<account>:role/<name>` (a path is allowed) -> account. */
function accountOf(roleArn: string): string | undefined {
    return /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}

/** Whether a statement's Principal names the role itself, or the account root (delegation to IAM). */
function principalReach(principal: unknown, roleArn: string): "role" | "account" | undefined {
    if (principal === "*") {
        return "role";
    }
    const aws = list((principal as { AWS?: string | string[] } | undefined)?.AWS);
    const account = accountOf(roleArn);
    if (aws.includes("*") || aws.includes(roleArn)) {
        return "role";
    }
    if (account !== undefined && (aws.includes(account) || aws.some((p) => /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(p) && p.includes(`::${account}:`)))) {
        return "account";
    }
    return undefined;
}

/**
 * Conditions the app's calls satisfy: the request comes through S3 in the region, from the
 * account. A statement with any other condition is not counted (it cannot be judged here).
 */
function conditionsHold(condition: PolicyStatement["Condition"], region: string, account: string | undefined): boolean {
    for (const [operator, entries] of Object.entries(condition ?? {})) {
        for (const [key, value] of Object.entries(entries)) {
            const values = list(value);
            const lower = key.toLowerCase();
            if (lower === "kms:viaservice" && /^String(Equals|Like)(IgnoreCase)?$/.test(operator)) {
                if (!values.some((v) => actionMatches(v, `s3.${region}.amazonaws.com`))) {
                    return false;
                }
            } else if (lower === "kms:calleraccount" && operator === "StringEquals") {
                if (account === undefined || !values.includes(account)) {
                    return false;
                }
            } else {
                return false;
            }
        }
    }
    return true;
}

export type KeyAccess =
    | { kind: "none" }
    | { kind: "ok"; how: string }
    | { kind: "missing"; statement: Record<string, unknown>; why: string };

/**
 * Whether the task role may use the key for the app's S3 calls: an Allow naming the role that
 * covers every action S3 asks for (or an Allow for the account root, which hands the decision to
 * the role's IAM policy, which grants exactly that), or a grant for the role; and no Deny naming it.
 */
export function judgeKeyAccess(options: {
    taskRoleArn: string;
    keyArn: string;
    region: string;
    policy: string;
    grants: GrantListEntry[];
}): KeyAccess {
    const { taskRoleArn, keyArn, region } = options;
    const account = accountOf(taskRoleArn);
    const statements = list((JSON.parse(options.policy) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement);
    const covers = (s: PolicyStatement, action: string) =>
        s.NotAction === undefined && list(s.Action).some((pattern) => actionMatches(pattern, action));

    const denied = statements.filter(
        (s) => s.Effect === "Deny" && principalReach(s.Principal, taskRoleArn) && KMS_S3_ACTIONS.some((a) => covers(s, a)),
    );
    const allowedBy = (action: string) =>
        statements.find(
            (s) =>
                s.Effect === "Allow" &&
                principalReach(s.Principal, taskRoleArn) !== undefined &&
                covers(s, action) &&
                conditionsHold(s.Condition, region, account),
        );
    const granted = (action: string) =>
        options.grants.find(
            (g) => g.GranteePrincipal === taskRoleArn && list(g.Operations).some((op) => op === action.replace(/^kms:/, "")),
        );
    const statement = {
        Sid: "AllowCgapTaskRoleThroughS3",
        Effect: "Allow",
        Principal: { AWS: taskRoleArn },
        Action: KMS_S3_ACTIONS,
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    };
    if (denied.length > 0) {
        return {
            kind: "missing",
            statement,
            why: `the key policy denies it (${denied.map((s) => s.Sid ?? "a statement without Sid").join(", ")}); remove that Deny, then`,
        };
    }
    const how: string[] = [];
    const lacking: string[] = [];
    for (const action of KMS_S3_ACTIONS) {
        const allow = allowedBy(action);
        const grant = granted(action);
        if (allow !== undefined) {
            how.push(
                `${action}: key policy statement ${allow.Sid ?? "(no Sid)"}` +
                    (principalReach(allow.Principal, taskRoleArn) === "account" ? " (delegates to IAM: the task role's DatastoreKeyThroughS3)" : ""),
            );
        } else if (grant !== undefined) {
            how.push(`${action}: grant ${grant.GrantId ?? grant.Name ?? "(unnamed)"}`);
        } else {
            lacking.push(action);
        }
    }
    if (lacking.length > 0) {
        return {
            kind: "missing",
            statement,
            why: `neither the key policy of ${keyArn} nor a grant lets ${taskRoleArn} use ${lacking.join(", ")} (the key policy does not delegate to IAM, so the role's own grant is not enough)`,
        };
    }
    return { kind: "ok", how: how.join("; ") };
}

export async function checkKeyAccess(inputs: PreflightInputs, kms: KMSClient, region: string): Promise<KeyAccess> {
    if (inputs.s3KmsKeyArn === undefined) {
        return { kind: "none" };
    }
    const [policy, grants] = await Promise.all([
        kms.send(new GetKeyPolicyCommand({ KeyId: inputs.s3KmsKeyArn, PolicyName: "default" })),
        listGrants(kms, inputs.s3KmsKeyArn, inputs.taskRoleArn),
    ]);
    return judgeKeyAccess({
        taskRoleArn: inputs.taskRoleArn,
        keyArn: inputs.s3KmsKeyArn,
        region,
        policy: policy.Policy ?? "{}",
        grants,
    });
}

async function listGrants(kms: KMSClient, keyId: string, grantee: string): Promise<GrantListEntry[]> {
    const grants: GrantListEntry[] = [];
    let marker: string | undefined;
    do {
        const page = await kms.send(new ListGrantsCommand({ KeyId: keyId, GranteePrincipal: grantee, Marker: marker }));
        grants.push(...(page.Grants ?? []));
        marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return grants;
}

export function renderKeyAccess(inputs: PreflightInputs, access: KeyAccess): string {
    switch (access.kind) {
        case "none":
            return `stack ${inputs.stack}: names no S3 KMS key (cgap:s3KmsKeyArn); nothing to check`;
        case "ok":
            return `stack ${inputs.stack}: the task role ${inputs.taskRoleArn} can use the S3 KMS key ${inputs.s3KmsKeyArn} through S3 (${access.how})`;
        case "missing":
            return [
                `stack ${inputs.stack}: the task role CANNOT use the S3 KMS key ${inputs.s3KmsKeyArn}: ${access.why}`,
                "Every role would fail at start (the env files and the data buckets are encrypted with this key).",
                "Add this statement to the key policy (AWS console: KMS -> the key -> Key policy -> Edit, or",
                "`aws kms put-key-policy --policy-name default`; in 4dn-cloud-infra, datastore.py s3_encrypt_key):",
                JSON.stringify(access.statement, null, 2),
            ].join("\n");
    }
}

export const SPEC: CommandSpec = {
    name: "preflight",
    summary:
        "Checks, with your AWS credentials, that the stack's task role can use the datastore's S3 KMS key\n" +
        "(cgap:s3KmsKeyArn), which its key policy has to allow: IAM alone cannot. Exit 0: it can, or no\n" +
        "key is configured; 1: it cannot (the statement to add is printed); 2: bad input; 3: AWS refused.",
};

export async function main(argv: string[]): Promise<number> {
    const context = await commandContext(argv, SPEC);
    if (context === undefined) {
        return EXIT.ok;
    }
    const inputs = readPreflightInputs(context.outputs);
    const region = context.region;
    const kms = new KMSClient({ region });
    try {
        const access = await checkKeyAccess(inputs, kms, await kms.config.region());
        process.stdout.write(`${renderKeyAccess(inputs, access)}\n`);
        return access.kind === "missing" ? EXIT.findings : EXIT.ok;
    } finally {
        kms.destroy();
    }
}

if (require.main === module) {
    void runMain(SPEC.name, () => main(process.argv.slice(2)));
}
