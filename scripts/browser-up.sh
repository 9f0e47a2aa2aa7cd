#!/usr/bin/env bash
# Debian's chromium for the dashboard's browser tests (Playwright drives it through executable_path:
# Playwright's own browser download is not reachable from these machines). Installs the package when
# it is missing and this is root; otherwise says what to do. Idempotent.
set -euo pipefail
log() { echo "[browser-up] $*"; }
if command -v chromium >/dev/null; then
    log "chromium present: $(command -v chromium)"; exit 0
fi
[ "$(id -u)" = 0 ] || { echo "browser-up: chromium missing and not root: apt-get install chromium" >&2; exit 2; }
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
        </dev/null >/tmp/hemsim-browser-apt.log 2>&1
}
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! apt_install; then
    log "apt-get update"
    apt-get update </dev/null >/tmp/hemsim-browser-apt.log 2>&1 \
        || { echo "browser-up: apt-get update failed (log /tmp/hemsim-browser-apt.log)" >&2; exit 2; }
    apt_install || { echo "browser-up: apt-get install chromium failed (log /tmp/hemsim-browser-apt.log)" >&2; exit 2; }
fi
log "chromium installed: $(command -v chromium)"
