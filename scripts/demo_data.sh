#!/usr/bin/env bash
# Demo claims: on an empty database, a synthetic plan with adjudicated history (generate_demo_data,
# DEMO_HISTORY_CLAIMS claims over 24 months, so the analytics pages have approvals, denials and payments);
# then generates 837P files into var/demo_837 (once) and ingests them, and ingests the real sample
# files under $SHARED_X12_DIR/837P (default ../shared/data/x12/837P) when that folder exists.
# Ingest is idempotent by file sha256, so running this again adds nothing.
#
# The generated files must load: a failure there stops the script. The real samples include files that
# are wrong on purpose; the ingest command rejects those with a non-zero exit, which is reported and never
# stops the demo.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

DEMO_DIR="${DEMO_DIR:-var/demo_837}"
DEMO_FILES="${DEMO_FILES:-4}"
DEMO_CLAIMS_PER_FILE="${DEMO_CLAIMS_PER_FILE:-250}"
DEMO_SEED="${DEMO_SEED:-837}"
DEMO_HISTORY_CLAIMS="${DEMO_HISTORY_CLAIMS:-50000}"
SHARED_837_DIR="${SHARED_X12_DIR:-../shared/data/x12}/837P"
LOG_DIR="var/log"

commands="$(manage help --commands)"
for c in generate_demo_data generate_demo_837 ingest_837; do
    grep -qx "$c" <<<"$commands" || die "demo data: manage.py $c does not exist (yet): it is part of the project"
done

# Only on an empty database: generate_demo_data replaces all claims, and a second set-up must keep what is there.
# A development tool that empties and bulk-loads tables (TRUNCATE, ANALYZE): it runs as the owner role.
log "demo data: manage.py generate_demo_data --claims $DEMO_HISTORY_CLAIMS --if-empty (adjudicated history, as the owner)"
DATABASE_URL="$(manage db_roles --owner-url)" manage generate_demo_data --claims "$DEMO_HISTORY_CLAIMS" --seed "$DEMO_SEED" --if-empty --no-progress \
    | grep -E 'already holds|claims_claim |total|DEFAULT' | sed 's/^/    /' || true

# Generated once: a second run must not write files with new contents (new sha256) and load them twice.
if compgen -G "$DEMO_DIR/*" >/dev/null; then
    log "demo data: $(find "$DEMO_DIR" -type f | wc -l) files already in $DEMO_DIR (delete the folder to regenerate)"
else
    log "demo data: manage.py generate_demo_837 --out $DEMO_DIR --files $DEMO_FILES" \
        "--claims-per-file $DEMO_CLAIMS_PER_FILE --seed $DEMO_SEED"
    tmp="$DEMO_DIR.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    manage generate_demo_837 --out "$tmp" --files "$DEMO_FILES" \
        --claims-per-file "$DEMO_CLAIMS_PER_FILE" --seed "$DEMO_SEED"
    # Renamed only when complete, so an interrupted run generates again next time.
    rm -rf "$DEMO_DIR"
    mv "$tmp" "$DEMO_DIR"
fi

# Progress bars only for a person watching.
progress=()
if [ ! -t 2 ]; then progress=(--no-progress); fi
# No worker runs during set-up: scripts/analytics.sh refreshes once at the end instead of queueing per file,
# and the claims are adjudicated below, once the roster is on file.
export ANALYTICS_REFRESH_ON_COMMIT=false CLAIMS_ADJUDICATE_ON_COMMIT=false
log "demo data: manage.py ingest_837 $DEMO_DIR"
manage ingest_837 "${progress[@]}" "$DEMO_DIR"

ingest_shared_samples() {
    mkdir -p "$LOG_DIR"
    local log_file="$LOG_DIR/ingest_shared_837P.log" status totals
    log "demo data: manage.py ingest_837 $SHARED_837_DIR (real samples; full output in $log_file)"
    if manage ingest_837 --no-progress "$SHARED_837_DIR" >"$log_file" 2>&1; then
        status=0
    else
        status=$?
    fi
    # ingest_837 reads the folder recursively, goes on past rejected files and ends with one totals line.
    totals="$(grep -E '^files [0-9]+, claims' "$log_file" | tail -n 1 || true)"
    if [ "$status" -eq 0 ]; then
        log "demo data: sample files: $totals"
    elif [ -n "$totals" ] && ! grep -q '^Traceback' "$log_file"; then
        log "demo data: sample files: $totals"
        log "demo data: ingest_837 exited $status because it rejected files; some samples are wrong on purpose:"
        grep '^REJECTED' "$log_file" | sed 's/^/    /' || true
    else
        # Not a verdict on a file: the command itself failed. The demo goes on; the log says why.
        warn "ingest_837 failed on the sample files (exit $status) before finishing; last lines of $log_file:"
        tail -n 15 "$log_file" >&2
    fi
}

if [ -d "$SHARED_837_DIR" ]; then
    ingest_shared_samples
else
    log "demo data: no sample files at $SHARED_837_DIR: skipped"
fi

# The plan's eligibility roster (synthetic; an 834 in production), then the engine decides every waiting claim.
# Some members are left out of the roster on purpose: their claims wait in the examiner's queue.
log "demo data: manage.py generate_demo_roster, then manage.py adjudicate"
manage generate_demo_roster --seed "$DEMO_SEED" | sed 's/^/    /'
manage adjudicate | sed 's/^/    /'
