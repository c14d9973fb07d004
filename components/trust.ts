import * as pulumi from "@pulumi/pulumi";

/**
 * The trust policy of a role an AWS service assumes on this account's behalf: `service` may assume
 * it for this account's resources only (aws:SourceAccount, the confused-deputy guard AWS
 * recommends for service roles).
 */
export function serviceTrustPolicy(service: string, accountId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: service },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    });
}
