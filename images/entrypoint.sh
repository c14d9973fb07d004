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
# SIGTERM (ECS's stop, which tini -g hands to the whole process group) does not stop the workers at
# once: they serve DRAIN seconds more, then stop, and the role ends with status 0. On a Fargate Spot
# reclaim the SIGTERM comes with the two-minute notice while the task is still registered with the
# load balancer (the stack's Spot drain function deregisters it at that moment), so requests keep
# arriving, and those in flight finish, for a while; ECS's own stops (deployments, scale-in)
# deregister and drain first, so there the wait only delays the end. Each pserve runs in a session
# of its own (setsid) so that the group's SIGTERM does not reach it. SIGINT stops at once.
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
# Seconds to keep serving after SIGTERM: within ECS's stopTimeout (120 s) for WSGI.
DRAIN=${WSGI_DRAIN_SECONDS:-30}

echo "wsgi: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

mkdir -p "$NGINX_PREFIX"
echo "wsgi: starting nginx on port 8000"
nginx -e stderr -p "$NGINX_PREFIX" -c "$NGINX_CONF"

# One worker, started again whenever it ends. Runs in a subshell of its own; USR2 from the main
# script stops it. The group's SIGTERM and SIGINT are the main script's to act on: caught here with a
# no-op (an ignored signal would stay ignored in pserve), they only interrupt `wait`.
worker() {
    port=$1
    child=
    quick=0
    stopping=
    trap ':' TERM INT
    trap 'stopping=1; if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi' USR2
    while [ -z "$stopping" ]; do
        started=$(date +%s)
        setsid pserve production.ini "http_port=$port" &
        child=$!
        status=0
        # A trapped signal ends `wait` early: wait again while the server still runs.
        while :; do
            status=0
            wait "$child" || status=$?
            kill -0 "$child" 2>/dev/null || break
        done
        child=
        if [ -n "$stopping" ]; then
            exit 0
        fi
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
    exit 0
}

workers=
# shellcheck disable=SC2317 # called from the traps below
stop() {
    trap '' TERM INT USR1
    echo "wsgi: $1"
    # shellcheck disable=SC2086 # one pid per word
    kill -USR2 $workers 2>/dev/null || true
    wait
    exit "$2"
}
# shellcheck disable=SC2317 # called from the trap below
drain() {
    trap '' TERM
    echo "wsgi: SIGTERM received, serving ${DRAIN}s more while the load balancer drains this task"
    sleep "$DRAIN" &
    wait $! || true
    stop "drained, stopping the workers" 0
}
trap drain TERM
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
