#!/usr/bin/env bash
# Makes sure Debian's Chromium and its ChromeDriver are installed, for the browser tests
# (tests/test_admin_browser.py drives /usr/bin/chromium through /usr/bin/chromedriver with Selenium).
# Debian's packages, not a test tool's own browser download: this machine may have no route to one, and
# apt keeps chromium and chromium-driver at the same version. Installing needs root; without it the script
# prints the commands to run and exits 1. Nothing is installed when both are already there.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver
# fonts-liberation is only a Recommends of chromium-common (not installed with --no-install-recommends):
# without any font a screenshot of a page shows boxes instead of text.
PACKAGES=(chromium chromium-driver fonts-liberation)

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

missing=()
if have dpkg-query; then
    for pkg in "${PACKAGES[@]}"; do
        installed "$pkg" || missing+=("$pkg")
    done
elif [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ]; then
    die "browser: $CHROMIUM or $CHROMEDRIVER is missing and this is not Debian: install Chromium and ChromeDriver there"
fi

if [ "${#missing[@]}" -gt 0 ]; then
    log "browser: not installed: ${missing[*]}: installing from Debian's packages"
    apt_install "${missing[@]}"
fi

[ -x "$CHROMIUM" ] || die "browser: $CHROMIUM not found after installing chromium"
[ -x "$CHROMEDRIVER" ] || die "browser: $CHROMEDRIVER not found after installing chromium-driver"

# Both print "<Name> 156.0.8078.79 ..."; a driver must match the browser's major version.
browser_version="$("$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -n1)" ||
    die "browser: '$CHROMIUM --version' failed"
driver_version="$("$CHROMEDRIVER" --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -n1)" ||
    die "browser: '$CHROMEDRIVER --version' failed"
if [ "${browser_version%%.*}" != "${driver_version%%.*}" ]; then
    die "browser: chromium $browser_version and chromedriver $driver_version differ: apt-get install chromium chromium-driver"
fi
log "browser: chromium $browser_version, chromedriver $driver_version ($CHROMIUM, $CHROMEDRIVER)"
