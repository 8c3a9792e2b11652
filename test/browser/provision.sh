#!/usr/bin/env bash
# Debian's Chromium, for the docs-page test (headless; Playwright drives it through playwright-core, which
# downloads nothing). Installed once as root; a no-op when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then echo "chromium ready"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "test/browser/provision.sh: root is needed to apt-get install chromium" >&2; exit 3; fi
apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "chromium ready"
