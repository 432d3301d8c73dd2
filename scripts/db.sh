#!/usr/bin/env bash
# Creates DATABASE_URL's database when it is missing (owned by the owner role, from the template), applies the
# migrations as the owner and creates the monthly partitions as the app (manage.py partitions_maintain --yes,
# through the owner's functions). Safe to run again: each step does only what is missing.
# DB_RESET=1 drops the database first (CI uses it on its own database, never set it for a shared one).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
parse_db_url
require_venv

# The roles, the template with the extensions and the database (owned by the owner role), all from
# DATABASE_ADMIN_URL (cluster-wide; a superuser or CREATEROLE + CREATEDB connection).
reset=()
if [ "${DB_RESET:-}" = 1 ]; then
    log "database: DB_RESET=1: dropping $DB_NAME at $DB_WHERE first"
    reset=(--reset)
fi
log "database: manage.py db_roles --database (roles owner, app, reporting; template; README \"Database roles\")"
manage db_roles --database "${reset[@]}" | sed 's/^/    /'
# The owner runs the migrations (it owns the schema); migrate ends by granting the app and reporting roles.
log "database: manage.py migrate (as the owner role)"
DATABASE_URL="$(manage db_roles --owner-url)" manage migrate --noinput
log "database: manage.py partitions_maintain --yes (monthly partitions: this month and the months ahead)"
manage partitions_maintain --yes | sed 's/^/    /'
log "database: manage.py sync_schedules (Celery beat schedules from config/beat.py)"
manage sync_schedules | sed 's/^/    /'
