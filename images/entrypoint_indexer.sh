#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Indexer role (image tag `latest-indexer`): indexes forever.
# assume_identity, then runs es-index-data, waits INDEXER_INTERVAL_SECONDS (default 3) and runs
# it again, forever. A failed run is logged and the loop goes on. SIGTERM (ECS's stop, which tini -g
# hands to the whole process group) lets a run in progress finish, for INDEXER_DRAIN_SECONDS at most
# (default 100, inside ECS's 120 s stopTimeout), then ends the loop: what a cut run had received
# would only come back after the queues' visibility timeout. Each run is in a session of its own
# (setsid) so that the group's SIGTERM does not reach it. Between runs, and on SIGINT, the loop
# ends at once.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}

interval=${INDEXER_INTERVAL_SECONDS:-3}
drain=${INDEXER_DRAIN_SECONDS:-100}
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
run=
# shellcheck disable=SC2317 # called from the traps below
stop() {
    trap '' TERM INT
    if [ -n "$run" ] && [ "$2" = drain ]; then
        echo "indexer: $1 received, letting the run in progress finish (at most ${drain}s)"
        # Stops the run when the drain is over; USR1 stops it (and its sleep) when the run ends first.
        # Not TERM: this shell ignores TERM now, and what it starts inherits that, the sleep too.
        (
            trap 'kill -KILL "$timer" 2>/dev/null; exit 0' USR1
            sleep "$drain" &
            timer=$!
            wait "$timer" && kill -TERM "$run" 2>/dev/null
        ) &
        watchdog=$!
        while kill -0 "$run" 2>/dev/null; do
            wait "$run" 2>/dev/null || true
        done
        kill -USR1 "$watchdog" 2>/dev/null || true
        echo "indexer: stopping"
        exit 0
    fi
    echo "indexer: $1 received, stopping"
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || true
    fi
    exit 0
}
trap 'stop SIGTERM drain' TERM
trap 'stop SIGINT now' INT

echo "indexer: running es-index-data every ${interval}s"
while :; do
    setsid es-index-data production.ini --app-name app &
    child=$!
    run=$child
    if wait "$child"; then
        :
    else
        echo "indexer: es-index-data failed with status $?; next run in ${interval}s" >&2
    fi
    run=
    sleep "$interval" &
    child=$!
    wait "$child" || true
    child=
done
