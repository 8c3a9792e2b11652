// After a full test run (test/run.sh): no secret the tests used appears in the run's log.
//   tsx test/support/secrets-check.ts <LOG_FILE> <TEST_SECRETS_FILE>
// The run logs at debug level into LOG_FILE (every in-process gateway, the test beds' gateways and the compiled
// binary); test/support/secrets.ts noted every password sent, Basic header, token and API key received and the AMI
// secret. The check fails when a secret is found, and also when there is nothing to check (no request lines in the
// log, or too few secrets), so it cannot pass by looking at nothing. Secrets shorter than 8 characters are left out
// ("pw", "x": such strings occur in any text); their count is printed.
import { readFileSync } from 'node:fs';

const [logFile, secretsFile] = process.argv.slice(2);
if (!logFile || !secretsFile) {
  console.error('usage: secrets-check.ts <log file> <secrets file>');
  process.exit(2);
}
const log = readFileSync(logFile, 'utf8');
const secrets = [
  ...new Set(
    readFileSync(secretsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string),
  ),
];
const checked = secrets.filter((s) => s.length >= 8);
const lines = log.split('\n').filter(Boolean);
const requests = lines.filter((l) => l.includes('"msg":"request"')).length;
const logins = lines.filter((l) => /"route":"\/(admin|manager|me)\/login"/.test(l)).length;
const found = checked.filter((s) => log.includes(s));
console.log(
  `secrets check: ${lines.length} log lines (${requests} request lines, ${logins} logins), ${checked.length} secrets checked (${secrets.length - checked.length} shorter than 8 left out): ${found.length} found`,
);
if (requests < 100 || logins < 10 || checked.length < 20) {
  console.error('secrets check: too little to check: was the run logged at LOG_LEVEL=debug into LOG_FILE?');
  process.exit(1);
}
for (const s of found) {
  const line = lines.find((l) => l.includes(s))!;
  console.error(
    `secrets check: a secret (${s.length} characters, starting ${JSON.stringify(s.slice(0, 3))}) is in the log: ${line.slice(0, 300)}`,
  );
}
process.exit(found.length > 0 ? 1 : 0);
