#!/usr/bin/env bash
# Serves the admin with Django's development server; stop it with Ctrl-C.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

SERVE_ADDR="${SERVE_ADDR:-127.0.0.1:8000}"
log ""
log "serve: admin at http://$SERVE_ADDR/admin/  (user $DEMO_ADMIN_USER," \
    "password $DEMO_ADMIN_PASSWORD); Ctrl-C stops it"
exec "$VPY" manage.py runserver "$SERVE_ADDR"
