// What a reviewer needs to tell one archived compliance report from another: when it was made, from
// which commit (and whether the work tree had changes), with which pack and policy config (hashed by
// content, so a renamed or moved file changes nothing and an edited one cannot hide), the run's
// arguments, and that it ran offline: under mocks, with placeholder account values.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface Provenance {
    /** ISO 8601, UTC. */
    generatedAt: string;
    /** null outside a git checkout. */
    git: { commit: string; dirty: boolean; repositoryUri: string | null } | null;
    pack: { name: string; version: string; sha256: string };
    policyConfig: { file: string | null; sha256: string };
    arguments: { stack: string; rollout: string | null; targets: string[]; update: boolean; format: string };
    offline: { underMocks: true; placeholderAccount: string; registry: "placeholder" | "given" };
}

function git(cwd: string, ...args: string[]): string | null {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return null;
    }
}

export function gitState(cwd: string): Provenance["git"] {
    const commit = git(cwd, "rev-parse", "HEAD");
    if (commit === null) {
        return null;
    }
    const remote = git(cwd, "remote", "get-url", "origin");
    // A CI checkout (GitHub Actions) names its repository in the environment even without a remote.
    const actions = process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}` : null;
    return { commit, dirty: (git(cwd, "status", "--porcelain") ?? "") !== "", repositoryUri: (remote ? httpsUri(remote) : null) ?? actions };
}

/** `git@github.com:o/r.git` and `https://…/o/r.git` as the https URI SARIF's repositoryUri wants. */
export function httpsUri(remote: string): string | null {
    const scp = /^[\w.-]+@([\w.-]+):(.+?)(\.git)?$/.exec(remote);
    if (scp) {
        return `https://${scp[1]}/${scp[2]}`;
    }
    return /^https?:\/\//.test(remote) ? remote.replace(/\.git$/, "").replace(/\/\/[^@/]+@/, "//") : null;
}

/** The pack's source as the pack runs it: every file it ships (its .ts and .js, manifests), in path order. */
export function packHash(packDir: string): string {
    const hash = createHash("sha256");
    const walk = (dir: string): string[] =>
        fs
            .readdirSync(dir, { withFileTypes: true })
            .filter((e) => e.name !== "node_modules" && !e.name.startsWith("."))
            .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
            .sort();
    for (const file of walk(packDir)) {
        hash.update(path.relative(packDir, file).split(path.sep).join("/")).update("\0").update(fs.readFileSync(file)).update("\0");
    }
    return hash.digest("hex");
}

/** The config's content with keys in order: the same settings hash the same whatever file or layout they came from. */
export function configHash(config: unknown): string {
    const canonical = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(canonical)
            : v !== null && typeof v === "object"
              ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
              : v;
    return createHash("sha256").update(JSON.stringify(canonical(config))).digest("hex");
}

/** What the report judges nothing of, and why: so that a missing row reads as "not applicable", never as a silent pass. */
export interface NotApplicable {
    /** The policy (for a control with no resource in scope) or the part of the estate (network, repository, ingestionQueue). */
    subject: string;
    control: string | null;
    reason: string;
}

/**
 * Controls of the pack that judged no resource of this stack (their resource types are absent), and
 * what the stack takes from the estate instead of creating: those are the estate's to judge, in
 * the stack that owns them, and appear here rather than as passes.
 */
export function notApplicableRows(
    checks: ReadonlyArray<{ name: string; control?: { id: string }; types: readonly string[] }>,
    judged: ReadonlyArray<{ policy: string }>,
    origins: { [part: string]: ReadonlyArray<{ from: string; stack?: string; keys?: string[]; exports?: string[] }> },
): NotApplicable[] {
    const rows: NotApplicable[] = checks
        .filter((c) => !judged.some((r) => r.policy === c.name))
        .map((c) => ({ subject: c.name, control: c.control?.id ?? null, reason: `no resource of type ${c.types.join(" or ")} in this stack` }));
    for (const [part, list] of Object.entries(origins)) {
        for (const o of list.filter((x) => x.from !== "created")) {
            rows.push({
                subject: part,
                control: null,
                reason:
                    o.from === "exports"
                        ? `owned by the estate's stack ${o.stack} (exports ${(o.exports ?? []).join(", ")}); judged there, not here`
                        : `given by the stack's config (${(o.keys ?? []).join(", ")}); created and judged outside this stack`,
            });
        }
    }
    return rows;
}
