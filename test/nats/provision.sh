#!/usr/bin/env bash
# nats-server with JetStream, for the fleet tests (test/integration/nats.test.ts, started by test/support/nats.ts).
# Debian's package (bookworm: 2.9); installed once as root, a no-op when nats-server is there. The package's own
# service is not used: each test starts its own server on a free loopback port with a temporary store.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1; then echo "nats-server ready ($(nats-server --version))"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "test/nats/provision.sh: root is needed to apt-get install nats-server" >&2; exit 3; fi
apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server >/dev/null
echo "nats-server ready ($(nats-server --version))"
