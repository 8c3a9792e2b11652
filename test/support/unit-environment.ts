// The `Environment=NAME=value` lines of the shipped systemd unit (deploy/asterisk-gateway.service): what the binary
// runs with in production. The soak test and the WebSocket fan-out benchmark give them to the gateway processes they
// measure, so that their RSS figures are the deployed gateway's, from the one place that sets them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'asterisk-gateway.service');

export function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(UNIT, 'utf8').matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}
