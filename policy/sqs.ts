// SQS compliance policy: the ingestion queue and its dead-letter queue.
import { ComplianceCheck, fail, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { isUnknown, knownBoolean, knownString } from "./props";

export const QUEUE_TYPE = "aws:sqs/queue:Queue";

/**
 * A stack check, on the queues' outputs: `sqsManagedSseEnabled` is computed by the provider
 * (SQS turns SSE-SQS on for a new queue that asks for no encryption), so the inputs alone cannot
 * tell an unset value from an encrypted queue.
 */
export const sqsEncryptedAtRest: ComplianceCheck = {
    name: "sqs-encrypted-at-rest",
    control: CONTROLS["SQS.1"],
    description: "SQS queues are encrypted at rest (SSE-SQS or SSE-KMS).",
    severity: "medium",
    remediation: "Set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.",
    types: [QUEUE_TYPE],
    scope: "stack",
    judge: (resources) =>
        resources.map((view) => {
            const managed = view.props.sqsManagedSseEnabled;
            const kms = view.props.kmsMasterKeyId;
            if (knownString(kms) || knownBoolean(managed) === true) {
                return pass(view, knownString(kms) ? "SSE-KMS" : "SSE-SQS");
            }
            if (isUnknown(managed) || isUnknown(kms)) {
                return unknown(view, "its encryption settings are not known yet; the update judges them");
            }
            return fail(view, `Queue "${view.name}" is not encrypted at rest. Set sqsManagedSseEnabled: true (or kmsMasterKeyId).`);
        }),
};

export const sqsChecks: ComplianceCheck[] = [sqsEncryptedAtRest];
