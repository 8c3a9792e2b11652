// The secrets a test run used (passwords sent, tokens and API keys received, Basic headers, the AMI secret), noted
// in the file named by TEST_SECRETS_FILE when test/run.sh sets it; test/support/secrets-check.ts then greps the run's
// log (LOG_FILE) for every one of them. Without TEST_SECRETS_FILE nothing is written.
import { appendFileSync } from 'node:fs';

const seen = new Set<string>();

export function noteSecret(value: unknown): void {
  const file = process.env.TEST_SECRETS_FILE;
  if (!file || typeof value !== 'string' || value.length === 0 || seen.has(value)) return;
  seen.add(value);
  appendFileSync(file, `${JSON.stringify(value)}\n`);
}

const SECRET_FIELDS = new Set(['password', 'secret', 'authtoken', 'token', 'key']);

/** The secrets in a request's headers and body (shallow: the bodies tests send are flat or one level deep). */
export function noteRequestSecrets(headers: Record<string, string>, body: unknown): void {
  if (!process.env.TEST_SECRETS_FILE) return;
  const auth = headers.authorization;
  if (auth) {
    const [scheme, value] = auth.split(/\s+/, 2);
    noteSecret(value);
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      noteSecret(decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  noteFields(body);
}

/** Fields named like a secret, in a request or an answer's result. */
export function noteFields(x: unknown, depth = 0): void {
  if (!process.env.TEST_SECRETS_FILE || !x || typeof x !== 'object' || depth > 2) return;
  for (const [k, v] of Object.entries(x)) {
    if (SECRET_FIELDS.has(k) && typeof v === 'string') noteSecret(v);
    else if (v && typeof v === 'object') noteFields(v, depth + 1);
  }
}
