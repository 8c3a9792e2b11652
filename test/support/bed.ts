// Integration harness: a real Asterisk 22 (test/asterisk/testbed.ts) plus a gateway wired to it, served on a real
// loopback port. Under CI=true a missing Asterisk is a failure; elsewhere (not root) the tests are skipped with why.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { AsteriskTestbed } from '../asterisk/testbed.ts';
import type { Gateway } from '../../core/gateway.ts';
import { gatewayIn } from './gateway.ts';
import { testLogger } from './log.ts';
import { noteSecret } from './secrets.ts';
import { BUILTIN_PLUGINS } from '../../core/plugins/builtin.ts';
import { client, eventually } from './http.ts';

export const ADMIN = { username: 'admin', password: 'test-admin-pw' };

/** Why the real-Asterisk tests cannot run here, or null when they can. Throws under CI: they are mandatory there. */
export function skipReason(): string | null {
  const a = AsteriskTestbed.available();
  if (a.ok) return null;
  if (process.env.CI === 'true') throw new Error(`CI=true: the real-Asterisk tests are mandatory but cannot run: ${a.reason}`);
  return `real Asterisk unavailable: ${a.reason}`;
}

export interface Bed {
  /**
   * Originate `channel` (a Local/<exten>@<context>) into Wait(600) and return the unique id of its dialplan side
   * (;2), which is chosen here so a test can find it.
   */
  originate(channel: string, headers?: Record<string, string>): Promise<string>;
  asterisk: AsteriskTestbed;
  gateway: Gateway;
  base: string;
  api: ReturnType<typeof client>;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * `ami`: gateway.yaml ami keys over the bed's (e.g. a proxy's port, keepalive_s); `metrics`, `nats`, `websocket`:
 * those gateway.yaml blocks.
 */
export async function startBed(
  opts: {
    plugins?: string[];
    ami?: Record<string, unknown>;
    metrics?: Record<string, unknown>;
    nats?: Record<string, unknown>;
    websocket?: Record<string, unknown>;
  } = {},
): Promise<Bed> {
  const asterisk = new AsteriskTestbed();
  await asterisk.start();
  noteSecret(asterisk.amiSecret);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gw-bed-'));
  const plugins = opts.plugins ?? BUILTIN_PLUGINS.map((p) => p.name);
  const gateway = await gatewayIn(
    dataDir,
    {
      http: { host: '127.0.0.1', port: 0 },
      ami: {
        host: '127.0.0.1',
        port: asterisk.amiPort,
        username: asterisk.amiUser,
        secret: asterisk.amiSecret,
        reconnect_max_ms: 1000,
        ...opts.ami,
      },
      asterisk: {
        config_dir: asterisk.configDir,
        modules_dir: path.join(asterisk.chroot, 'usr/lib/x86_64-linux-gnu/asterisk/modules'),
        log_file: path.join(asterisk.chroot, 'var/log/asterisk/messages.log'),
      },
      data_dir: dataDir,
      auth: { token_ttl_s: 3600, bootstrap_admin: ADMIN },
      plugins,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.nats ? { nats: opts.nats } : {}),
      ...(opts.websocket ? { websocket: opts.websocket } : {}),
    },
    BUILTIN_PLUGINS.map((p) => p.name),
    { logger: testLogger('gw') },
  );
  // Every event a plugin publishes is checked against its declared schema (the AsyncAPI document's), and must not
  // change after it was published (the resume ring replays the objects); a mismatch fails the test file when the
  // bed closes.
  const badEvents: string[] = [];
  gateway.bus.onInvalid = (type, problem) => badEvents.push(`${type}: ${problem}`);
  const server = await gateway.start();
  const base = `http://127.0.0.1:${server.port}`;
  const api = client((req) => fetch(req), base);
  await eventually(
    async () => (await api.get('/v1/status')).body.result.plugins.every((p: { live: boolean }) => p.live),
    30000,
    'gateway live',
  );
  await api.login(ADMIN.username, ADMIN.password);
  let seq = 0;
  return {
    async originate(channel, headers = {}) {
      const id = `gw-${process.pid}-${++seq}-${Date.now()}`;
      await gateway.ami.action('Originate', {
        Channel: channel,
        Application: 'Wait',
        Data: '600',
        Async: 'true',
        // Asterisk matches unique ids by prefix when it checks for clashes: neither may be a prefix of the other
        ChannelId: `${id}a`,
        OtherChannelId: `${id}b`,
        ...headers,
      });
      return `${id}b`;
    },
    asterisk,
    gateway,
    base,
    api,
    dataDir,
    async close() {
      await gateway.stop().catch(() => {});
      await asterisk.stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      gateway.bus.checkUnchanged();
      if (badEvents.length)
        throw new Error(
          `published events that do not match their declared schema, or changed after they were published:\n  ${[...new Set(badEvents)].slice(0, 20).join('\n  ')}`,
        );
    },
  };
}

/**
 * The set-up most integration files share: a bed with `opts` started before the file's tests and closed after them,
 * unless the real Asterisk is missing (`skip`, the reason, for the tests' options). `bed` is an empty object until
 * the start, then the started bed's own fields (so module-level helpers can hold it). `started(bed)` runs right after
 * the start, in the same hook (node:test does not wait for one `before` hook before the next); `timeout` bounds the
 * start and the close.
 */
export function useBed(
  opts: Parameters<typeof startBed>[0] = {},
  more: { started?: (bed: Bed) => unknown; timeout?: { start: number; close: number } } = {},
): { skip: string | false; bed: Bed } {
  const skip = skipReason() ?? false;
  const bed = {} as Bed;
  let started = false;
  before(
    async () => {
      if (skip) return;
      Object.assign(bed, await startBed(opts));
      started = true;
      await more.started?.(bed);
    },
    more.timeout ? { timeout: more.timeout.start } : {},
  );
  after(
    async () => {
      if (started) await bed.close();
    },
    more.timeout ? { timeout: more.timeout.close } : {},
  );
  return { skip, bed };
}

/** The files of the bed's Asterisk config dir by name: the path, the bytes, the text (read when called). */
export function configFiles(bed: Bed) {
  const file = (name: string) => path.join(bed.asterisk.configDir, name);
  return { file, bytes: (name: string) => readFileSync(file(name)), text: (name: string) => readFileSync(file(name), 'utf8') };
}

/** Asterisk's own list over AMI (the events named `event`); "No ... found" (Response: Error) is an empty list. */
export async function amiList(bed: Bed, action: string, event: string): Promise<Record<string, string>[]> {
  try {
    return (await bed.gateway.ami.list(action)).events.filter((e) => e.fields.Event === event).map((e) => e.fields);
  } catch (e) {
    if (/^No \w+ found/.test((e as Error).message)) return [];
    throw e;
  }
}
