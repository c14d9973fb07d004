// CloudWatch Logs compliance policies: the log group every container writes to.
import { ComplianceCheck, fail, pass, unknown } from "./compliance";
import { CONTROLS } from "./controls";
import { isMissing, isUnknown, knownString } from "./props";

export const LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup";

/** CloudWatch.16's Config rule (cw-loggroup-retention-period-check) default: 365 days. */
export const DEFAULT_MIN_RETENTION_DAYS = 365;

export const logGroupRetention: ComplianceCheck = {
    name: "log-group-retention",
    control: CONTROLS["CloudWatch.16"],
    description: `Log groups keep their events at least minRetentionDays (default ${DEFAULT_MIN_RETENTION_DAYS}), or never expire them.`,
    severity: "medium",
    remediation: `Set retentionInDays to at least ${DEFAULT_MIN_RETENTION_DAYS} (or leave it unset: never expire).`,
    types: [LOG_GROUP_TYPE],
    scope: "resource",
    settings: {
        // CloudWatch.16's minRetentionTime takes 365 (its default), 400, 545, 731, 1827 or 3653
        // days: a shorter minimum here would pass what Security Hub fails, with no reason on record.
        minRetentionDays: {
            type: "integer",
            minimum: 365,
            default: DEFAULT_MIN_RETENTION_DAYS,
            description: "The shortest retention that passes (CloudWatch.16's MinRetentionTime).",
        },
    },
    judge: (resources, settings) =>
        resources.map((view) => {
            const days = view.props.retentionInDays;
            const minimum = settings.minRetentionDays as number;
            if (isUnknown(days)) {
                return unknown(view, "retentionInDays is not known yet; the update judges it");
            }
            if (isMissing(days) || Number(days) === 0) {
                return pass(view, "events never expire");
            }
            return Number(days) >= minimum
                ? pass(view, `retention ${days} days`)
                : fail(view, `Log group "${view.name}" keeps its events ${days} days, less than ${minimum}. Set retentionInDays to at least ${minimum}.`);
        }),
};

export const logGroupKms: ComplianceCheck = {
    name: "log-group-kms-encrypted",
    control: CONTROLS.CKV_AWS_158,
    description: "Log groups are encrypted with a customer managed KMS key (Security Hub has no control for this; Checkov's CKV_AWS_158 checks it).",
    severity: "medium",
    remediation:
        "Set kmsKeyId to a customer managed KMS key whose key policy lets the logs.<region>.amazonaws.com service principal use it for this log group.",
    types: [LOG_GROUP_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((view) => {
            const key = view.props.kmsKeyId;
            if (isUnknown(key)) {
                return unknown(view, "kmsKeyId is not known yet; the update judges it");
            }
            return knownString(key)
                ? pass(view)
                : fail(view, `Log group "${view.name}" is encrypted with CloudWatch Logs' own key, not a KMS key. Set kmsKeyId to a customer managed key.`);
        }),
};

export const METRIC_ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";

// CloudWatch.15, "CloudWatch alarms should have specified actions configured"
// (https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-15),
// evaluated by AWS Config's cloudwatch-alarm-action-check
// (https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html):
// NON_COMPLIANT when the alarm has no action for the ALARM state (alarmActionRequired). Security
// Hub runs it with insufficientDataActionRequired and okActionRequired off, so only alarmActions counts.
export const alarmHasActions: ComplianceCheck = {
    name: "alarm-has-actions",
    control: CONTROLS["CloudWatch.15"],
    description: "Every CloudWatch alarm does something when it fires (an action for the ALARM state).",
    severity: "high",
    remediation:
        "Give the alarm alarmActions (an SNS topic, a scaling policy); an alarm read by something else (an ECS deployment's rollback " +
        "alarms) needs an accepted exception naming it, with the reason.",
    types: [METRIC_ALARM_TYPE],
    scope: "resource",
    judge: (resources) =>
        resources.map((alarm) => {
            const actions = alarm.props.alarmActions;
            if (isUnknown(actions) || (Array.isArray(actions) && actions.some(isUnknown))) {
                return unknown(alarm, "alarmActions is not known yet; the update judges it");
            }
            return Array.isArray(actions) && actions.length > 0
                ? pass(alarm, `${actions.length} action${actions.length === 1 ? "" : "s"} in ALARM state`)
                : fail(alarm, `Alarm "${alarm.name}" has no action for its ALARM state. Give it alarmActions (an SNS topic, a scaling policy).`);
        }),
};

export const logChecks: ComplianceCheck[] = [logGroupRetention, logGroupKms, alarmHasActions];
