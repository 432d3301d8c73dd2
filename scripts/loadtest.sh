#!/usr/bin/env bash
# `make loadtest`: locust headless on loopback against gunicorn serving this database, for a bounded time and
# number of users, then a report (var/loadtest/<UTC time>/report.md; ops/loadtest/report.py).
#
#   LOADTEST_USERS   steps of concurrent users, run one after the other (default "50")
#   LOADTEST_TIME    how long each step runs once all its users are in (locust --run-time; default 60s)
#   LOADTEST_ADDR    where gunicorn listens (default 127.0.0.1:8010, so `make serve` on 8000 may run beside)
#   GUNICORN_WORKERS, GUNICORN_THREADS, DATABASE_POOL_MAX_SIZE, DATABASE_REPLICA_READS: the serving set-up
#     measured (ops/serving.py, README "Serving")
#
# The users sign in with a password drawn for this run (never printed); the server runs with DEBUG off and
# OTP_REQUIRED=False (locustfile.py says why). Ctrl-C stops locust and gunicorn.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

USERS="${LOADTEST_USERS:-50}"
RUN_TIME="${LOADTEST_TIME:-60s}"
ADDR="${LOADTEST_ADDR:-127.0.0.1:8010}"
RUN="var/loadtest/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"

LOADTEST_PASSWORD="$("$VPY" -c 'import secrets; print(secrets.token_urlsafe(24))')"
export LOADTEST_PASSWORD LOADTEST_SAMPLE="$RUN/sample.json"
log "loadtest: users and sample (manage.py loadtest_setup)"
manage loadtest_setup --sample "$LOADTEST_SAMPLE"
claims="$(manage shell -v 0 -c 'from claims.models import Claim; print(Claim.objects.count())' 2>/dev/null || echo "?")"

export DJANGO_SETTINGS_MODULE=config.settings.dev DJANGO_DEBUG=False OTP_REQUIRED=False SERVE_ADDR="$ADDR"
"$VENV/bin/gunicorn" -c ops/serving.py config.wsgi >"$RUN/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
trap 'kill "$GUNICORN_PID" 2>/dev/null || true; wait "$GUNICORN_PID" 2>/dev/null || true' EXIT
for ((i = 0; i < 60; i++)); do
    curl -fsS -o /dev/null "http://$ADDR/admin/login/" 2>/dev/null && break
    kill -0 "$GUNICORN_PID" 2>/dev/null || die "loadtest: gunicorn exited: see $RUN/gunicorn.log"
    sleep 1
done
curl -fsS -o /dev/null "http://$ADDR/admin/login/" || die "loadtest: gunicorn does not answer on $ADDR"

{
    printf 'Database: %s claims on file. Server: gunicorn %s workers x %s threads (gthread), ' \
        "$claims" "${GUNICORN_WORKERS:-2}" "${GUNICORN_THREADS:-4}"
    printf 'pool max %s per process and alias (0: none, CONN_MAX_AGE), replica reads %s. ' \
        "${DATABASE_POOL_MAX_SIZE:-0}" "${DATABASE_REPLICA_READS:-on when DATABASE_REPLICA_URL is set}"
    printf 'Each step: %s after every user is in; users wait 1-3 s between tasks. Machine: %s cores.\n' \
        "$RUN_TIME" "$(nproc)"
} >"$RUN/header.md"

for users in $USERS; do
    log "loadtest: $users users for $RUN_TIME"
    # Spawned in about 10 s; the timings count from the moment all are in (locustfile.py).
    rate=$(((users + 9) / 10))
    LOADTEST_TIMINGS="$RUN/timings-$users.json" "$VENV/bin/locust" -f ops/loadtest/locustfile.py --headless \
        --users "$users" --spawn-rate "$rate" --run-time "$RUN_TIME" --host "http://$ADDR" \
        --csv "$RUN/locust-$users" --only-summary --reset-stats --exit-code-on-error 0 \
        >"$RUN/locust-$users.log" 2>&1 || die "loadtest: locust failed: see $RUN/locust-$users.log"
done
"$VPY" -m ops.loadtest.report "$RUN"
log "loadtest: report in $RUN/report.md"
