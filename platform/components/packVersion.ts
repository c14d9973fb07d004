// The version tag the cgap-rollout pack is published under, derived from its sources.
//
// pulumiservice.PolicyPack (pulumi/pulumi-pulumiservice v1.3.0, provider/pkg/resources/policy_pack.go)
// replaces the resource whenever a SHA-256 over the source directory changes (every entry's path,
// mode and content, skipping node_modules, .git and .pulumi), and a replacement publishes
// `versionTag` again. Pulumi Cloud refuses a version tag it has already seen (409, also for a
// deleted version), so the tag must change whenever that hash does: it ends in a hash taken over
// the same entries. A changed pack therefore publishes a new version, and the policy group, which
// names the version tag, moves to it in the same update.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Entries the provider leaves out of its hash (and npm pack out of the upload). */
const SKIPPED = new Set(["node_modules", ".git", ".pulumi"]);

/** SHA-256 (hex) over every entry under `dir`: relative path, mode, and content or link target. */
export function packSourceHash(dir: string): string {
    const hash = crypto.createHash("sha256");
    const walk = (relative: string): void => {
        const entries = fs.readdirSync(path.join(dir, relative), { withFileTypes: true });
        // The provider walks in lexical order (Go's filepath.WalkDir); so do we.
        for (const name of entries.map((e) => e.name).sort()) {
            if (SKIPPED.has(name)) {
                continue;
            }
            const rel = relative === "" ? name : `${relative}/${name}`;
            const full = path.join(dir, rel);
            const stat = fs.lstatSync(full);
            hash.update(`${rel}\0${stat.mode}\0`);
            if (stat.isSymbolicLink()) {
                hash.update(fs.readlinkSync(full));
            } else if (stat.isFile()) {
                hash.update(fs.readFileSync(full));
            } else if (stat.isDirectory()) {
                walk(rel);
            }
        }
    };
    walk("");
    return hash.digest("hex");
}

export interface PackManifest {
    /** The pack's name; policy/index.ts declares the same (a test checks). */
    name: string;
    version: string;
}

/** The pack's name and x.y.z version from its package.json. */
export function packManifest(dir: string): PackManifest {
    const file = path.join(dir, "package.json");
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
    if (typeof manifest.name !== "string" || manifest.name === "") {
        throw new Error(`${file}: "name" must be the policy pack's name, got ${JSON.stringify(manifest.name)}.`);
    }
    if (typeof manifest.version !== "string" || !/^\d+\.\d+\.\d+$/.test(manifest.version)) {
        throw new Error(`${file}: "version" must be x.y.z, got ${JSON.stringify(manifest.version)}.`);
    }
    return { name: manifest.name, version: manifest.version };
}

/**
 * `<package.json version>-h<first 12 hex digits of the source hash>`, e.g. `1.0.0-h3f9a0c2b7d41`:
 * a valid semver pre-release (the `h` keeps the identifier from being numeric) and a valid Pulumi
 * Cloud version tag (`^[a-zA-Z0-9-_.]{1,100}$`).
 */
export function packVersionTag(dir: string): string {
    return `${packManifest(dir).version}-h${packSourceHash(dir).slice(0, 12)}`;
}
