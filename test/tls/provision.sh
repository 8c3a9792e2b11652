#!/usr/bin/env bash
# openssl, for the TLS test (test/unit/tls.test.ts makes its CA, server and client certificates with it). Debian's
# openssl package; installed once as root, a no-op when openssl is there.
set -euo pipefail
if command -v openssl >/dev/null 2>&1; then echo "openssl ready"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "test/tls/provision.sh: root is needed to apt-get install openssl" >&2; exit 3; fi
apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
echo "openssl ready"
