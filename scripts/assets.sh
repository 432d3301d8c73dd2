#!/usr/bin/env bash
# Browser assets for the analytics pages: installs the npm packages pinned in package-lock.json (Apache
# ECharts) with `npm ci` and copies echarts.min.js into analytics/static/analytics/vendor/, where Django's
# staticfiles serves it (runserver with DEBUG, the tests' live_server, collectstatic in production).
# The pages load nothing from a CDN: browsers here (and in CI) may have no route to one.
# Skips `npm ci` while node_modules is newer than package-lock.json; FORCE=1 installs anyway.
# node_modules/ and the copied file are git-ignored: package-lock.json is the record of what is served.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

VENDOR=analytics/static/analytics/vendor
SOURCE=node_modules/echarts/dist/echarts.min.js
# npm ci writes this file last, so it is newer than the lock only after a complete install.
STAMP=node_modules/.package-lock.json

if ! have npm; then
    # Debian's packages: an older Node.js and npm, enough for `npm ci` of one package without build steps.
    log "assets: npm not found: installing Debian's nodejs and npm"
    apt_install nodejs npm
fi

if [ -z "${FORCE:-}" ] && [ -f "$STAMP" ] && [ "$STAMP" -nt package-lock.json ] && [ -f "$SOURCE" ]; then
    log "assets: node_modules up to date ($STAMP newer than package-lock.json)"
else
    log "assets: npm ci (package-lock.json: $(grep -c '"version"' package-lock.json) packages)"
    npm ci --no-audit --no-fund --loglevel=error
fi

[ -f "$SOURCE" ] || die "assets: $SOURCE missing after npm ci"
mkdir -p "$VENDOR"
# cp -p keeps the time stamp, so an unchanged file is not copied again and collectstatic sees no change.
if ! cmp -s "$SOURCE" "$VENDOR/echarts.min.js"; then
    cp -p "$SOURCE" "$VENDOR/echarts.min.js"
    # Apache-2.0 asks for the licence beside a redistributed copy.
    cp -p node_modules/echarts/LICENSE "$VENDOR/ECHARTS-LICENSE.txt"
fi
version="$(node -p 'require("./node_modules/echarts/package.json").version' 2>/dev/null || echo '?')"
log "assets: echarts $version in $VENDOR/echarts.min.js"
