// AMI ingest benchmark: the recorded Asterisk 22 stream (shared/data) replayed over loopback, read by
//   raw      a bare split('\r\n\r\n') reader (the ceiling),
//   parse    our AmiParser alone,
//   state    our AmiParser + the plugin host applying every event to the live state of all built-in plugins
//            (configured as the gateway's client is: events no plugin handles are skipped unparsed),
//   asterisk-manager  the registry package's parser,
// measured side by side, interleaved, median of rounds. Goal: state faster than asterisk-manager and >= 40 % of raw.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { AmiParser } from '../core/ami/parser.ts';
import { ignorableEvents } from '../core/ami/ignorable.ts';
import { parseConfig } from '../core/config.ts';
import { Gateway } from '../core/gateway.ts';
import { createLogger } from '../core/log.ts';
import { BUILTIN_PLUGINS } from '../core/plugins/builtin.ts';
import { benchParsers, loadRecording, measure, serverPort, startServer, type Reader } from './ami-ingest-parsers.ts';

export interface IngestResult {
  raw: number;
  parse: number;
  state: number;
  asteriskManager: number;
}

/** A gateway whose plugins receive events but never connect anywhere: we only measure applying events. */
async function stateGateway(): Promise<{ gw: Gateway; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-bench-'));
  const names = BUILTIN_PLUGINS.map((p) => p.name);
  const cfg = parseConfig(JSON.stringify({ ami: { username: 'x', secret: 'y' }, data_dir: dir, asterisk: { config_dir: dir }, plugins: names }), path.join(dir, 'g.yaml'), names);
  return { gw: await Gateway.create(cfg, createLogger('bench', 'silent')), dir };
}

function stateReader(gw: Gateway): Reader {
  return (port, expected) =>
    new Promise((resolve, reject) => {
      let count = 0;
      let seq = 0;
      const socket = net.connect(port, '127.0.0.1');
      const parser = new AmiParser((m) => {
        count++;
        if (m.fields.Event !== undefined) gw.plugins.dispatch(m, ++seq);
      });
      // As the gateway's AMI client does: events no plugin handles are skipped unparsed (they still count as read).
      parser.ignoredEvents = ignorableEvents(gw.plugins.handledEvents());
      socket.on('data', (chunk: Buffer) => {
        parser.push(chunk);
        if (count + parser.ignoredCount >= expected) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => (count + parser.ignoredCount < expected ? reject(new Error(`state: ${count}/${expected}`)) : undefined));
    });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchIngest(opts: { repeat?: number; rounds?: number; stateOnly?: boolean } = {}): Promise<IngestResult> {
  const repeat = opts.repeat ?? 40;
  const rounds = opts.rounds ?? 3;
  const parsers = opts.stateOnly ? { raw: NaN, ours: NaN, asteriskManager: NaN } : await benchParsers({ repeat, rounds });
  const { gw, dir } = await stateGateway();
  const recording = loadRecording();
  const server = await startServer(recording, repeat);
  try {
    const reader = stateReader(gw);
    await reader(serverPort(server), recording.messagesPerBody); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) samples.push(await measure(reader, serverPort(server), recording.messagesPerBody * repeat));
    return { raw: parsers.raw, parse: parsers.ours, state: median(samples), asteriskManager: parsers.asteriskManager };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printIngest(r: IngestResult): void {
  const f = (n: number) => Math.round(n).toLocaleString('en-US').padStart(11);
  console.log('AMI ingest (recorded Asterisk 22 stream, 40 replays over loopback, messages/s):');
  console.log(`  raw split reader        ${f(r.raw)}`);
  console.log(`  ours: parse only        ${f(r.parse)}`);
  console.log(`  ours: parse + state     ${f(r.state)}`);
  console.log(`  asterisk-manager        ${f(r.asteriskManager)}`);
  console.log(`  ratio state/raw              ${(r.state / r.raw).toFixed(2)}   (goal >= 0.40)`);
  console.log(`  ratio state/asterisk-manager ${(r.state / r.asteriskManager).toFixed(2)}   (goal > 1)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  printIngest(await benchIngest());
  process.exit(0);
}
