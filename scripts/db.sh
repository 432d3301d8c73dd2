#!/usr/bin/env bash
# Creates DATABASE_URL's database when it is missing, applies the migrations and creates the monthly
# partitions (manage.py pgpartition --yes). Safe to run again: each step does only what is missing.
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

log "database: manage.py migrate"
manage migrate --noinput
# pgpartition prints six lines per partition in its plan (over 300 on a new database): the plan goes to a
# log file, its totals to the screen.
mkdir -p var/log
log "database: manage.py pgpartition --yes (monthly partitions; plan in var/log/pgpartition.log)"
if ! manage pgpartition --yes >var/log/pgpartition.log 2>&1; then
    cat var/log/pgpartition.log >&2
    die "database: pgpartition failed"
fi
grep -E 'partitions will be|Nothing to be done|Operations applied' var/log/pgpartition.log | sed 's/^/    /' || true
log "database: manage.py sync_schedules (Celery beat schedules from config/beat.py)"
manage sync_schedules | sed 's/^/    /'
