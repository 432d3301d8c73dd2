#!/usr/bin/env bash
# Makes sure the PostgreSQL server named by DATABASE_URL and the Redis named by REDIS_URL answer, and says
# what it did. A local server that is down is started; one that is not installed is installed from Debian's
# packages (postgresql, redis-server). Nothing already running is restarted, except PostgreSQL once when
# shared_preload_libraries lacks pg_stat_statements (the setting only takes effect at server start).
# Changes to the machine need root; without it the script prints the commands to run and exits 1.
#
# Usage: scripts/services.sh [postgres] [redis]     (both when no argument is given)
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env

WAIT_SECONDS="${WAIT_SECONDS:-30}"
HBA_MARKER="# claims-platform scripts/services.sh"

# ---------------------------------------------------------------- PostgreSQL

pg_ready() {
    local args=(-q -t 3 -p "$DB_PORT")
    if [ -n "$DB_HOST" ]; then args+=(-h "$DB_HOST"); fi
    pg_isready "${args[@]}"
}

wait_pg() {
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        pg_ready && return 0
        sleep 1
    done
    return 1
}

pg_server_installed() {
    have pg_lsclusters && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# find_cluster: CL_VER, CL_NAME, CL_STATUS of the Debian cluster that listens on DATABASE_URL's port.
find_cluster() { find_pg_cluster port "$DB_PORT"; }

pg_ctl_cmd() { printf 'pg_ctlcluster --skip-systemctl-redirect %s %s %s' "$CL_VER" "$CL_NAME" "$1"; }

pg_ctl() {
    log "postgres: $(pg_ctl_cmd "$1")"
    pg_ctlcluster --skip-systemctl-redirect "$CL_VER" "$CL_NAME" "$1"
}

start_local_postgres() {
    if ! pg_server_installed; then
        log "postgres: no server installed on this machine: installing it from Debian's packages"
        apt_install postgresql
        # On a machine with an init system the package starts its cluster itself.
        if pg_ready; then
            log "postgres: the new server is running"
            return 0
        fi
    fi
    if ! find_cluster; then
        if [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
            die "postgres: no cluster listens on port $DB_PORT; this machine has: $(pg_lsclusters -h |
                awk '{printf "%s/%s on port %s (%s); ", $1, $2, $3, $4}')set the port in DATABASE_URL"
        fi
        local ver
        ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
        need_root "creating a PostgreSQL cluster" "pg_createcluster --port $DB_PORT $ver main"
        log "postgres: no cluster yet: pg_createcluster --port $DB_PORT $ver main"
        pg_createcluster --port "$DB_PORT" "$ver" main
        find_cluster || die "postgres: pg_createcluster made no cluster on port $DB_PORT"
    fi
    if [[ "$CL_STATUS" == online* ]]; then
        die "postgres: cluster $CL_VER/$CL_NAME is online but does not answer at $DB_WHERE:" \
            "check listen_addresses in /etc/postgresql/$CL_VER/$CL_NAME/postgresql.conf"
    fi
    need_root "starting PostgreSQL" "$(pg_ctl_cmd start)"
    log "postgres: cluster $CL_VER/$CL_NAME is $CL_STATUS: starting it"
    pg_ctl start
    wait_pg || die "postgres: started, but nothing answers at $DB_WHERE after ${WAIT_SECONDS}s:" \
        "see /var/log/postgresql/postgresql-$CL_VER-$CL_NAME.log"
    log "postgres: started"
}

# A fresh Debian cluster authenticates TCP logins by password (scram) and the postgres role has none, so
# the default DATABASE_URL cannot log in. Only then, and only for a local server and the postgres role,
# a trust line for loopback goes at the top of pg_hba.conf. That is for a developer's machine only.
ensure_pg_login() {
    local err
    if err="$(psql_at postgres -c 'SELECT 1' 2>&1 >/dev/null)"; then
        return 0
    fi
    if ! db_is_local || [ "$DB_USER" != postgres ] || [ -n "$DB_PASSWORD" ] || ! find_cluster ||
        ! [[ "$err" == *authentication* || "$err" == *"no password supplied"* || "$err" == *pg_hba.conf* ]]; then
        die "postgres: cannot log in at $DB_WHERE as $DB_USER to database postgres: $err"
    fi
    local hba="/etc/postgresql/$CL_VER/$CL_NAME/pg_hba.conf"
    local lines
    case "$DB_HOST" in
    "" | /*) lines="local all postgres trust" ;;
    *) lines=$'host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' ;;
    esac
    local fix=() line
    while read -r line; do fix=("sed -i '1i $line' $hba" "${fix[@]}"); done <<<"$lines"
    need_root "letting the postgres role log in without a password" "${fix[@]}" "$(pg_ctl_cmd reload)"
    [ -f "$hba" ] || die "postgres: cannot log in as postgres ($err) and $hba does not exist"
    if grep -qF "$HBA_MARKER" "$hba"; then
        die "postgres: cannot log in as postgres although $hba already has this script's trust lines: $err"
    fi
    log "postgres: login as postgres at $DB_WHERE refused ($(head -n 1 <<<"$err"))"
    log "postgres: DEV MACHINE ONLY: adding to the top of $hba (backup: $hba.bak):"
    while read -r line; do log "    $line"; done <<<"$lines"
    cp -p "$hba" "$hba.bak"
    # Written through the existing file so that its owner and mode stay as they are.
    {
        printf '%s: dev machine only, postgres logs in without a password.\n' "$HBA_MARKER"
        printf '%s\n' "$lines"
        cat "$hba.bak"
    } >"$hba"
    pg_ctl reload
    err=""
    local i
    for ((i = 0; i < 5; i++)); do
        if err="$(psql_at postgres -c 'SELECT 1' 2>&1 >/dev/null)"; then
            log "postgres: login as postgres works now"
            return 0
        fi
        sleep 1
    done
    die "postgres: still cannot log in after changing $hba: $err"
}

pg_stat_statements_preloaded() {
    local spl
    spl="$(psql_at postgres -c 'SHOW shared_preload_libraries')"
    spl="${spl//[\" ]/}"
    [[ ",$spl," == *",pg_stat_statements,"* ]]
}

ensure_pg_preload() {
    if pg_stat_statements_preloaded; then
        return 0
    fi
    local current
    current="$(psql_at postgres -c 'SHOW shared_preload_libraries')"
    if ! db_is_local || ! find_cluster; then
        die "postgres: shared_preload_libraries at $DB_WHERE is '$current', without pg_stat_statements:" \
            "add it on that server and restart it (the ops pages and migrations need it)"
    fi
    # A list setting takes one quoted literal per item: 'a,b' would be read as a single library named "a,b".
    local items=() item sql
    IFS=',' read -r -a items <<<"${current//[\" ]/}"
    sql="ALTER SYSTEM SET shared_preload_libraries = "
    for item in "${items[@]}"; do
        [ -n "$item" ] && sql+="'$item', "
    done
    sql+="'pg_stat_statements'"
    need_root "preloading pg_stat_statements" \
        "runuser -u postgres -- psql -p $DB_PORT -c \"$sql\"" "$(pg_ctl_cmd restart)"
    log "postgres: shared_preload_libraries is '$current': $sql, then a restart"
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$DB_PORT" -c "$sql")
    pg_ctl restart
    wait_pg || die "postgres: no answer at $DB_WHERE after the restart"
    pg_stat_statements_preloaded || die "postgres: pg_stat_statements still not in shared_preload_libraries"
    log "postgres: restarted with pg_stat_statements preloaded"
}

check_pg_extensions() {
    local missing
    missing="$(
        psql_at postgres <<'SQL'
SELECT string_agg(n, ' ') FROM unnest(ARRAY['pg_trgm', 'btree_gin', 'pg_stat_statements']) AS n
WHERE n NOT IN (SELECT name FROM pg_available_extensions);
SQL
    )"
    if [ -n "$missing" ]; then
        die "postgres: extensions not available on $DB_WHERE: $missing (they ship with the server's contrib" \
            "modules; on Debian 12 in the postgresql-15 package)"
    fi
    if [ "$(psql_at postgres -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')" != t ]; then
        warn "postgres: $DB_USER (DATABASE_ADMIN_URL) is not a superuser: manage.py db_roles creates the roles" \
            "and a template database with pg_stat_statements and pgstattuple, which need one"
    fi
}

# HypoPG (hypothetical indexes) lets the ops index advisor cost an index without building it. Optional: the
# advisor falls back to heuristics without it, so a remote server or a non-root run only gets a warning.
# Nothing is restarted: HypoPG needs no preload, the advisor runs CREATE EXTENSION IF NOT EXISTS itself.
ensure_hypopg() {
    if [ "$(psql_at postgres -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'")" = 1 ]; then
        return 0
    fi
    local major pkg
    major="$(psql_at postgres -c 'SHOW server_version_num')"
    pkg="postgresql-$((major / 10000))-hypopg"
    if ! db_is_local || [ "$(id -u)" != 0 ] || ! have apt-get; then
        warn "postgres: HypoPG is not installed ($pkg on Debian): the index advisor will use heuristics only"
        return 0
    fi
    log "postgres: HypoPG missing: installing $pkg for the index advisor"
    apt_install "$pkg"
}

ensure_postgres() {
    parse_admin_url
    if ! have psql || ! have pg_isready; then
        if db_is_local; then
            log "postgres: psql/pg_isready not found: installing the server from Debian's packages"
            apt_install postgresql
        else
            log "postgres: psql/pg_isready not found: installing the client from Debian's packages"
            apt_install postgresql-client
        fi
    fi
    if pg_ready; then
        log "postgres: server answers at $DB_WHERE"
    elif db_is_local; then
        log "postgres: nothing answers at $DB_WHERE"
        start_local_postgres
    else
        die "postgres: nothing answers at $DB_WHERE, which is not this machine: start that server or change DATABASE_URL"
    fi
    ensure_pg_login
    ensure_pg_preload
    check_pg_extensions
    ensure_hypopg
    log "postgres: ready at $DB_WHERE as $DB_USER (PostgreSQL" \
        "$(psql_at postgres -c 'SHOW server_version')), pg_stat_statements preloaded, pg_trgm and btree_gin available"
}

# ---------------------------------------------------------------- Redis

parse_redis_url() {
    local assignments
    assignments="$("$PYTHON" - "$REDIS_URL" <<'PY'
import shlex
import sys
from urllib.parse import urlsplit

u = urlsplit(sys.argv[1])
if u.scheme not in ("redis", "rediss"):
    sys.exit(f"REDIS_URL must be a redis:// or rediss:// URL, got scheme {u.scheme!r}")
try:
    port = u.port or 6379
except ValueError as e:
    sys.exit(f"REDIS_URL: {e}")
print(f"R_HOST={shlex.quote(u.hostname or '127.0.0.1')}")
print(f"R_PORT={port}")
print(f"R_SCHEME={u.scheme}")
PY
)" || die "cannot parse REDIS_URL"
    eval "$assignments"
}

# redis_ping: true when the server answers PING with PONG; redis-cli when installed, else a raw socket.
redis_ping() {
    if have redis-cli; then
        local tls=()
        if [ "$R_SCHEME" = rediss ]; then tls=(--tls); fi
        [ "$(timeout 5 redis-cli "${tls[@]}" -u "$REDIS_URL" --no-auth-warning ping 2>/dev/null)" = PONG ]
    else
        "$PYTHON" - "$REDIS_URL" <<'PY'
import socket
import sys
from urllib.parse import unquote, urlsplit

u = urlsplit(sys.argv[1])


def command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


try:
    with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=3) as s:
        if u.password:
            auth = [unquote(u.username), unquote(u.password)] if u.username else [unquote(u.password)]
            s.sendall(command("AUTH", *auth))
            s.recv(256)
        s.sendall(command("PING"))
        sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
    fi
}

ensure_redis() {
    parse_redis_url
    if redis_ping; then
        log "redis: reachable at $R_HOST:$R_PORT (PONG)"
        return 0
    fi
    case "$R_HOST" in
    127.0.0.1 | localhost | ::1) ;;
    *) die "redis: no answer at $R_HOST:$R_PORT, which is not this machine: start it or change REDIS_URL" ;;
    esac
    log "redis: no answer at $R_HOST:$R_PORT"
    if ! have redis-server; then
        log "redis: not installed: installing redis-server from Debian's packages"
        apt_install redis-server
        # On a machine with an init system the package starts the server itself.
        if redis_ping; then
            log "redis: the new server is running at $R_HOST:$R_PORT"
            return 0
        fi
    fi
    # No persistence: Redis is the Celery broker here, and every durable thing lives in PostgreSQL.
    local cmd=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$R_PORT" --save "" --appendonly no
        --dir /var/lib/redis --logfile /var/log/redis/ci.log)
    need_root "starting Redis" "mkdir -p /var/lib/redis /var/log/redis" "$(printf '%q ' "${cmd[@]}")"
    mkdir -p /var/lib/redis /var/log/redis
    log "redis: starting: $(printf '%q ' "${cmd[@]}")"
    "${cmd[@]}"
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if redis_ping; then
            log "redis: started at $R_HOST:$R_PORT"
            return 0
        fi
        sleep 1
    done
    die "redis: started, but no PONG from $R_HOST:$R_PORT after ${WAIT_SECONDS}s: see /var/log/redis/ci.log"
}

# ---------------------------------------------------------------- main

[ "$#" -gt 0 ] || set -- postgres redis
for service in "$@"; do
    case "$service" in
    postgres) ensure_postgres ;;
    redis) ensure_redis ;;
    *) die "unknown service '$service' (postgres, redis)" ;;
    esac
done
