import * as assert from "assert";
import { flowLogKeyPolicy } from "../../components/network";

describe("the flow log key of the VPC a stack creates (pure)", () => {
    it("lets CloudWatch Logs use the key for the flow log groups only, and the account administer it", () => {
        const [admin, logs] = JSON.parse(flowLogKeyPolicy("123456789012", "aws-us-gov", "us-gov-west-1", "/vpc/cgap-flow-logs-")).Statement;
        assert.deepStrictEqual(admin.Principal, { AWS: "arn:aws-us-gov:iam::123456789012:root" });
        assert.deepStrictEqual(logs.Principal, { Service: "logs.us-gov-west-1.amazonaws.com" });
        assert.ok(!logs.Action.includes("kms:*") && logs.Action.every((a: string) => /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|Describe)\*$/.test(a)), logs.Action.join(", "));
        assert.deepStrictEqual(logs.Condition, {
            ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:/vpc/cgap-flow-logs-*" },
        });
    });
});
