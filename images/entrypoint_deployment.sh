#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Deployment role (image tag `latest-deployment`): one-shot, run on demand after a rollout.
#
# The steps of cgap-portal v15.6.0's own deploy/docker/production/entrypoint_deployment.sh
# (components/appContract.ts DEPLOYMENT_STEPS pins them; a test runs this script against it):
#
#   initial deployment (INITIAL_DEPLOYMENT set: `npm run deployment-task -- --initial`):
#     clear-db-es-contents --only-if-env <ENV_NAME> --allow-prod   development only, see below
#     create-mapping-on-deploy --staggered
#     load-data --prod                                  every insert
#     load-access-keys --secret-name <IDENTITY>
#   routine deployment (every other run):
#     create-mapping-on-deploy --staggered
#     load-data-by-type --prod --overwrite --indir master-inserts --itype higlass_view_config
#     load-data-by-type --prod --overwrite --indir master-inserts --itype user
#     load-access-keys --secret-name <IDENTITY>
#
# The first step that fails stops the script, which exits with that step's status.
#
# The wipe runs only on an initial deployment and only when CGAP_ENVIRONMENT is exactly
# `development`; anything else (staging, production, unset, unknown) skips it, and says so: a
# missing setting must never be read as permission to delete data. Which environment is
# production is the stack's to say (cgap:environment, passed as CGAP_ENVIRONMENT; an initial
# deployment of production needs `--confirm-production` in ops/aws/deploymentTask.ts), not the
# ecosystem file's: 4dn-cloud-infra's assure_global_env_bucket.py writes `"prd_env_name": <env>`
# for every environment it sets up, so dcicutils 8.16.1 env_utils.is_stg_or_prd_env is true for
# each of them and clear-db-es-contents refuses every one unless given --allow-prod. The app's own
# entrypoint_deployment.sh (v15.6.0) passes --allow-prod for the same reason; so does this script,
# together with --only-if-env (the command refuses unless the ini's env.name is this environment).
# clear-db-es-contents exits 0 when it refuses (its run_clear_db_es logs "Skipping the attempt to
# clear DB." and returns, clear_db_es_contents.py v15.6.0); that refusal stops the script with
# status 1 before anything is loaded into a database that was not emptied.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}
# What clear-db-es-contents prints when it refuses (SKIPPING_CLEAR_ATTEMPT in the app).
WIPE_REFUSED='Skipping the attempt to clear DB.'

if [ -n "${INITIAL_DEPLOYMENT:-}" ]; then
    kind=initial
else
    kind=routine
fi

echo "deployment: $kind deployment of cgap-portal ${APP_VERSION:-(version unknown)}: starting"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

# run [--as NAME] COMMAND [ARG...]: one step; NAME is what the messages call it (default COMMAND).
run() {
    name=$1
    if [ "$name" = --as ]; then
        name=$2
        shift 2
        echo "deployment: running $name (as $*)"
    else
        echo "deployment: running $*"
    fi
    status=0
    "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "deployment: $name failed with status $status; stopping, the steps after it did not run" >&2
        exit "$status"
    fi
}

wipe() {
    echo "deployment: running clear-db-es-contents production.ini --app-name app --only-if-env $ENV_NAME --allow-prod"
    output=$(mktemp)
    status=0
    # --only-if-env: the command also refuses unless the ini's env.name is this environment, and
    # it does not stop to ask for an interactive confirmation. --allow-prod: see the top.
    clear-db-es-contents production.ini --app-name app --only-if-env "$ENV_NAME" --allow-prod >"$output" 2>&1 || status=$?
    cat "$output"
    refused=0
    grep -qF "$WIPE_REFUSED" "$output" || refused=$?
    rm -f "$output"
    if [ "$status" -ne 0 ]; then
        echo "deployment: clear-db-es-contents failed with status $status; stopping, the steps after it did not run" >&2
        exit "$status"
    fi
    if [ "$refused" -eq 0 ]; then
        echo "deployment: WIPE SKIPPED: clear-db-es-contents refused to clear the database (its reason is above) and exited 0; stopping before anything is loaded, as an initial deployment needs an empty database" >&2
        exit 1
    fi
}

if [ "$kind" = initial ]; then
    case ${CGAP_ENVIRONMENT:-} in
        development)
            wipe
            ;;
        *)
            echo "deployment: WIPE SKIPPED: CGAP_ENVIRONMENT is '${CGAP_ENVIRONMENT:-}', and only a development environment is ever wiped; loading into the database as it is"
            ;;
    esac
fi

run create-mapping-on-deploy production.ini --app-name app --staggered
if [ "$kind" = initial ]; then
    run load-data production.ini --app-name app --prod
else
    # The app patches these on every deployment: view configs must match the code.
    run load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype higlass_view_config
    run load-data-by-type production.ini --app-name app --prod --overwrite --indir master-inserts --itype user
fi
# The app's load-access-keys, given the portal URL the stack passes (see load_access_keys.py).
run --as load-access-keys python3 "$IMAGE_DIR/load_access_keys.py" production.ini --app-name app --secret-name "$IDENTITY"

echo "deployment: all steps of the $kind deployment succeeded"
