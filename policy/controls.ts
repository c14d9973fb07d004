// The controls the compliance policies mirror, as AWS Security Hub names them.
//
// Ids, titles, severities, resource types and parameters were checked against AWS's Security Hub
// control reference in December 2026: the "Security Hub CSPM controls for <service>" pages under
// docs.aws.amazon.com/securityhub/latest/userguide/ (<service>-controls.html), and the list of
// controls that apply to the AWS Foundational Security Best Practices standard v1.0.0
// (fsbp-standard.html). ECS.1 ("secure networking modes and user definitions") was retired in
// March 2026; what it covered is now ECS.4 (privileged), ECS.17 (host network mode) and ECS.20
// (non-root user). A control's label is the standard it belongs to: FSBP where fsbp-standard.html
// lists it; otherwise NIST SP 800-53 Rev. 5 where its page relates it to NIST 800-53 requirements
// (ECS.17, ECR.5, ELB.16, CloudWatch.15, CloudWatch.16); ECS.20 is in neither and lists no
// requirement, so it is labelled as a Security Hub control only. Security Hub has no control for
// KMS-encrypted log groups, so that policy cites the Checkov rule that checks it.

export type Standard = "FSBP" | "NIST 800-53" | "Security Hub" | "Checkov";

export interface Control {
    /** The control id, e.g. `ECS.8` (Security Hub) or `CKV_AWS_158` (Checkov). */
    id: string;
    standard: Standard;
    /** The control's title, as its owner words it. */
    title: string;
    /** The control's documentation. */
    url: string;
}

function securityHub(id: string, standard: Standard, title: string): Control {
    const [service, number] = id.split(".");
    const page = service.toLowerCase();
    return {
        id,
        standard,
        title,
        url: `https://docs.aws.amazon.com/securityhub/latest/userguide/${page}-controls.html#${page}-${number}`,
    };
}

export const CONTROLS = {
    "ECS.2": securityHub("ECS.2", "FSBP", "ECS services should not have public IP addresses assigned to them automatically"),
    "ECS.3": securityHub("ECS.3", "FSBP", "ECS task definitions should not share the host's process namespace"),
    "ECS.4": securityHub("ECS.4", "FSBP", "ECS containers should run as non-privileged"),
    "ECS.5": securityHub("ECS.5", "FSBP", "ECS task definitions should configure containers to be limited to read-only access to root filesystems"),
    "ECS.8": securityHub("ECS.8", "FSBP", "Secrets should not be passed as container environment variables"),
    "ECS.9": securityHub("ECS.9", "FSBP", "ECS task definitions should have a logging configuration"),
    "ECS.10": securityHub("ECS.10", "FSBP", "ECS Fargate services should run on the latest Fargate platform version"),
    "ECS.12": securityHub("ECS.12", "FSBP", "ECS clusters should use Container Insights"),
    "ECS.16": securityHub("ECS.16", "FSBP", "ECS task sets should not automatically assign public IP addresses"),
    "ECS.17": securityHub("ECS.17", "NIST 800-53", "ECS task definitions should not use host network mode"),
    "ECS.20": securityHub("ECS.20", "Security Hub", "ECS Task Definitions should configure non-root users in Linux container definitions"),
    "ECR.1": securityHub("ECR.1", "FSBP", "ECR private repositories should have image scanning configured"),
    "ECR.2": securityHub("ECR.2", "FSBP", "ECR private repositories should have tag immutability configured"),
    "ECR.3": securityHub("ECR.3", "FSBP", "ECR repositories should have at least one lifecycle policy configured"),
    "ECR.5": securityHub("ECR.5", "NIST 800-53", "ECR repositories should be encrypted with customer managed AWS KMS keys"),
    "ELB.1": securityHub("ELB.1", "FSBP", "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS"),
    "ELB.4": securityHub("ELB.4", "FSBP", "Application Load Balancer should be configured to drop invalid http headers"),
    "ELB.5": securityHub("ELB.5", "FSBP", "Application and Classic Load Balancers logging should be enabled"),
    "ELB.6": securityHub("ELB.6", "FSBP", "Application, Gateway, and Network Load Balancers should have deletion protection enabled"),
    "ELB.17": securityHub("ELB.17", "FSBP", "Application and Network Load Balancers with listeners should use recommended security policies"),
    "ELB.18": securityHub("ELB.18", "FSBP", "Application and Network Load Balancer listeners should use secure protocols to encrypt data in transit"),
    "ELB.16": securityHub("ELB.16", "NIST 800-53", "Application Load Balancers should be associated with an AWS WAF web ACL"),
    "EC2.18": securityHub("EC2.18", "FSBP", "Security groups should only allow unrestricted incoming traffic for authorized ports"),
    "EC2.19": securityHub("EC2.19", "FSBP", "Security groups should not allow unrestricted access to ports with high risk"),
    "EC2.2": securityHub("EC2.2", "FSBP", "VPC default security groups should not allow inbound or outbound traffic"),
    "EC2.6": securityHub("EC2.6", "FSBP", "VPC flow logging should be enabled in all VPCs"),
    "EC2.15": securityHub("EC2.15", "FSBP", "EC2 subnets should not automatically assign public IP addresses"),
    "SQS.1": securityHub("SQS.1", "FSBP", "Amazon SQS queues should be encrypted at rest"),
    "IAM.1": securityHub("IAM.1", "FSBP", 'IAM policies should not allow full "*" administrative privileges'),
    "CloudWatch.15": securityHub("CloudWatch.15", "NIST 800-53", "CloudWatch alarms should have specified actions configured"),
    "CloudWatch.16": securityHub("CloudWatch.16", "NIST 800-53", "CloudWatch log groups should be retained for a specified time period"),
    CKV_AWS_158: {
        id: "CKV_AWS_158",
        standard: "Checkov",
        title: "Ensure that CloudWatch Log Group is encrypted by KMS",
        url: "https://www.checkov.io/5.Policy%20Index/all.html",
    },
} as const satisfies Record<string, Control>;

export type ControlId = keyof typeof CONTROLS;

/** How a diagnostic cites its control: `[FSBP ECS.2]`, `[NIST 800-53 ELB.16]`, `[Checkov CKV_AWS_158]`. */
export function citation(control: Control): string {
    return `[${control.standard} ${control.id}]`;
}
