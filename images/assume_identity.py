"""The JSON half of assume_identity (see that script): standard library only.

Reads the identity secret (the SecretString of the Secrets Manager secret named by IDENTITY) on
stdin and:

1. checks it is a JSON object whose keys can be environment variable names, that it has every
   setting the app reads at run time (REQUIRED, CONDITIONAL) and that it is for this stack
   (ENV_NAME and GLOBAL_ENV_BUCKET equal what the task definition passes as CGAP_ENV_NAME and
   CGAP_GLOBAL_ENV_BUCKET, the names the IAM grants are written for);
2. reads it as 4dn-cloud-infra writes it (PLACEHOLDER, ALIASES, derive_buckets);
3. renders production.ini from the ini template the secret's ENV_NAME picks;
4. writes the session secret file the ini names (from SESSION_SECRET if the secret has it);
5. prints `export NAME='value'` lines for the caller to eval, for the keys in RUNTIME only: the
   rest of the secret (the database password, the S3 user's keys, the Auth0 secret) reaches the
   app through production.ini or the app's own read of the secret, never its environment.

Every failure is one line on stderr, prefixed `assume_identity:`, and exit status 1. Secret
values are never printed in messages.

Template syntax: `${NAME}` is required: if NAME is unset or empty (in the secret and in the
environment) nothing is written and the container stops, because a half-filled sqlalchemy.url
or a missing bucket fails much later and much less clearly. `${NAME:-default}` falls back to
the default. A line whose whole value is `${NAME:-}` is left out when NAME is unset or empty,
so the default in the app's base.ini applies (optional settings such as sentry_dsn).
"""

import argparse
import base64
import json
import os
import re
import sys

PROG = "assume_identity"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
OPTIONAL_LINE = re.compile(r"^\s*[^=#;\s][^=]*=\s*\$\{([A-Za-z_][A-Za-z0-9_]*):-\}\s*$")
# Set by the task definition or the image: the secret may not override them. CGAP_ENVIRONMENT
# above all: it decides whether the deployment role may wipe the database.
# ENCODED_PROFILING_GROUP too: cgap-portal v15.6.0 encoded/__init__.py starts the CodeGuru
# profiler when it is in the environment ("intentionally an env variable (so it is a TASK level
# setting)"), and the task role has no CodeGuru grant: it stays off unless a task definition sets it.
PROTECTED = ("IDENTITY", "CGAP_ENVIRONMENT", "CGAP_ENV_NAME", "CGAP_GLOBAL_ENV_BUCKET", "CGAP_PORTAL_URL",
             "INITIAL_DEPLOYMENT", "INDEXER_INTERVAL_SECONDS", "ENCODED_PROFILING_GROUP", "APP_HOME", "IMAGE_DIR",
             "APP_VERSION", "PATH", "HOME", "VIRTUAL_ENV")
# Settings the app reads from the secret (through the environment) at run time, whatever the ini
# template says, each with where it is read (cgap-portal v15.6.0, dcicutils 8.16.1, dcicsnovault
# 11.19.0). Missing, each fails later and far less clearly: at start, at the first upload or
# download, or at the deployment task's last step.
REQUIRED = (
    # env_utils.py EnvUtils._load_declared_data: the env file's name; picks the ini template.
    ("ENV_NAME", "names the environment (the env file, the queues, the ini template)"),
    # env_base.py EnvBase.global_env_bucket_name, read by EnvUtils.init when every role starts.
    ("GLOBAL_ENV_BUCKET", "the bucket dcicutils reads the env and ecosystem files from at start"),
    # types/file.py external_creds (upload credentials, STS GetFederationToken) and snovault
    # util.py make_s3_client (presigned downloads, deletes): the S3 user, not the task role.
    ("S3_AWS_ACCESS_KEY_ID", "the S3 user's key, for upload credentials and presigned downloads"),
    ("S3_AWS_SECRET_ACCESS_KEY", "the S3 user's secret key"),
    # commands/load_access_keys.py: SSE-C key of the access keys in the system bucket; raises
    # "must define S3_ENCRYPT_KEY in env or in GAC" without it.
    ("S3_ENCRYPT_KEY", "encrypts the access keys load-access-keys writes to the system bucket"),
)
# (key, required when this key is set, why): types/file.py external_creds builds the KMS key ARN
# from identity["ACCOUNT_NUMBER"] when ENCODED_S3_ENCRYPT_KEY_ID is set.
CONDITIONAL = (
    ("ACCOUNT_NUMBER", "ENCODED_S3_ENCRYPT_KEY_ID", "upload credentials name the KMS key by account"),
)
TEMPLATE_PREFIXES = ("cgap-", "fourfront-")
# 4dn-cloud-infra writes the secret with this value in every key it cannot know at stack time
# (CONFIGURATION_PLACEHOLDER in src/parts/datastore.py, later
# src/parts/application_configuration_secrets.py) and its deploy_new_account.rst has the operator
# replace the ones the app needs. A key still holding it is unset: never rendered, never exported
# (exported, AWS_ACCESS_KEY_ID would replace the task role's credentials in every AWS call, and
# reCaptchaKey would switch on a check the app then fails).
PLACEHOLDER = "XXX: ENTER VALUE"
# (the name the ini templates use, the other spelling the secret may have). 4dn-cloud-infra wrote
# Auth0Client / Auth0Secret until commit bd2b650 (September 2021, "fix GAC auth0 naming"),
# ENCODED_AUTH0_* since. cgap-portal v15.6.0 accepts both: dcicutils 8.16.1 deployment_utils.py
# renders auth0.client from ENCODED_AUTH0_CLIENT and leaves the line out when that is empty, and
# encoded/__init__.py main() then takes os.environ["Auth0Client"]; the same for the secret, the
# domain (Auth0Domain) and the allowed connections (Auth0AllowedConnections).
ALIASES = (
    ("ENCODED_AUTH0_CLIENT", "Auth0Client"),
    ("ENCODED_AUTH0_SECRET", "Auth0Secret"),
    ("ENCODED_AUTH0_DOMAIN", "Auth0Domain"),
    ("ENCODED_AUTH0_ALLOWED_CONNECTIONS", "Auth0AllowedConnections"),
)
# The buckets 4dn-cloud-infra writes as "" (application_configuration_template), and how the app
# names them then: dcicutils 8.16.1 deployment_utils.py build_ini_stream_from_template,
# f"{application_bucket_prefix}{s3_bucket_env}-{suffix}" with the suffixes of env_base.py
# (files, wfoutput, blobs, system, metadata-bundles) and s3_bucket_env = ENCODED_S3_BUCKET_ENV or
# get_bucket_env(env_name), which is the env name itself with the env entry
# assure_global_env_bucket.py writes (its webprod_pseudo_env is the env); the Tibanna buckets
# have no env part.
DERIVED_BUCKETS = (
    ("ENCODED_FILE_UPLOAD_BUCKET", "{prefix}{env}-files"),
    ("ENCODED_FILE_WFOUT_BUCKET", "{prefix}{env}-wfoutput"),
    ("ENCODED_BLOB_BUCKET", "{prefix}{env}-blobs"),
    ("ENCODED_SYSTEM_BUCKET", "{prefix}{env}-system"),
    ("ENCODED_METADATA_BUNDLES_BUCKET", "{prefix}{env}-metadata-bundles"),
    ("ENCODED_TIBANNA_OUTPUT_BUCKET", "{prefix}tibanna-output"),
    ("ENCODED_TIBANNA_CWLS_BUCKET", "{prefix}tibanna-cwls"),
)
# The keys of the secret the app reads from its process environment at run time; only these are
# exported. Every os.environ read in cgap-portal v15.6.0 src/encoded (tests aside), dcicsnovault
# 11.19.0 snovault and the dcicutils 8.16.1 modules the portal runs, with what it reads:
#   ENV_NAME           dcicutils env_utils.py EnvUtils._load_declared_data (the env file's key) and
#                      _default_envname_from_request_and_context; the deployment script's
#                      --only-if-env
#   GLOBAL_ENV_BUCKET  dcicutils env_base.py global_env_bucket_name (without it, EnvUtils reads the
#                      whole secret into os.environ again: secrets_utils.py assumed_identity_if)
#   reCaptchaKey, reCaptchaSecret   encoded/__init__.py main(): os.environ only, no ini setting
#   ES_REFRESH_DURING_INDEXING      snovault elasticsearch/indexer.py
#   DEBUGLOG           snovault util.py
#   REF_TZ             dcicutils misc_utils.py
#   ECOSYSTEM, MIRROR_ENV_NAME      dcicutils env_utils.py
# Read from the environment but not taken from the secret: IDENTITY and ENCODED_PROFILING_GROUP
# (the task definition's, PROTECTED), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
# (types/file.py, only where IDENTITY is unset; in the environment they would replace the task
# role's credentials in every boto3 client), SQS_URL (snovault indexer_queue.py: a local SQS
# stand-in for tests), ENCODED_VERSION, APPLICATION_PYPROJECT_NAME, TEST_JOB_ID. The S3 user's
# keys, S3_ENCRYPT_KEY and ACCOUNT_NUMBER are read by the app from the secret itself
# (dcicutils secrets_utils.assume_identity in types/file.py external_creds, snovault util.py
# make_s3_client, commands/load_access_keys.py), everything else through production.ini. LANG and
# LC_ALL (en_US.UTF-8 in the secret) would select a locale the image does not have; the image's
# C.UTF-8 stays. Kept out of the environment because the app logs os.environ on one error path
# (types/file.py upload_key) and snovault renderers.py hands a copy of it to the Node renderer.
RUNTIME = ("ENV_NAME", "GLOBAL_ENV_BUCKET", "reCaptchaKey", "reCaptchaSecret", "ES_REFRESH_DURING_INDEXING",
           "DEBUGLOG", "REF_TZ", "ECOSYSTEM", "MIRROR_ENV_NAME")


class Failure(Exception):
    pass


def log(message):
    print("%s: %s" % (PROG, message), file=sys.stderr)


def parse_secret(text, secret_name):
    try:
        value = json.loads(text)
    except ValueError as error:
        # The decoder's message names a position, never the content.
        raise Failure("secret %r is not valid JSON (%s); it must be a JSON object of settings"
                      % (secret_name, error))
    if not isinstance(value, dict):
        raise Failure("secret %r is JSON but not a JSON object (got %s); it must map setting names to values"
                      % (secret_name, type(value).__name__))
    settings = {}
    for key in sorted(value):
        if not NAME.match(key):
            raise Failure("secret %r has key %r, which is not a valid environment variable name"
                          % (secret_name, key))
        item = value[key]
        if isinstance(item, (dict, list)):
            raise Failure("secret %r key %s holds a JSON %s; values must be strings, numbers or booleans"
                          % (secret_name, key, "object" if isinstance(item, dict) else "array"))
        if item is None:
            item = ""
        elif isinstance(item, bool):
            item = "true" if item else "false"
        elif not isinstance(item, str):
            item = json.dumps(item)
        settings[key] = item
    return settings


def drop_placeholders(settings):
    """Removes the keys that still hold PLACEHOLDER; returns their names."""
    unset = sorted(key for key, value in settings.items() if value.strip() == PLACEHOLDER)
    for key in unset:
        del settings[key]
    return unset


def apply_aliases(settings):
    """The ini's spelling of each ALIASES key, from the other spelling when the secret has only that."""
    for name, other in ALIASES:
        if not settings.get(name) and settings.get(other):
            settings[name] = settings[other]


def derive_buckets(settings, env_name):
    """Fills in the empty bucket keys as the app does; returns {key: derived name}."""
    prefix = settings.get("ENCODED_APPLICATION_BUCKET_PREFIX", "")
    if not prefix:
        return {}
    env = settings.get("ENCODED_S3_BUCKET_ENV") or env_name
    derived = {}
    for key, pattern in DERIVED_BUCKETS:
        if not settings.get(key):
            derived[key] = settings[key] = pattern.format(prefix=prefix, env=env)
    return derived


def session_secret_problem(settings):
    """snovault 11.19.0 app.py session() base64-decodes the session secret file when the app loads."""
    value = settings.get("SESSION_SECRET", "")
    if not value:
        return []
    try:
        decoded = base64.b64decode(value.strip())
    except (ValueError, TypeError):
        decoded = b""
    if not decoded:
        return ["SESSION_SECRET is not base64 (the app base64-decodes it when it loads; make one with "
                "`head -c 256 /dev/urandom | base64 -w0`)"]
    return []


def missing_settings(settings, placeholders=()):
    """Every REQUIRED and CONDITIONAL key the secret lacks, as one problem (empty list when none)."""
    def still(key):
        return "; still %r" % PLACEHOLDER if key in placeholders else ""
    missing = ["%s (%s%s)" % (key, why, still(key)) for key, why in REQUIRED if not settings.get(key)]
    missing += ["%s (%s; needed because %s is set%s)" % (key, why, when, still(key))
                for key, when, why in CONDITIONAL if settings.get(when) and not settings.get(key)]
    return ["it lacks %s" % ", ".join(missing)] if missing else []


def check_stack(settings, secret_name):
    """The secret must be for the stack whose task definition runs it."""
    expected = os.environ.get("CGAP_ENV_NAME", "")
    if not expected:
        raise Failure("CGAP_ENV_NAME is not set; the task definition passes the stack's cgap:envName in it")
    env_name = settings.get("ENV_NAME", "")
    if env_name and not ENV_NAME.match(env_name):
        raise Failure("secret %r has ENV_NAME %r, which is not an environment name" % (secret_name, env_name))
    if env_name and env_name != expected:
        # The app names its queues and reads its env file after ENV_NAME; the IAM grants are for envName.
        raise Failure("secret %r has ENV_NAME %r but this stack's cgap:envName is %r: the app would use the "
                      "queues and env file of %r, which the task role may not touch; point cgap:identity at "
                      "%r's secret, or fix ENV_NAME in the secret" % (secret_name, env_name, expected, env_name, expected))
    bucket = settings.get("GLOBAL_ENV_BUCKET", "")
    expected_bucket = os.environ.get("CGAP_GLOBAL_ENV_BUCKET", "")
    if bucket and expected_bucket and bucket != expected_bucket:
        raise Failure("secret %r has GLOBAL_ENV_BUCKET %r but this stack's cgap:globalEnvBucket is %r, the only "
                      "env bucket the task role may read; make the two agree" % (secret_name, bucket, expected_bucket))


def annotate(missing, placeholders):
    """`NAME (line n)` with what the secret has instead: the placeholder, or the other spelling."""
    name = missing.split(" ", 1)[0]
    notes = []
    if name in placeholders:
        notes.append("still %r" % PLACEHOLDER)
    notes += ["or %s" % other for key, other in ALIASES if key == name]
    if any(key == name for key, _ in DERIVED_BUCKETS):
        notes.append("or ENCODED_APPLICATION_BUCKET_PREFIX, from which the app derives it")
    return "%s, %s)" % (missing[:-1], ", ".join(notes)) if notes else missing


def app_versions(app_home):
    """What the app's health page reports, as dcicutils 8.16.1 deployment_utils.py renders it:
    PROJECT_VERSION is pyproject.toml's [tool.poetry] version (15.6.0, no `v`), SNOVAULT_VERSION and
    UTILS_VERSION the installed dcicsnovault and dcicutils. snovault 11.19.0 root.py health_check
    shows them as project_version, snovault_version and utils_version."""
    versions = {}
    pyproject = os.path.join(app_home, "pyproject.toml")
    try:
        with open(pyproject) as stream:
            text = stream.read()
    except OSError:
        raise Failure("cannot read the app's version: %s is missing" % pyproject)
    # [tool.poetry] comes first in the app's pyproject.toml; its version is the first such line.
    section = re.search(r"^\[tool\.poetry\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    version = section and re.search(r"^version\s*=\s*[\"']([^\"']+)[\"']", section.group(1), re.M)
    if not version:
        raise Failure("cannot read the app's version: %s has no [tool.poetry] version" % pyproject)
    versions["PROJECT_VERSION"] = version.group(1)
    from importlib import metadata
    for key, distribution in (("SNOVAULT_VERSION", "dcicsnovault"), ("UTILS_VERSION", "dcicutils")):
        try:
            versions[key] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            raise Failure("cannot read the app's version: %s is not installed for %s" % (distribution, sys.executable))
    return versions


def pick_template(template_dir, env_name):
    names = [env_name + ".ini"]
    for prefix in TEMPLATE_PREFIXES:
        if env_name.startswith(prefix):
            names.append(env_name[len(prefix):] + ".ini")
    names.append("any.ini")
    for name in names:
        path = os.path.join(template_dir, name)
        if os.path.isfile(path):
            return path
    raise Failure("no ini template for ENV_NAME %r in %s (looked for %s)"
                  % (env_name, template_dir, ", ".join(names)))


def render(template_text, values, template_name):
    lines = []
    missing = []
    bad = []
    for number, line in enumerate(template_text.splitlines(), start=1):
        if line.lstrip().startswith(("#", ";")):
            lines.append(line)  # comments are copied, never expanded
            continue
        optional = OPTIONAL_LINE.match(line)
        if optional and not values.get(optional.group(1)):
            continue

        def substitute(match, number=number):
            name, default = match.group(1), match.group(2)
            if values.get(name):
                if "\n" in values[name] or "\r" in values[name]:
                    bad.append("%s (line %d)" % (name, number))
                # PasteDeploy reads the ini with %-interpolation: a literal % must be doubled.
                return values[name].replace("%", "%%")
            if default is not None:
                return default
            missing.append("%s (line %d)" % (name, number))
            return ""

        lines.append(REFERENCE.sub(substitute, line))
    if bad:
        raise Failure("ini template %s: these settings hold a line break, which an ini value cannot: %s"
                      % (template_name, ", ".join(bad)))
    return "\n".join(lines) + "\n", missing


def write_private(path, text):
    """Write atomically, readable by the app user only: the ini holds the database password."""
    temporary = path + ".tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def shell_quote(value):
    return "'" + value.replace("'", "'\"'\"'") + "'"


def main(argv):
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("--secret-name", required=True)
    parser.add_argument("--templates", required=True, help="directory holding the ini templates")
    parser.add_argument("--output", required=True, help="production.ini to write")
    parser.add_argument("--session-secret", required=True, help="session secret file to write")
    args = parser.parse_args(argv)

    settings = parse_secret(sys.stdin.read(), args.secret_name)
    for key in PROTECTED:
        if key in settings:
            log("ignoring key %s in secret %r: it is set by the task definition or the image"
                % (key, args.secret_name))
            del settings[key]
    placeholders = drop_placeholders(settings)

    check_stack(settings, args.secret_name)
    # 4dn-cloud-infra's secret had no GLOBAL_ENV_BUCKET before 2022 (datastore.py at 78dfada): the
    # stack's cgap:globalEnvBucket, which check_stack holds the secret's to, stands in.
    if not settings.get("GLOBAL_ENV_BUCKET") and os.environ.get("CGAP_GLOBAL_ENV_BUCKET"):
        settings["GLOBAL_ENV_BUCKET"] = os.environ["CGAP_GLOBAL_ENV_BUCKET"]
    env_name = settings.get("ENV_NAME", "")
    apply_aliases(settings)
    derived = derive_buckets(settings, env_name)
    # Without ENV_NAME, any.ini still says which of its settings are missing too.
    template = pick_template(args.templates, env_name or "any")
    values = dict(os.environ)
    values.update(settings)
    values.update(app_versions(os.path.dirname(os.path.abspath(args.output))))
    # dcicutils 8.16.1 deployment_utils.py build_ini_file_from_template: the search namespace is
    # ENCODED_ES_NAMESPACE, the env name when that is not set.
    values["ENCODED_ES_NAMESPACE"] = settings.get("ENCODED_ES_NAMESPACE") or env_name
    with open(template) as stream:
        text, missing = render(stream.read(), values, os.path.basename(template))
    problems = missing_settings(settings, placeholders)
    # A required key the template names too is reported once.
    missing = [m for m in missing if not any(m.startswith(key + " ") and not settings.get(key) for key, _ in REQUIRED)]
    missing = [annotate(m, placeholders) for m in missing]
    if missing:
        problems.append("ini template %s needs settings that neither the secret nor the environment defines: %s"
                        % (os.path.basename(template), ", ".join(missing)))
    problems += session_secret_problem(settings)
    if problems:
        raise Failure("secret %r is not complete: %s" % (args.secret_name, "; ".join(problems)))
    write_private(args.output, text)
    log("rendered %s from ini template %s for ENV_NAME %s"
        % (args.output, os.path.basename(template), env_name))
    if derived:
        log("derived from ENCODED_APPLICATION_BUCKET_PREFIX as the app does: %s"
            % ", ".join("%s=%s" % item for item in sorted(derived.items())))
    if placeholders:
        log("secret %r still holds %r in %s: treated as unset" % (args.secret_name, PLACEHOLDER, ", ".join(placeholders)))

    if settings.get("SESSION_SECRET"):
        write_private(args.session_secret, settings["SESSION_SECRET"] + "\n")
    else:
        # Without a shared secret every container signs sessions with its own key.
        write_private(args.session_secret, base64.b64encode(os.urandom(256)).decode("ascii") + "\n")
        log("secret %r has no SESSION_SECRET: this container uses a random session secret of its own"
            % args.secret_name)

    for key in sorted(settings):
        if key in RUNTIME:
            print("export %s=%s" % (key, shell_quote(settings[key])))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as failure:
        log(str(failure))
        sys.exit(1)
    except OSError as error:
        log("%s: %s" % (error.strerror, error.filename))
        sys.exit(1)
