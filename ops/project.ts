// What the project is called and where it lives on disk, for every ops/ module: the commands may be
// started from any working directory (npm runs them from the root, Deployments and tests from elsewhere).
import * as path from "node:path";

/** The repository root: the portal's Pulumi project directory, holding its stack files. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** The policy pack (`--policy-pack policy`), with its own package.json. */
export const POLICY_PACK_DIR = path.join(PROJECT_DIR, "policy");

/** The Pulumi project name of this repository's program (Pulumi.yaml). */
export const PROJECT = "cgap";
