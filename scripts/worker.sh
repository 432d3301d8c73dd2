#!/usr/bin/env bash
# The Celery worker of `make serve` / `make demo` (Procfile). Started as root (a container, this machine's CI),
# it does not keep root: the system user WORKER_USER (default "claims-worker", made when missing) owns var/,
# where the worker writes, and Celery drops to it right after start-up (`--uid` / `--gid`). Started as anyone
# else, it runs as that user. Extra arguments go to `celery worker`.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

WORKER_USER="${WORKER_USER:-claims-worker}"
args=(-A config worker --loglevel INFO --concurrency 2 "$@")

# ensure_traverse PATH: the worker user may pass through every directory on the way to PATH. A directory it
# cannot pass (a Python installed under /root by pyenv) gets an ACL entry for that user alone: traverse (x),
# not list or read.
ensure_traverse() {
    local dir="$1" dirs=()
    while [ "$dir" != "/" ]; do
        dirs=("$dir" "${dirs[@]}")
        dir="$(dirname "$dir")"
    done
    for dir in "${dirs[@]}"; do
        if ! runuser -u "$WORKER_USER" -- test -x "$dir"; then
            have setfacl || apt_install acl
            setfacl -m "u:$WORKER_USER:x" "$dir"
            log "worker: $WORKER_USER may now pass through $dir (ACL u:$WORKER_USER:x, nothing more)"
        fi
    done
}

if is_root; then
    if ! id -u "$WORKER_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$WORKER_USER"
        log "worker: made the system user $WORKER_USER (the worker does not run as root)"
    fi
    ensure_traverse "$("$VPY" -c 'import sys; print(sys.base_prefix)')/lib"
    ensure_traverse "$ROOT/$VENV"
    runuser -u "$WORKER_USER" -- "$VPY" -c "import django, celery" ||
        die "worker: $WORKER_USER cannot run $VPY (unreadable files on its way?)"
    mkdir -p var
    chown -R "$WORKER_USER:$WORKER_USER" var
    args+=(--uid "$WORKER_USER" --gid "$WORKER_USER")
fi
exec "$VENV/bin/celery" "${args[@]}"
