// Headless Chromium (Debian's package, test/browser/provision.sh) for the tests that look at the docs page as a
// person does: where it is, why a test cannot use it, and how it is launched.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why `test` (its name, for the message) cannot use Chromium here, or null when it can. Throws under CI, where the
 * browser tests are mandatory.
 */
export function chromiumMissing(test: string): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env.CI === 'true') throw new Error(`CI=true: the ${test} test needs Chromium (test/browser/provision.sh)`);
  return 'Chromium is not installed (run test/browser/provision.sh as root)';
}

/** Chromium headless, offline-minded: no sandbox (root in CI), no GPU, QUIC, first-run page, background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
