#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# WSGI role (image tag `latest`): serves the portal behind the load balancer.
# assume_identity, then nginx (listens on 8000, proxies to the app on 127.0.0.1:6543; it
# daemonizes), then the app server replaces this shell, so the SIGTERM ECS sends reaches it.
set -eu

IMAGE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
APP_HOME=${APP_HOME:-/home/nginx/cgap-portal}
NGINX_CONF=${NGINX_CONF:-/etc/nginx/nginx.conf}
# nginx runs as the unprivileged app user: its pid file and temp dirs live under this prefix.
NGINX_PREFIX=${NGINX_PREFIX:-/tmp/nginx/}

echo "wsgi: starting cgap-portal ${APP_VERSION:-(version unknown)}"
# shellcheck source=assume_identity
. "$IMAGE_DIR/assume_identity"
cd "$APP_HOME"

mkdir -p "$NGINX_PREFIX"
echo "wsgi: starting nginx on port 8000"
nginx -e stderr -p "$NGINX_PREFIX" -c "$NGINX_CONF"

echo "wsgi: starting the app server on 127.0.0.1:6543"
exec pserve production.ini
