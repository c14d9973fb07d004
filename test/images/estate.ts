// The estate's data as its owners write it, for the images/ tests. Each fixture names the
// repository, file and commit it was read from; the values a stack supplies at creation (names,
// prefixes, endpoints) are the ones that code computes for the environment cgap-mastertest with
// no S3 bucket org, and every key it sets to None is the placeholder it writes instead.
// Secret-looking values that an operator supplies are stand-ins and say so.

/** 4dn-cloud-infra's CONFIGURATION_PLACEHOLDER (src/parts/datastore.py, application_configuration_secrets.py). */
export const PLACEHOLDER = "XXX: ENTER VALUE";

export const ENV_NAME = "cgap-mastertest";
export const IDENTITY = "C4DatastoreCgapMastertestApplicationConfiguration";

/** What the search domain's endpoint looks like (4dn-cloud-infra docs/source/deploy_new_account.rst). */
const ES_SERVER = "vpc-os-cgap-mastertest-a1b2c3d4e5f6.us-east-1.es.amazonaws.com:443";

/**
 * The application configuration secret as the datastore stack writes it today:
 * 4dn-dcic/4dn-cloud-infra src/parts/application_configuration_secrets.py,
 * ApplicationConfigurationSecrets.build_initial_values, at commit 14d9c29 (main, August 2024,
 * v4.2.0 + 14). Bucket prefixes from src/base.py _resolve_bucket_name at the same commit
 * (`<env>-application-`, `<env>-foursight-`; GLOBAL_ENV_BUCKET is FSBucketTemplate.ENVS). The
 * five data buckets and the Tibanna output bucket are "" (the app derives them), Auth0 is spelled
 * ENCODED_AUTH0_*, and S3_ENCRYPT_KEY comes from the operator's local key file (stand-in here).
 */
export const DATASTORE_SECRET_2024: Readonly<Record<string, string>> = {
    deploying_iam_user: "cgap-deployer", // the operator's config.json setting: a stand-in
    ACCOUNT_NUMBER: PLACEHOLDER,
    S3_AWS_ACCESS_KEY_ID: PLACEHOLDER,
    S3_AWS_SECRET_ACCESS_KEY: PLACEHOLDER,
    ENCODED_AUTH0_DOMAIN: "hms-dbmi.auth0.com",
    ENCODED_AUTH0_CLIENT: "stand-in-auth0-client-id",
    ENCODED_AUTH0_SECRET: "stand-in-auth0-client-secret",
    ENCODED_AUTH0_ALLOWED_CONNECTIONS: PLACEHOLDER,
    ENV_NAME,
    ENCODED_APPLICATION_BUCKET_PREFIX: "cgap-mastertest-application-",
    ENCODED_BS_ENV: ENV_NAME,
    ENCODED_DATA_SET: "deploy",
    ENCODED_ES_SERVER: ES_SERVER,
    ENCODED_REDIS_SERVER: PLACEHOLDER,
    ENCODED_FOURSIGHT_BUCKET_PREFIX: "cgap-mastertest-foursight-",
    ENCODED_IDENTITY: PLACEHOLDER,
    ENCODED_FILE_UPLOAD_BUCKET: "",
    ENCODED_FILE_WFOUT_BUCKET: "",
    ENCODED_BLOB_BUCKET: "",
    ENCODED_SYSTEM_BUCKET: "",
    ENCODED_METADATA_BUNDLES_BUCKET: "",
    ENCODED_S3_BUCKET_ORG: PLACEHOLDER,
    ENCODED_TIBANNA_OUTPUT_BUCKET: "",
    LANG: "en_US.UTF-8",
    LC_ALL: "en_US.UTF-8",
    RDS_HOSTNAME: PLACEHOLDER,
    RDS_DB_NAME: "ebdb",
    RDS_NAME: "rds-cgap-mastertest",
    RDS_PORT: "5432",
    RDS_USERNAME: "postgresql",
    RDS_PASSWORD: PLACEHOLDER,
    GLOBAL_ENV_BUCKET: "cgap-mastertest-foursight-envs",
    S3_ENCRYPT_KEY: "stand-in-s3-encrypt-key-from-the-operators-key-file",
    ENCODED_S3_ENCRYPT_KEY_ID: PLACEHOLDER,
    ENCODED_SENTRY_DSN: "",
    ENCODED_URL: "",
    ENCODED_ADMIN_USERS: "",
    reCaptchaKey: PLACEHOLDER,
    reCaptchaSecret: PLACEHOLDER,
    GA4_API_SECRET: "",
};

/**
 * The keys 4dn-cloud-infra docs/source/deploy_new_account.rst (commit 14d9c29) has the operator
 * fill in: the S3 user's keys, the search endpoint, ENCODED_IDENTITY (the secret's own name),
 * RDS_HOSTNAME and RDS_PASSWORD from the RDS secret. The rest keep their placeholders. Values
 * are stand-ins.
 */
export const OPERATOR_FILLS: Readonly<Record<string, string>> = {
    S3_AWS_ACCESS_KEY_ID: "AKIASTANDINS3USER000",
    S3_AWS_SECRET_ACCESS_KEY: "stand-in-s3-user-secret-key",
    ENCODED_IDENTITY: IDENTITY,
    RDS_HOSTNAME: "rds-cgap-mastertest.abcdefghijkl.us-east-1.rds.amazonaws.com",
    RDS_PASSWORD: "stand-in-rds-password",
};

/** DATASTORE_SECRET_2024 as the operator leaves it after deploy_new_account.rst. */
export const FILLED_SECRET_2024: Readonly<Record<string, string>> = { ...DATASTORE_SECRET_2024, ...OPERATOR_FILLS };

/**
 * The secret as the datastore stack wrote it in September 2021: 4dn-dcic/4dn-cloud-infra
 * src/parts/datastore.py, C4Datastore.application_configuration_template, at commit 78dfada (the
 * parent of bd2b650 "fix GAC auth0 naming"). Auth0 as Auth0Client / Auth0Secret, no
 * GLOBAL_ENV_BUCKET, SENTRY_DSN without its ENCODED_ prefix. Bucket prefixes from src/base.py
 * _resolve_bucket_name at that commit: `<app kind>-<ecosystem>-application-` with the default
 * ecosystem `main`.
 */
export const DATASTORE_SECRET_2021: Readonly<Record<string, string>> = {
    deploying_iam_user: "cgap-deployer",
    S3_AWS_ACCESS_KEY_ID: PLACEHOLDER,
    S3_AWS_SECRET_ACCESS_KEY: PLACEHOLDER,
    Auth0Client: "stand-in-auth0-client-id",
    Auth0Secret: "stand-in-auth0-client-secret",
    ENV_NAME,
    ENCODED_APPLICATION_BUCKET_PREFIX: "cgap-main-application-",
    ENCODED_BS_ENV: ENV_NAME,
    ENCODED_DATA_SET: "prod",
    ENCODED_ES_SERVER: ES_SERVER,
    ENCODED_FOURSIGHT_BUCKET_PREFIX: "cgap-main-foursight-",
    ENCODED_IDENTITY: PLACEHOLDER,
    ENCODED_FILE_UPLOAD_BUCKET: "",
    ENCODED_FILE_WFOUT_BUCKET: "",
    ENCODED_BLOB_BUCKET: "",
    ENCODED_SYSTEM_BUCKET: "",
    ENCODED_METADATA_BUNDLES_BUCKET: "",
    ENCODED_S3_BUCKET_ORG: PLACEHOLDER,
    ENCODED_TIBANNA_OUTPUT_BUCKET: "",
    LANG: "en_US.UTF-8",
    LC_ALL: "en_US.UTF-8",
    RDS_HOSTNAME: PLACEHOLDER,
    RDS_DB_NAME: "ebdb",
    RDS_PORT: "5432",
    RDS_USERNAME: "postgresql",
    RDS_PASSWORD: PLACEHOLDER,
    S3_ENCRYPT_KEY: "stand-in-s3-encrypt-key-from-the-operators-key-file",
    SENTRY_DSN: "",
    reCaptchaKey: PLACEHOLDER,
    reCaptchaSecret: PLACEHOLDER,
};

export const FILLED_SECRET_2021: Readonly<Record<string, string>> = {
    ...DATASTORE_SECRET_2021,
    ...OPERATOR_FILLS,
};

/**
 * The August 2021 shape: 4dn-dcic/4dn-cloud-infra src/parts/datastore.py at commit 42914ff
 * (2021-08-10, until 7c7781f a week later). It also had AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * placeholders, and filled in the buckets (application_layer_bucket, AppBucketTemplate
 * `application-{org_prefix}{env_name}-<suffix>` of src/base.py at that commit, no org), with no
 * ENCODED_APPLICATION_BUCKET_PREFIX. Shown here as the operator filled it.
 */
export const FILLED_SECRET_2021_AUGUST: Readonly<Record<string, string>> = {
    deploying_iam_user: "cgap-deployer",
    AWS_ACCESS_KEY_ID: PLACEHOLDER,
    AWS_SECRET_ACCESS_KEY: PLACEHOLDER,
    Auth0Client: "stand-in-auth0-client-id",
    Auth0Secret: "stand-in-auth0-client-secret",
    ENV_NAME,
    ENCODED_BS_ENV: ENV_NAME,
    ENCODED_DATA_SET: "prod",
    ENCODED_ES_SERVER: ES_SERVER,
    ENCODED_FILE_UPLOAD_BUCKET: "application-cgap-mastertest-files",
    ENCODED_FILE_WFOUT_BUCKET: "application-cgap-mastertest-wfout",
    ENCODED_BLOB_BUCKET: "application-cgap-mastertest-blobs",
    ENCODED_SYSTEM_BUCKET: "application-cgap-mastertest-system",
    ENCODED_METADATA_BUNDLES_BUCKET: "application-cgap-mastertest-metadata-bundles",
    LANG: "en_US.UTF-8",
    LC_ALL: "en_US.UTF-8",
    RDS_HOSTNAME: OPERATOR_FILLS.RDS_HOSTNAME,
    RDS_DB_NAME: "ebdb",
    RDS_PORT: "5432",
    RDS_USERNAME: "postgresql",
    RDS_PASSWORD: OPERATOR_FILLS.RDS_PASSWORD,
    S3_ENCRYPT_KEY: "stand-in-s3-encrypt-key-from-the-operators-key-file",
    ENCODED_S3_BUCKET_ORG: PLACEHOLDER,
    SENTRY_DSN: "",
    reCaptchaKey: PLACEHOLDER,
    reCaptchaSecret: PLACEHOLDER,
    S3_AWS_ACCESS_KEY_ID: OPERATOR_FILLS.S3_AWS_ACCESS_KEY_ID,
    S3_AWS_SECRET_ACCESS_KEY: OPERATOR_FILLS.S3_AWS_SECRET_ACCESS_KEY,
};

/**
 * The ecosystem file 4dn-cloud-infra writes into the global env bucket for a standalone
 * environment: src/commands/assure_global_env_bucket.py configure_env_utils_ecosystem at commit
 * 14d9c29 (`main.ecosystem`; the env's own entry `<env>` is `{"ecosystem": "main"}`). It names the
 * environment its own prd_env_name, so dcicutils 8.16.1 env_utils.is_stg_or_prd_env(env) is true.
 * The URL is the load balancer's (C4ECSApplicationExports.get_application_url): a stand-in.
 */
export const ENV_ENTRY = { ecosystem: "main" } as const;
export const MAIN_ECOSYSTEM = {
    default_workflow_env: ENV_NAME,
    dev_data_set_table: { [ENV_NAME]: "deploy" },
    dev_env_domain_suffix: ".us-east-1.elb.amazonaws.com",
    foursight_bucket_table: {
        [ENV_NAME]: { dev: "cgap-mastertest-foursight-results", prod: "cgap-mastertest-foursight-results" },
    },
    foursight_url_prefix: "",
    full_env_prefix: "cgap-",
    hotseat_envs: [],
    is_legacy: false,
    orchestrated_app: "cgap",
    prd_env_name: ENV_NAME,
    public_url_table: [
        {
            name: ENV_NAME,
            url: "http://cgap-mastertest-1234567890.us-east-1.elb.amazonaws.com",
            host: "cgap-mastertest-1234567890.us-east-1.elb.amazonaws.com",
            environment: ENV_NAME,
        },
    ],
    stage_mirroring_enabled: false,
    stg_env_name: null,
    test_envs: [],
    webprod_pseudo_env: ENV_NAME,
} as const;
