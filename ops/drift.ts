// A `latest*` tag in ECR that points somewhere other than what its role runs: someone pushed it by
// hand (the old Makefile process still does), or a rollout stopped after the push. The stack does
// not follow such a tag; `npm run check` and `npm run info` say what it means.
import { Role } from "../components/roles";

export interface TagDrift {
    role: Role;
    tag: string;
    /** What the tag points at in ECR. */
    ecrDigest: string;
    /** What the role's task definition runs. */
    runningDigest: string;
}

export function shortDigest(digest: string | undefined): string {
    if (digest === undefined) {
        return "-";
    }
    const m = digest.match(/^sha256:([0-9a-f]{12})/);
    return m ? `sha256:${m[1]}` : digest;
}

/** One warning line: the tag, both digests, and what leaving the role out or rolling it out does. */
export function driftWarning(drift: TagDrift): string {
    const ecr = shortDigest(drift.ecrDigest);
    const running = shortDigest(drift.runningDigest);
    return (
        `warning: ${drift.tag} in ECR is ${ecr} but ${drift.role} runs ${running}: the tag moved outside this stack. ` +
        `Left out of cgap:rollout, ${drift.role} keeps running ${running}; a rollout that includes ${drift.role} ` +
        `builds cgap:appVersion anew and pushes it over ${drift.tag}, so ${drift.role} would run that new build, ` +
        `never ${ecr}.`
    );
}
