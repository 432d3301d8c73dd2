#!/usr/bin/env bash
# Creates .venv and installs the project with its dev extras (pip install -e '.[dev]').
# Skipped when .venv/.installed is newer than pyproject.toml and the venv's python still runs;
# FORCE=1 reinstalls anyway.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

STAMP="$VENV/.installed"

if [ -z "${FORCE:-}" ] && [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && "$VPY" -c '' 2>/dev/null; then
    log "venv: $VENV up to date ($STAMP newer than pyproject.toml)"
    exit 0
fi

have "$PYTHON" || die "$PYTHON not found: install Python 3.11 (Debian 12: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' ||
    die "$("$PYTHON" -V 2>&1) found; the project needs Python 3.11 or 3.12 (Django 5.2, pyproject.toml)"

# A venv whose python or pip no longer runs (a moved folder, a half-made venv) is made again.
if [ -d "$VENV" ] && ! "$VPY" -m pip --version >/dev/null 2>&1; then
    log "venv: $VENV is broken (its python or pip does not run): recreating it"
    rm -rf "$VENV"
fi

if [ ! -d "$VENV" ]; then
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        # Debian splits venv/ensurepip out of python3.
        pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        apt_install "python$pyver-venv"
    fi
    log "venv: creating $VENV with $("$PYTHON" -V 2>&1) ($(command -v "$PYTHON"))"
    "$PYTHON" -m venv "$VENV"
fi

log "venv: pip install -e '.[dev]' (first time: a minute or two)"
"$VPY" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
if ! "$VPY" -m pip check >/dev/null 2>&1; then
    warn "pip check reports conflicts:"
    "$VPY" -m pip check >&2 || true
fi
touch "$STAMP"
log "venv: $VENV ready ($("$VPY" -c 'import django; print("Django", django.get_version())'))"
