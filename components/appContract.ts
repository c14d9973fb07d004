// What this stack relies on in the app it deploys, read from the app's own sources at the version
// below: cgap-portal v15.6.0 (github.com/dbmi-bgm/cgap-portal), whose poetry.lock pins dcicutils
// 8.16.1 (github.com/4dn-dcic/utils) and dcicsnovault 11.19.0 (github.com/4dn-dcic/snovault).
// A new app version means reading those files again (docs/rolling-out.md, "Deploying a new cgap-portal
// version"); test/images/roles.spec.ts runs the role scripts against this table.

/** The cgap-portal release the role scripts, the ini template and the IAM grants were read from. */
export const APP_CONTRACT_VERSION = "v15.6.0";

/**
 * What S3 asks KMS for on the caller's behalf when a bucket uses SSE-KMS: Decrypt on GET, a data
 * key on PUT. The app never calls KMS itself (no kms client in cgap-portal v15.6.0, dcicsnovault
 * 11.19.0 storage.py passes SSEKMSKeyId to put_object only).
 */
export const KMS_S3_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"];

/** One app command as a role script runs it: the program and its arguments after `production.ini`. */
export interface AppCommand {
    command: string;
    args: string[];
}

const INI = ["production.ini", "--app-name", "app"];
const cmd = (command: string, ...args: string[]): AppCommand => ({ command, args: [...INI, ...args] });

/**
 * The deployment task's steps, from cgap-portal v15.6.0 deploy/docker/production/entrypoint_deployment.sh.
 * `ENV_NAME` and `IDENTITY` stand for the values the container has. Differences from the app's
 * script, each on purpose: the wipe is limited to the environment itself (`--only-if-env
 * <ENV_NAME>`, where the app names `cgap-supertest`) and runs on development stacks only (the
 * stack's cgap:environment decides, not the ecosystem file, hence the app's `--allow-prod`);
 * load-access-keys runs through images/load_access_keys.py, which hands it the stack's portal URL.
 */
export const DEPLOYMENT_STEPS: Readonly<Record<"initial" | "routine", readonly AppCommand[]>> = {
    initial: [
        // --allow-prod as the app's own script: 4dn-cloud-infra names every environment its own
        // prd_env_name, so without it the command refuses any wipe (images/entrypoint_deployment.sh).
        cmd("clear-db-es-contents", "--only-if-env", "ENV_NAME", "--allow-prod"),
        cmd("create-mapping-on-deploy", "--staggered"),
        cmd("load-data", "--prod"),
        cmd("load-access-keys", "--secret-name", "IDENTITY"),
    ],
    routine: [
        cmd("create-mapping-on-deploy", "--staggered"),
        // View configs and users are patched on every deploy: they must match the code (the app's comment).
        cmd("load-data-by-type", "--prod", "--overwrite", "--indir", "master-inserts", "--itype", "higlass_view_config"),
        cmd("load-data-by-type", "--prod", "--overwrite", "--indir", "master-inserts", "--itype", "user"),
        cmd("load-access-keys", "--secret-name", "IDENTITY"),
    ],
};

/** The long-running roles' commands (entrypoint_indexer.sh, entrypoint_ingester.sh, supervisord.conf). */
export const SERVICE_COMMANDS = {
    indexer: cmd("es-index-data"),
    ingester: cmd("ingestion-listener"),
    /** One per WSGI worker, `http_port=<port>` appended (supervisord.conf programs cgap1..cgap5). */
    wsgi: { command: "pserve", args: ["production.ini"] } as AppCommand,
} as const;

/**
 * WSGI workers as the app runs them (supervisord.conf and nginx.conf of v15.6.0): four on ports
 * 6543-6546 and a fifth, 6547, that nginx uses only as a backup.
 */
export const WSGI_PORTS = [6543, 6544, 6545, 6546, 6547] as const;
