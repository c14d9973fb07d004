#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# WSGI role (image tag `latest`): serves the portal behind the load balancer.
#
# Serves as cgap-portal v15.6.0 does (deploy/docker/production/entrypoint_portal.sh,
# supervisord.conf, nginx.conf): nginx on 8000 in front of five `pserve production.ini
# http_port=<port>` workers on 6543-6547 (the fifth is nginx's backup), each with the ini's 16
# threads, and a worker that ends is started again. That matters: the app's memory filter
# (base.ini [filter:memlimit] rss_limit = 450MB, encoded/memlimit.py) kills a worker whose RSS
# passes the limit after a request, on purpose, and counts on it being restarted.
#
# The restarting is done here rather than by supervisord: supervisord opens its program logs by
# path (/dev/stdout in the app's supervisord.conf), which an unprivileged user cannot reopen on
# the container's root-owned stdout pipe (EACCES); a worker started from this shell writes to the
# inherited stdout directly. A worker that ends within STARTSECS of its start RETRIES times in a
# row (supervisord's startsecs=6 / startretries=3) is broken, not killed for memory: the role
# stops with status 1 so that ECS replaces the task and the log says why.
#
# SIGTERM or SIGINT (ECS's stop, through tini) stops every worker and ends the role with status 0.
# Writes: production.ini and session-secret.b64 in APP_HOME (assume_identity), nginx's pid file
# and temp dirs under NGINX_PREFIX; nothing else.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}
NGINX_CONF=${NGINX_CONF:-/etc/nginx/nginx.conf}
# nginx runs as the unprivileged app user: its pid file and temp dirs live under this prefix.
NGINX_PREFIX=${NGINX_PREFIX:-/tmp/nginx/}
# The ports nginx.conf's upstream names; components/appContract.ts WSGI_PORTS (a test compares).
WSGI_PORTS=${WSGI_PORTS:-6543 6544 6545 6546 6547}
STARTSECS=${WSGI_STARTSECS:-6}
RETRIES=${WSGI_RETRIES:-3}

echo "wsgi: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

mkdir -p "$NGINX_PREFIX"
echo "wsgi: starting nginx on port 8000"
nginx -e stderr -p "$NGINX_PREFIX" -c "$NGINX_CONF"

# One worker, started again whenever it ends. Runs in a subshell of its own.
worker() {
    port=$1
    child=
    quick=0
    trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi; exit 0' TERM INT
    while :; do
        started=$(date +%s)
        pserve production.ini "http_port=$port" &
        child=$!
        status=0
        wait "$child" || status=$?
        child=
        if [ $(($(date +%s) - started)) -lt "$STARTSECS" ]; then
            quick=$((quick + 1))
        else
            quick=0
        fi
        if [ "$quick" -ge "$RETRIES" ]; then
            echo "wsgi: worker on port $port ended $quick times in a row within ${STARTSECS}s of its start (last status $status); giving up" >&2
            kill -USR1 "$main" 2>/dev/null || true
            exit 1
        fi
        echo "wsgi: worker on port $port ended with status $status; starting it again" >&2
        sleep 1 &
        child=$!
        wait "$child" || true
        child=
    done
}

workers=
# shellcheck disable=SC2317 # called from the traps below
stop() {
    trap '' TERM INT USR1
    echo "wsgi: $1"
    # shellcheck disable=SC2086 # one pid per word
    kill -TERM $workers 2>/dev/null || true
    wait
    exit "$2"
}
trap 'stop "SIGTERM received, stopping the workers" 0' TERM
trap 'stop "SIGINT received, stopping the workers" 0' INT
trap 'stop "a worker cannot start, stopping" 1' USR1

main=$$
for port in $WSGI_PORTS; do
    echo "wsgi: starting worker on 127.0.0.1:$port"
    worker "$port" &
    workers="$workers $!"
done
# A trap ends the script; the workers never end on their own.
wait || true
echo "wsgi: every worker has ended" >&2
exit 1
