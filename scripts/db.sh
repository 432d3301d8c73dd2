#!/usr/bin/env bash
# Creates DATABASE_URL's database when it is missing, applies the migrations and creates the monthly
# partitions (manage.py partitions_maintain --yes). Safe to run again: each step does only what is missing.
# DB_RESET=1 drops the database first (CI uses it on its own database, never set it for a shared one).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
parse_db_url
require_venv

db_exists() {
    [ "$(psql_at postgres -v db="$DB_NAME" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" = 1 ]
}

if [ "${DB_RESET:-}" = 1 ] && db_exists; then
    log "database: DB_RESET=1: dropping $DB_NAME at $DB_WHERE"
    psql_at postgres -v db="$DB_NAME" <<<'DROP DATABASE :"db" WITH (FORCE)'
fi

if db_exists; then
    log "database: $DB_NAME exists at $DB_WHERE"
else
    psql_at postgres -v db="$DB_NAME" <<<'CREATE DATABASE :"db"'
    log "database: created $DB_NAME at $DB_WHERE"
fi

# The roles first (cluster-wide, from DATABASE_ADMIN_URL): migrate ends by granting them their privileges.
log "database: manage.py db_roles (owner, app and reporting roles; README \"Database roles\")"
manage db_roles | sed 's/^/    /'
log "database: manage.py migrate"
manage migrate --noinput
# The one creator of partitions (ops/platform/partitioning.py) through the daily rollover job: this month and
# the months ahead of every partition group. Ingest and the demo generator add the past months their claims need.
log "database: manage.py partitions_maintain --yes (monthly partitions: this month and the months ahead)"
manage partitions_maintain --yes | sed 's/^/    /'
log "database: manage.py sync_schedules (Celery beat schedules from config/beat.py)"
manage sync_schedules | sed 's/^/    /'
