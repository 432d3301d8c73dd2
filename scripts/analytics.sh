#!/usr/bin/env bash
# Fills the analytics materialized views and day summaries once, so the pages have data before the first beat
# tick; from then on Celery beat (config/beat.py) and the post-ingest refresh keep them fresh.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
load_env
require_venv

log "analytics: manage.py refresh_analytics (all views, then the day summaries)"
manage refresh_analytics | sed 's/^/    /'
