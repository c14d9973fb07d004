#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Ingester role (image tag `latest-ingester`): processes ingestion submissions.
# assume_identity, then the ingestion listener (it polls the ingestion queue forever) replaces
# this shell, so the SIGTERM ECS sends reaches it.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}

echo "ingester: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

echo "ingester: starting the ingestion listener"
exec ingestion-listener production.ini --app-name app
