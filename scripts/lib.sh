# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are read by the scripts that source this file
# Helpers shared by the set-up scripts. Each script sources this file first: strict mode, the project root
# as the working directory, the connection settings read the way Django reads them, and small printers.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
VPY="$VENV/bin/python"
# apt-get must never stop to ask (CI has no stdin).
export DEBIAN_FRONTEND=noninteractive

log() { printf '%s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# need_root WHAT CMD...: as root, return so the caller runs CMD; otherwise print CMD and stop.
need_root() {
    local what="$1"
    shift
    is_root && return 0
    {
        printf 'ERROR: %s needs root, and this is %s. Run these commands, then run make again:\n' \
            "$what" "$(id -un)"
        local c
        for c in "$@"; do printf '    sudo %s\n' "$c"; done
    } >&2
    exit 1
}

# apt_install PKG...: install Debian packages (root only), refreshing the package lists once per script.
APT_UPDATED=""
apt_install() {
    need_root "installing $*" "apt-get update" "apt-get install -y --no-install-recommends $*"
    have apt-get || die "apt-get not found: install $* with this system's package manager"
    if [ -z "$APT_UPDATED" ]; then
        log "apt: apt-get update"
        apt-get update -q
        APT_UPDATED=1
    fi
    log "apt: apt-get install -y --no-install-recommends $*"
    apt-get install -y -q --no-install-recommends "$@"
}

require_venv() {
    [ -x "$VPY" ] || die "$VENV is missing: run 'make venv' (scripts/venv.sh) first"
}

# manage ARGS...: the project's manage.py in the virtualenv.
manage() { "$VPY" manage.py "$@"; }

# load_env: what Django's settings do (config/settings/base.py): variables already in the environment win,
# then .env (django-environ, overwrite=False), then the defaults. Everything is exported for manage.py.
load_env() {
    if [ -f .env ]; then
        local assignments
        assignments="$("$PYTHON" - .env <<'PY'
import os
import re
import shlex
import sys

line_re = re.compile(r"\A\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*\Z")
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        m = line_re.match(line)
        if not m or m.group(1) in os.environ:
            continue
        key, value = m.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*\Z", "", value)
        print(f"export {key}={shlex.quote(value)}")
PY
)"
        eval "$assignments"
    fi
    # The app role, as config/settings/base.py: the web and the workers (README "Database roles").
    export DATABASE_URL="${DATABASE_URL:-postgres://claims_app@127.0.0.1:5432/claims}"
    export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
    # The demo superuser (scripts/superuser.sh); a fixed, printed password for a developer's machine.
    export DEMO_ADMIN_USER="${DEMO_ADMIN_USER:-admin}"
    export DEMO_ADMIN_PASSWORD="${DEMO_ADMIN_PASSWORD:-claims-demo}"
}

# parse_db_url [URL]: DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME from URL (default DATABASE_URL). An empty
# host means the local socket, as in libpq. PGPASSWORD is exported only when the URL carries a password.
parse_db_url() {
    local assignments
    assignments="$("$PYTHON" - "${1:-$DATABASE_URL}" <<'PY'
import shlex
import sys
from urllib.parse import unquote, urlsplit

u = urlsplit(sys.argv[1])
if u.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
    sys.exit(f"DATABASE_URL must be a postgres:// URL, got scheme {u.scheme!r}")
try:
    port = u.port or 5432
except ValueError as e:
    sys.exit(f"DATABASE_URL: {e}")
name = unquote(u.path.lstrip("/"))
if not name:
    sys.exit("DATABASE_URL names no database (postgres://user@host:port/DBNAME)")
values = {
    "DB_HOST": unquote(u.hostname or ""),
    "DB_PORT": str(port),
    "DB_USER": unquote(u.username or ""),
    "DB_PASSWORD": unquote(u.password or ""),
    "DB_NAME": name,
}
for k, v in values.items():
    print(f"{k}={shlex.quote(v)}")
PY
)" || die "cannot parse DATABASE_URL"
    eval "$assignments"
    [ -n "$DB_USER" ] || DB_USER="$(id -un)"
    if [ -n "$DB_PASSWORD" ]; then export PGPASSWORD="$DB_PASSWORD"; fi
    DB_WHERE="${DB_HOST:-local socket}:$DB_PORT"
}

# parse_admin_url: parse_db_url of DATABASE_ADMIN_URL, by default the postgres superuser at DATABASE_URL's
# server (as config/settings/base.py). The server checks and set-up log in with it: DATABASE_URL's app role
# has no rights on the server, and does not exist before `manage.py db_roles`.
parse_admin_url() {
    parse_db_url
    local host="$DB_HOST"
    case "$host" in *:*) host="[$host]" ;; esac
    parse_db_url "${DATABASE_ADMIN_URL:-postgres://postgres@$host:$DB_PORT/postgres}"
}

# True when DATABASE_URL points at this machine, where the scripts may start or install the server.
db_is_local() {
    case "$DB_HOST" in
    "" | 127.0.0.1 | localhost | ::1 | /*) return 0 ;;
    *) return 1 ;;
    esac
}

# psql_at DBNAME [psql args...]: unaligned, tuples-only psql as DATABASE_URL's user; SQL on stdin or -c.
psql_at() {
    local db="$1"
    shift
    # -w: never ask for a password (CI has no terminal; a person would wait at a prompt).
    local args=(-X -w -q -A -t -v ON_ERROR_STOP=1 -p "$DB_PORT" -U "$DB_USER" -d "$db")
    if [ -n "$DB_HOST" ]; then args+=(-h "$DB_HOST"); fi
    PGCONNECT_TIMEOUT=5 psql "${args[@]}" "$@"
}

# find_pg_cluster FIELD VALUE: CL_VER CL_NAME CL_PORT CL_STATUS of the Debian cluster (pg_lsclusters) whose FIELD,
# "name" or "port", is VALUE; returns 1 when there is none.
find_pg_cluster() {
    CL_VER="" CL_NAME="" CL_PORT="" CL_STATUS=""
    have pg_lsclusters || return 1
    local ver name port status rest
    while read -r ver name port status rest; do
        if { [ "$1" = name ] && [ "$name" = "$2" ]; } || { [ "$1" = port ] && [ "$port" = "$2" ]; }; then
            CL_VER="$ver" CL_NAME="$name" CL_PORT="$port" CL_STATUS="$status"
            return 0
        fi
    done < <(pg_lsclusters -h 2>/dev/null)
    return 1
}
