#!/usr/bin/env bash
# The project's test command (npm test). Unit tests, then the integration tests against a real Asterisk 22.
# Files are listed explicitly: a bare `tsx --test` finds no .ts file on Node 20.
#   bash test/run.sh          Node (tsx)
#   bash test/run.sh --bun    the same files under Bun
# With CI=true the real-Asterisk tests are mandatory: the test bed is provisioned, and a failure to start fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole run logs at debug level into one file; afterwards no secret the tests used may appear in it
# (test/support/secrets-check.ts). LOG_FILE / TEST_SECRETS_FILE may be given to keep them.
export LOG_LEVEL="${LOG_LEVEL:-debug}"
logs=$(mktemp -d)
export LOG_FILE="${LOG_FILE:-$logs/gateway.log}" TEST_SECRETS_FILE="${TEST_SECRETS_FILE:-$logs/secrets.txt}"
: >"$LOG_FILE"; : >"$TEST_SECRETS_FILE"

unit=$(find test/unit -name '*.test.ts' | sort)
integration=$(find test/integration -name '*.test.ts' | sort)

if [ "$(id -u)" = 0 ]; then
  bash test/asterisk/provision.sh
  bash test/browser/provision.sh
  bash test/systemd/provision.sh
  bash test/tls/provision.sh
  bash test/nats/provision.sh
elif [ "${CI:-}" = "true" ]; then
  echo "test/run.sh: CI=true but not root: the real-Asterisk tests need root (debootstrap, chroot)" >&2
  exit 1
fi

status=0
if [ "${1:-}" = "--bun" ]; then
  # shellcheck disable=SC2086
  npx bun test --timeout 120000 $unit $integration || status=$?
else
  # One file at a time: integration files share the one test Asterisk.
  # shellcheck disable=SC2086
  node --import tsx --test --test-concurrency=1 $unit $integration || status=$?
fi
npx tsx test/support/secrets-check.ts "$LOG_FILE" "$TEST_SECRETS_FILE" || status=1
exit "$status"
