/**
 * AMI ingest benchmark: replays a real Asterisk 22 AMI recording over a loopback socket and
 * measures how many messages per second each reader turns into messages:
 *   raw              a bare `split('\r\n\r\n')` reader (counts blocks, parses nothing): the ceiling
 *   ours             core/ami AmiParser (full fields, repeated keys, UTF-8 safe)
 *   asteriskManager  the `asterisk-manager` package's own socket reader
 * All three run side by side in one process, in interleaved rounds; the median round counts.
 *
 *   npx tsx bench/ami-ingest-parsers.ts [repeat]
 *
 * The building blocks (loadRecording, startServer, measure, Reader) are exported so further
 * variants, e.g. parsing plus applying events to plugin state, can be measured the same way.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmiParser } from '../core/ami/parser.ts';
import { isMain } from './support/is-main.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const recordingPath = path.resolve(here, '..', 'test', 'fixtures', 'ami', 'ami-recording-asterisk22.txt');

export interface BenchOptions {
  /** How many times the recording is replayed per measurement (default 40). */
  repeat?: number;
  /** Interleaved measurement rounds; the median is reported (default 3). */
  rounds?: number;
}

export interface BenchResult {
  raw: number;
  ours: number;
  asteriskManager: number;
}

/** A reader under test: connects to the port and resolves once `expected` messages arrived. */
export type Reader = (port: number, expected: number) => Promise<void>;

export interface Recording {
  banner: Buffer;
  body: Buffer;
  messagesPerBody: number;
}

export function loadRecording(): Recording {
  const data = readFileSync(recordingPath);
  const firstLf = data.indexOf(0x0a);
  const banner = data.subarray(0, firstLf + 1);
  const body = data.subarray(firstLf + 1);
  let messagesPerBody = 0;
  new AmiParser(() => messagesPerBody++).push(body);
  // Every reader must see the same number of messages, or the comparison is meaningless.
  const rawBlocks = body.toString('utf8').split('\r\n\r\n').length - 1;
  if (rawBlocks !== messagesPerBody) {
    throw new Error(`recording: split reader sees ${rawBlocks} blocks, parser ${messagesPerBody} messages`);
  }
  return { banner, body, messagesPerBody };
}

/** Serves banner + body x repeat to each connection, honouring backpressure. */
export async function startServer(recording: Recording, repeat: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.write(recording.banner);
    let sent = 0;
    const writeMore = (): void => {
      while (sent < repeat) {
        sent++;
        if (!socket.write(recording.body)) {
          socket.once('drain', writeMore);
          return;
        }
      }
      socket.end();
    };
    writeMore();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export function serverPort(server: net.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return address.port;
}

export const rawReader: Reader = (port, expected) =>
  new Promise((resolve, reject) => {
    let count = 0;
    let rest = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const blocks = (rest + text).split('\r\n\r\n');
      rest = blocks.pop() ?? '';
      count += blocks.length;
      if (count >= expected) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (count < expected ? reject(new Error(`raw: ${count}/${expected}`)) : undefined));
  });

export const oursReader: Reader = (port, expected) =>
  new Promise((resolve, reject) => {
    let count = 0;
    const socket = net.connect(port, '127.0.0.1');
    const parser = new AmiParser(() => {
      count++;
    });
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      if (count >= expected) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (count < expected ? reject(new Error(`ours: ${count}/${expected}`)) : undefined));
  });

/** The parts of an asterisk-manager instance the benchmark drives (the package is untyped CommonJS). */
interface AsteriskManagerInstance {
  connect(port: number, host: string, callback?: () => void): void;
  disconnect(callback?: () => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type AsteriskManagerFactory = (port?: number) => AsteriskManagerInstance;

const requireCjs = createRequire(import.meta.url);

export const asteriskManagerReader: Reader = (port, expected) =>
  new Promise((resolve, reject) => {
    const Manager = requireCjs('asterisk-manager') as AsteriskManagerFactory;
    // Without a port it does not connect or log in; connect() then wires its own reader
    // (ManagerReader) to the socket, which emits one 'rawevent' per parsed message.
    const manager = Manager();
    let count = 0;
    let done = false;
    manager.on('rawevent', () => {
      if (++count >= expected && !done) {
        done = true;
        manager.disconnect();
        resolve();
      }
    });
    manager.on('close', () => (done ? undefined : reject(new Error(`asterisk-manager: ${count}/${expected}`))));
    manager.connect(port, '127.0.0.1');
  });

/** Messages per second of one reader against a replay server. */
export async function measure(reader: Reader, port: number, expected: number): Promise<number> {
  const started = process.hrtime.bigint();
  await reader(port, expected);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return expected / seconds;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function benchParsers(opts: BenchOptions = {}): Promise<BenchResult> {
  const repeat = opts.repeat ?? 40;
  const rounds = opts.rounds ?? 3;
  const recording = loadRecording();
  const expected = recording.messagesPerBody * repeat;
  const server = await startServer(recording, repeat);
  const port = serverPort(server);
  try {
    // One short warm-up pass each, so the JIT has seen every reader before timing starts.
    const warmup = await startServer(recording, 2);
    try {
      for (const reader of [rawReader, oursReader, asteriskManagerReader]) {
        await reader(serverPort(warmup), recording.messagesPerBody * 2);
      }
    } finally {
      warmup.close();
    }
    const samples: Record<keyof BenchResult, number[]> = { raw: [], ours: [], asteriskManager: [] };
    for (let round = 0; round < rounds; round++) {
      samples.raw.push(await measure(rawReader, port, expected));
      samples.ours.push(await measure(oursReader, port, expected));
      samples.asteriskManager.push(await measure(asteriskManagerReader, port, expected));
    }
    return { raw: median(samples.raw), ours: median(samples.ours), asteriskManager: median(samples.asteriskManager) };
  } finally {
    server.close();
  }
}

if (isMain(import.meta.url)) {
  const repeatArg = Number(process.argv[2]);
  const repeat = Number.isInteger(repeatArg) && repeatArg > 0 ? repeatArg : 40;
  const result = await benchParsers({ repeat });
  const rate = (n: number): string => `${Math.round(n).toLocaleString('en-US')} msg/s`;
  console.log(`AMI ingest, recording replayed ${repeat}x over loopback (median of 3 rounds)`);
  console.log(`  raw split('\\r\\n\\r\\n'):  ${rate(result.raw)}`);
  console.log(`  ours (AmiParser):       ${rate(result.ours)}`);
  console.log(`  asterisk-manager:       ${rate(result.asteriskManager)}`);
  console.log(`  ours / raw:              ${(result.ours / result.raw).toFixed(2)}`);
  console.log(`  ours / asterisk-manager: ${(result.ours / result.asteriskManager).toFixed(2)}`);
}
