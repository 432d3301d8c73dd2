#!/usr/bin/env bash
# Makes a hot standby of DATABASE_URL's PostgreSQL server on this machine and points the app at it, and says
# what it did. Idempotent: a running standby of the same primary is left as it is, a stopped one is started.
#
#   1. The primary accepts replication connections from loopback (a pg_hba.conf line, then a reload).
#   2. A Debian cluster named "replica" on REPLICA_PORT (default 5433): pg_createcluster, then its data
#      directory replaced by `pg_basebackup -R` from the primary, streaming through the physical replication
#      slot "claims_replica" (the primary keeps the WAL the standby has not received), then started.
#   3. .env gets DATABASE_REPLICA_URL=postgres://127.0.0.1:PORT/ (no database, no user: DATABASE_URL's are
#      used, whichever database that names). Django's settings read it
#      (config/settings/base.py), and the database router sends stale-tolerant reads there (ops.platform.replica).
#
# PostgreSQL docs: "Hot Standby" (27.4), "Replication Slots" (27.2.6), pg_basebackup. `REPLICA=drop` removes the
# cluster, the slot and the .env line. Needs root (pg_createcluster; pg_basebackup runs as the postgres user).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env

REPLICA_PORT="${REPLICA_PORT:-5433}"
REPLICA_NAME="${REPLICA_NAME:-replica}"
SLOT="claims_replica"
HBA_MARKER="# claims-platform scripts/replica.sh"
WAIT_SECONDS="${WAIT_SECONDS:-60}"

parse_admin_url
ADMIN_HOST="${DB_HOST:-127.0.0.1}" ADMIN_PORT="$DB_PORT" ADMIN_USER="$DB_USER"
parse_db_url
db_is_local || die "replica: DATABASE_URL's server ($DB_WHERE) is not on this machine; point DATABASE_REPLICA_URL at a replica of it instead"

admin_sql() { PGCONNECT_TIMEOUT=5 psql -X -w -q -A -t -v ON_ERROR_STOP=1 -h "$ADMIN_HOST" -p "$ADMIN_PORT" -U "$ADMIN_USER" -d postgres "$@"; }
replica_sql() { PGCONNECT_TIMEOUT=5 psql -X -w -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$REPLICA_PORT" -U "$ADMIN_USER" -d postgres "$@"; }

# The .env line the app reads; rewritten, never duplicated. The URL carries no credentials (replica_url).
set_env_url() {
    local url="$1"
    touch .env
    sed -i '/^DATABASE_REPLICA_URL=/d' .env
    if [ -n "$url" ]; then
        printf 'DATABASE_REPLICA_URL=%s\n' "$url" >>.env
        log "replica: .env: DATABASE_REPLICA_URL=$url"
    else
        log "replica: .env: DATABASE_REPLICA_URL removed"
    fi
}

# No database name and no user: the app reads DATABASE_URL's database, as DATABASE_URL's role, on the standby
# (config/settings/base.py), whichever database DATABASE_URL names later.
replica_url() {
    printf 'postgres://127.0.0.1:%s/' "$REPLICA_PORT"
}

drop_slot() {
    admin_sql -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                  WHERE slot_name = '$SLOT' AND NOT active" >/dev/null
}

# write_conf FILE: the standby's own settings; returns 0 when FILE changed.
write_conf() {
    local file="$1" new
    new="$(
        printf '%s\n' "$HBA_MARKER"
        printf "listen_addresses = '127.0.0.1'\n"
        printf 'port = %s\n' "$REPLICA_PORT"
        printf 'hot_standby = on\n'
        # Off: with it on, the primary's vacuum horizon follows the standby through the slot's xmin (sent every
        # 10 s), so VACUUM cannot mark just-written pages all-visible and index-only scans go back to the heap
        # (the plan tests caught it). A report that conflicts with replay instead waits up to
        # max_standby_streaming_delay (30 s) and is then cancelled; the analytics statements take milliseconds.
        # PostgreSQL docs 27.4.2, "Handling Query Conflicts".
        printf 'hot_standby_feedback = off\n'
    )"
    if [ -f "$file" ] && [ "$(cat "$file")" = "$new" ]; then return 1; fi
    printf '%s\n' "$new" >"$file"
    log "replica: wrote $file"
}

if [ "${REPLICA:-}" = drop ]; then
    if find_pg_cluster name "$REPLICA_NAME"; then
        need_root "dropping the replica cluster" "pg_dropcluster --stop $CL_VER $REPLICA_NAME"
        log "replica: pg_dropcluster --stop $CL_VER $REPLICA_NAME"
        pg_dropcluster --stop "$CL_VER" "$REPLICA_NAME"
    fi
    drop_slot
    set_env_url ""
    exit 0
fi

# 1. Replication connections from loopback. `host all` does not cover them: pg_hba.conf names them "replication".
if ! PGCONNECT_TIMEOUT=5 psql -X -w -q -A -t "host=$ADMIN_HOST port=$ADMIN_PORT user=$ADMIN_USER replication=true dbname=postgres" \
    -c "IDENTIFY_SYSTEM" >/dev/null 2>&1; then
    hba="$(admin_sql -c "SHOW hba_file")"
    need_root "allowing replication connections in $hba" "sed -i '1i host replication $ADMIN_USER 127.0.0.1/32 trust' $hba"
    log "replica: DEV MACHINE ONLY: $hba: 'host replication $ADMIN_USER 127.0.0.1/32 trust' (backup: $hba.bak), then a reload"
    cp -p "$hba" "$hba.bak"
    {
        printf '%s: replication from loopback for the local hot standby\n' "$HBA_MARKER"
        printf 'host replication %s 127.0.0.1/32 trust\n' "$ADMIN_USER"
        cat "$hba.bak"
    } >"$hba"
    admin_sql -c "SELECT pg_reload_conf()" >/dev/null
    sleep 1
fi
PRIMARY_ID="$(admin_sql -c "SELECT system_identifier FROM pg_control_system()")"

# 2. The standby. A running one of this primary is kept; anything else on that name is made anew.
if find_pg_cluster name "$REPLICA_NAME"; then
    if [[ "$CL_STATUS" != online* ]]; then
        need_root "starting the replica" "pg_ctlcluster --skip-systemctl-redirect $CL_VER $REPLICA_NAME start"
        log "replica: pg_ctlcluster $CL_VER $REPLICA_NAME start"
        pg_ctlcluster --skip-systemctl-redirect "$CL_VER" "$REPLICA_NAME" start || true
    fi
    state="$(replica_sql -c "SELECT pg_is_in_recovery()::text || ' ' || system_identifier FROM pg_control_system()" 2>/dev/null || true)"
    if [ "$CL_PORT" = "$REPLICA_PORT" ] && [ "$state" = "true $PRIMARY_ID" ]; then
        log "replica: $CL_VER/$REPLICA_NAME on port $REPLICA_PORT is a hot standby of $DB_WHERE already"
        # A test run that stopped mid-way can leave WAL replay paused (tests/test_replica.py pauses it).
        if [ "$(replica_sql -c "SELECT pg_is_wal_replay_paused()")" = t ]; then
            replica_sql -c "SELECT pg_wal_replay_resume()" >/dev/null
            log "replica: WAL replay was paused: resumed"
        fi
        if write_conf "/etc/postgresql/$CL_VER/$REPLICA_NAME/conf.d/90-claims-replica.conf"; then
            replica_sql -c "SELECT pg_reload_conf()" >/dev/null
            log "replica: settings reloaded"
        fi
        set_env_url "$(replica_url)"
        exit 0
    fi
    need_root "replacing the replica cluster" "pg_dropcluster --stop $CL_VER $REPLICA_NAME"
    log "replica: $CL_VER/$REPLICA_NAME is not a running standby of $DB_WHERE (${state:-no answer}): made anew"
    pg_dropcluster --stop "$CL_VER" "$REPLICA_NAME"
fi

VER="$(admin_sql -c "SELECT current_setting('server_version_num')::int / 10000")"
[ -x "/usr/lib/postgresql/$VER/bin/postgres" ] || die "replica: the primary is PostgreSQL $VER, which is not installed here"
need_root "creating the replica cluster" "pg_createcluster --port $REPLICA_PORT $VER $REPLICA_NAME"
log "replica: pg_createcluster --port $REPLICA_PORT $VER $REPLICA_NAME"
pg_createcluster --port "$REPLICA_PORT" "$VER" "$REPLICA_NAME" >/dev/null
DATA="/var/lib/postgresql/$VER/$REPLICA_NAME"
CONF="/etc/postgresql/$VER/$REPLICA_NAME"
find "${DATA:?}" -mindepth 1 -delete  # pg_basebackup fills the empty directory (owned by postgres)
drop_slot
log "replica: pg_basebackup -h $ADMIN_HOST -p $ADMIN_PORT -D $DATA -R -X stream -C -S $SLOT --checkpoint=fast"
runuser -u postgres -- pg_basebackup -h "$ADMIN_HOST" -p "$ADMIN_PORT" -U "$ADMIN_USER" -D "$DATA" \
    -R -X stream -C -S "$SLOT" --checkpoint=fast
write_conf "$CONF/conf.d/90-claims-replica.conf" || true
# The standby answers the same roles from the same places as the primary: its access rules are the primary's.
cp "$(admin_sql -c "SHOW hba_file")" "$CONF/pg_hba.conf"
log "replica: pg_ctlcluster $VER $REPLICA_NAME start"
pg_ctlcluster --skip-systemctl-redirect "$VER" "$REPLICA_NAME" start
for ((i = 0; i < WAIT_SECONDS; i++)); do
    pg_isready -q -h 127.0.0.1 -p "$REPLICA_PORT" && break
    sleep 1
done
[ "$(replica_sql -c "SELECT pg_is_in_recovery()")" = t ] || die "replica: port $REPLICA_PORT answers but is not in recovery"
log "replica: $VER/$REPLICA_NAME on port $REPLICA_PORT is a hot standby of $DB_WHERE (slot $SLOT)"
set_env_url "$(replica_url)"
