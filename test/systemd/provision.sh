#!/usr/bin/env bash
# systemd-analyze, for the unit-file test (test/unit/service-unit.test.ts runs `systemd-analyze verify` and
# `systemd-analyze security --offline=yes` on deploy/asterisk-gateway.service). Debian ships it in the systemd
# package; installed once as root, a no-op when systemd-analyze is there. Nothing is started or enabled.
set -euo pipefail
if command -v systemd-analyze >/dev/null 2>&1; then echo "systemd-analyze ready"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "test/systemd/provision.sh: root is needed to apt-get install systemd" >&2; exit 3; fi
apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
echo "systemd-analyze ready"
