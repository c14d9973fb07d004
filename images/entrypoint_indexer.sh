#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Indexer role (image tag `latest-indexer`): indexes forever.
# assume_identity, then runs es-index-data, waits INDEXER_INTERVAL_SECONDS (default 3) and runs
# it again, forever. A failed run is logged and the loop goes on; SIGTERM (or SIGINT) stops the
# run in progress and ends the loop at once, whether it is indexing or sleeping.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}

interval=${INDEXER_INTERVAL_SECONDS:-3}
case $interval in
    *[!0-9]*)
        echo "indexer: INDEXER_INTERVAL_SECONDS must be a whole number of seconds, not '$interval'" >&2
        exit 1
        ;;
esac

echo "indexer: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

# Children run in the background and the shell waits for them: a trapped signal interrupts
# `wait` at once, where it would only be handled after a foreground command had finished.
child=
stop() {
    echo "indexer: $1 received, stopping"
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || true
    fi
    exit 0
}
trap 'stop SIGTERM' TERM
trap 'stop SIGINT' INT

echo "indexer: running es-index-data every ${interval}s"
while :; do
    es-index-data production.ini --app-name app &
    child=$!
    if wait "$child"; then
        :
    else
        echo "indexer: es-index-data failed with status $?; next run in ${interval}s" >&2
    fi
    sleep "$interval" &
    child=$!
    wait "$child" || true
    child=
done
