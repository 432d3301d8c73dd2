#!/usr/bin/env bash
# Runs the web server, a Celery worker and Celery beat together (honcho reads the Procfile); Ctrl-C stops all.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

SERVE_ADDR="${SERVE_ADDR:-127.0.0.1:8000}"
log ""
log "serve: admin at http://$SERVE_ADDR/admin/  (user $DEMO_ADMIN_USER," \
    "password $DEMO_ADMIN_PASSWORD); analytics at http://$SERVE_ADDR/analytics/"
log "serve: the sign-in also asks for a TOTP code: the authenticator entry is var/demo_totp.txt (make superuser)," \
    "unless OTP_REQUIRED=False is set for this development machine"
log "serve: web, Celery worker and beat (honcho -f Procfile start); Ctrl-C stops them all"
export SERVE_ADDR
exec "$(dirname "$VPY")/honcho" -f Procfile start
