#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core; nothing
# downloads a browser. On a fresh Debian machine, as root, this installs the
# package once so that `npm test` alone sets everything up.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$chromium" ]] && exit 0
if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "The browser tests need Chromium: installing Debian's package (once)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [[ -x "$chromium" ]] && exit 0
fi
echo "The browser tests need Chromium at $chromium: run 'apt-get install -y chromium' (or set CHROMIUM_PATH)." >&2
exit 1
