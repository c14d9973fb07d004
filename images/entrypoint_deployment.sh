#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Deployment role (image tag `latest-deployment`): one-shot, run on demand after a rollout.
# assume_identity, then the deployment steps in order:
#   clear-db-es-contents      development only: wipes the database and the search index
#   create-mapping-on-deploy
#   load-data --prod
#   load-access-keys
# The first step that fails stops the script, which exits with that step's status.
#
# The wipe runs only when CGAP_ENVIRONMENT is exactly `development`. On staging and production
# it is skipped, and so it is when CGAP_ENVIRONMENT is unset or unknown: a missing setting must
# never be read as permission to delete data.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}

echo "deployment: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

run() {
    echo "deployment: running $*"
    status=0
    "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "deployment: $1 failed with status $status; stopping, the steps after it did not run" >&2
        exit "$status"
    fi
}

case ${CGAP_ENVIRONMENT:-} in
    development)
        # --only-if-env: the command itself also refuses unless the ini's env.name is this
        # environment, and it does not stop to ask for an interactive confirmation.
        run clear-db-es-contents production.ini --app-name app --only-if-env "$ENV_NAME"
        ;;
    staging | production)
        echo "deployment: skipping clear-db-es-contents: CGAP_ENVIRONMENT is $CGAP_ENVIRONMENT, and only a development environment is ever wiped"
        ;;
    *)
        echo "deployment: skipping clear-db-es-contents: CGAP_ENVIRONMENT is '${CGAP_ENVIRONMENT:-}' (unset or unknown), and only a development environment is ever wiped"
        ;;
esac

run create-mapping-on-deploy production.ini --app-name app
run load-data production.ini --app-name app --prod
run load-access-keys production.ini --app-name app --secret-name "$IDENTITY"

echo "deployment: all steps succeeded"
