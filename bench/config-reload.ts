/**
 * Config edit vs. Asterisk's own reload, on the same file: a generated extensions.conf of ~100,000 lines.
 *
 *   gateway   one whole ConfigFileStore.update of one context: read, parse, edit, backup of the old bytes,
 *             temp file, fsync, rename, directory fsync (bench/config-edit.ts; median of its runs)
 *   asterisk  the real Asterisk 22 of the test bed (test/asterisk/testbed.ts) doing `dialplan reload` of that same
 *             file: the AMI Command action is timed from send to answer (pbx_config reloads synchronously), and
 *             each run is checked to have loaded the new file (a marker context changes every run; if it were not
 *             there yet, the time until it is would be counted)
 *   ratio     gateway / asterisk. Goal: under 1/3.
 *
 * Without a test bed (not root, no chroot) it prints why and exits 0.
 *
 *   npx tsx bench/config-reload.ts [lines] [runs]
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AsteriskTestbed, type RawAmi } from '../test/asterisk/testbed.ts';
import { benchConfigEdit, type ConfigEditBenchResult } from './config-edit.ts';
import { isMain } from './support/is-main.ts';

export interface ConfigReloadBenchOptions {
  /** Approximate line count of the generated extensions.conf (default 100,000). */
  lines?: number;
  /** Measured runs on each side; medians are reported (default 7 for the gateway, 5 for Asterisk). */
  runs?: number;
  asteriskRuns?: number;
}

export interface ConfigReloadBenchResult {
  /** Median whole edit by the gateway (read + parse + edit + backup + atomic write). */
  gatewayEditMs: number;
  /** Median `dialplan reload` of the same file by Asterisk; NaN when the test bed is unavailable. */
  asteriskReloadMs: number;
  /** gatewayEditMs / asteriskReloadMs; NaN when the test bed is unavailable. */
  ratio: number;
  /** The gateway side in detail. */
  gateway: ConfigEditBenchResult;
  /** Every Asterisk reload time, in run order (the warm-up reload is not in it). */
  asteriskRunsMs: number[];
  /** Why Asterisk was not measured, when it was not. */
  skipped?: string;
}

const MARK_CONTEXT = 'gw-bench-mark';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** `Command` over AMI; resolves with its output text. */
async function command(ami: RawAmi, cmd: string, timeoutMs = 120_000): Promise<string> {
  const r = await ami.send({ Action: 'Command', Command: cmd }, timeoutMs);
  if (r.Response !== 'Success') throw new Error(`AMI Command ${cmd}: ${r.Message ?? r.Response} ${r.Output ?? ''}`);
  return r.Output ?? '';
}

async function timeAsteriskReloads(bed: AsteriskTestbed, file: string, runs: number): Promise<number[]> {
  let ami: RawAmi | undefined;
  try {
    ami = await bed.ami({ events: 'off' });
    const base = readFileSync(file, 'utf8');
    const target = path.join(bed.configDir, 'extensions.conf');
    copyFileSync(file, target);
    const times: number[] = [];
    for (let run = 0; run <= runs; run++) {
      // The same file each time, plus a small context at the very end whose text changes every run, so that each
      // reload is seen to have read the whole file anew.
      const mark = `run-${run}-${Date.now()}`;
      writeFileSync(target, `${base}\n[${MARK_CONTEXT}]\nexten => s,1,NoOp(${mark})\n`);
      const t0 = performance.now();
      const out = await command(ami, 'dialplan reload');
      let t1 = performance.now();
      if (!/Dialplan reloaded/i.test(out)) throw new Error(`dialplan reload answered: ${out}`);
      // pbx_config answers once the new dialplan is in place; should it ever answer earlier, count until it is.
      for (let tries = 0; !(await command(ami, `dialplan show s@${MARK_CONTEXT}`)).includes(mark); tries++) {
        if (tries > 600) throw new Error(`the reloaded dialplan never showed ${MARK_CONTEXT} ${mark}`);
        await new Promise((r) => setTimeout(r, 50));
        t1 = performance.now();
      }
      if (run > 0) times.push(t1 - t0); // run 0 warms up: it replaces the test bed's small dialplan
    }
    return times;
  } finally {
    await ami?.logoff();
    ami?.close();
    await bed.stop();
  }
}

export async function benchConfigReload(opts: ConfigReloadBenchOptions = {}): Promise<ConfigReloadBenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-reload-bench-'));
  try {
    const gateway = await benchConfigEdit({ lines: opts.lines ?? 100_000, runs: opts.runs ?? 7, dir });
    const gatewayEditMs = gateway.totalMs;
    const avail = AsteriskTestbed.available();
    if (!avail.ok) return { gatewayEditMs, asteriskReloadMs: NaN, ratio: NaN, gateway, asteriskRunsMs: [], skipped: avail.reason };
    const bed = new AsteriskTestbed();
    try {
      await bed.start();
    } catch (e) {
      const why = `the test bed did not start: ${(e as Error).message.split('\n')[0]}`;
      return { gatewayEditMs, asteriskReloadMs: NaN, ratio: NaN, gateway, asteriskRunsMs: [], skipped: why };
    }
    const asteriskRunsMs = (await timeAsteriskReloads(bed, gateway.file, opts.asteriskRuns ?? 5)).map(round);
    const asteriskReloadMs = round(median(asteriskRunsMs));
    return { gatewayEditMs, asteriskReloadMs, ratio: round((gatewayEditMs / asteriskReloadMs) * 1000) / 1000, gateway, asteriskRunsMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printConfigReload(r: ConfigReloadBenchResult): void {
  const g = r.gateway;
  const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined' ? 'bun' : `node ${process.version}`;
  console.log(`config edit vs. Asterisk reload (${runtime}): extensions.conf of ${g.lines} lines, ${(g.bytes / 1e6).toFixed(1)} MB`);
  console.log(
    `  gateway   update steps: lazy parse ${g.parseMs.toFixed(1)} ms, edit ${g.editMs.toFixed(1)} ms, backup + atomic write ${g.writeMs.toFixed(1)} ms (a full parse alone: ${g.fullParseMs.toFixed(1)} ms)`,
  );
  console.log(`  gateway   whole edit (read, parse, edit, backup, write)   ${r.gatewayEditMs.toFixed(1)} ms  (median of ${g.runs})`);
  if (r.skipped) {
    console.log(`  asterisk  not measured: ${r.skipped}`);
    return;
  }
  console.log(
    `  asterisk  dialplan reload of the same file                ${r.asteriskReloadMs.toFixed(1)} ms  (median of ${r.asteriskRunsMs.length}: ${r.asteriskRunsMs.map((x) => x.toFixed(0)).join(', ')})`,
  );
  const verdict = r.ratio < 1 / 3 ? 'under 1/3: goal met' : 'NOT under 1/3: goal missed';
  console.log(`  ratio     gateway / asterisk = ${r.ratio.toFixed(3)} (${verdict})`);
}

if (isMain(import.meta.url)) {
  const lines = Number(process.argv[2] ?? 100_000);
  const runs = Number(process.argv[3] ?? 7);
  try {
    const r = await benchConfigReload({ lines, runs, asteriskRuns: Math.max(3, Math.min(runs, 5)) });
    printConfigReload(r);
    console.log(JSON.stringify({ gatewayEditMs: r.gatewayEditMs, asteriskReloadMs: r.asteriskReloadMs, ratio: r.ratio }));
  } catch (e) {
    console.error(`config-reload benchmark failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
}
