// HTTP benchmark, requests/s against a bare node:http server that sends the same response bytes, precomputed:
//   list:   GET /v1/admin/core/channels with 1,000 channels in live state        goal >= 0.90 of bare
//   detail: GET /v1/admin/core/channels/<id>, one channel (small JSON; the route's
//           path schema is checked on every request)                              goal >= 0.70 of bare
// Load comes from a separate process (bench/support/load.ts) with keep-alive connections; the servers are measured
// alternately in the same rounds, median of rounds.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeAmi } from './support/fake-ami.ts';
import { startBenchGateway } from './support/gateway.ts';
import { isMain } from './support/is-main.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface LoadResult {
  rps: number;
  errors: number;
}

/** Run the load generator in its own process. */
export function load(url: string, requests: number, concurrency = 32): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(HERE, 'support', 'load.ts'), url, String(requests), String(concurrency)],
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout.trim().split('\n').pop()!))),
    );
  });
}

function channelEvent(i: number): string {
  const id = `1700000000.${i}`;
  return (
    `Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/agent-${i % 50}-${i.toString(16).padStart(8, '0')}\r\nChannelState: 6\r\n` +
    `ChannelStateDesc: Up\r\nCallerIDNum: ${1000 + i}\r\nCallerIDName: Caller ${i}\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n` +
    `Language: en\r\nAccountCode: \r\nContext: from-internal\r\nExten: ${2000 + i}\r\nPriority: 1\r\nUniqueid: ${id}\r\nLinkedid: ${id}\r\n\r\n`
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchHttp(opts: { channels?: number; requests?: number; rounds?: number } = {}) {
  const channels = opts.channels ?? 1000;
  const requests = opts.requests ?? 4000;
  const rounds = opts.rounds ?? 3;
  const ami = await startFakeAmi();
  const bench = await startBenchGateway(ami.port, 'http');
  await ami.loggedIn;
  const { base } = bench;
  const token = await bench.login();
  const url = `${base}/v1/admin/core/channels?authtoken=${token}`;
  // wait for the resync to finish, then feed 1,000 channels as AMI events
  for (let i = 0; i < 200 && (await fetch(url)).status !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  ami.send(Array.from({ length: channels }, (_, i) => channelEvent(i)).join(''));
  let body = '';
  for (let i = 0; i < 200; i++) {
    body = await (await fetch(url)).text();
    if (JSON.parse(body).result.list.length === channels) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (JSON.parse(body).result.list.length !== channels) throw new Error('channels did not reach the gateway state');

  // The bare server sends the very bytes the gateway just sent.
  const detailUrl = `${base}/v1/admin/core/channels/1700000000.500?authtoken=${token}`;
  const detailBody = await (await fetch(detailUrl)).text();
  if (JSON.parse(detailBody).result.unique_id !== '1700000000.500') throw new Error(`detail GET failed: ${detailBody}`);
  const bytes = Buffer.from(body);
  const detailBytes = Buffer.from(detailBody);
  const bare = http.createServer((req, res) => {
    const b = req.url?.includes('/channels/') ? detailBytes : bytes;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': b.length });
    res.end(b);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareBase = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const bareUrl = `${bareBase}/v1/admin/core/channels`;
  const bareDetailUrl = `${bareBase}/v1/admin/core/channels/1700000000.500`;

  try {
    for (const u of [url, bareUrl, detailUrl, bareDetailUrl]) await load(u, 500);
    const g: number[] = [];
    const b: number[] = [];
    const gd: number[] = [];
    const bd: number[] = [];
    let errors = 0;
    for (let r = 0; r < rounds; r++) {
      const a = await load(url, requests);
      const c = await load(bareUrl, requests);
      const ad = await load(detailUrl, requests * 2);
      const cd = await load(bareDetailUrl, requests * 2);
      g.push(a.rps);
      b.push(c.rps);
      gd.push(ad.rps);
      bd.push(cd.rps);
      errors += a.errors + c.errors + ad.errors + cd.errors;
    }
    return {
      gatewayRps: median(g),
      bareRps: median(b),
      ratio: median(g) / median(b),
      bytes: bytes.length,
      detailGatewayRps: median(gd),
      detailBareRps: median(bd),
      detailRatio: median(gd) / median(bd),
      detailBytes: detailBytes.length,
      errors,
    };
  } finally {
    bare.close();
    await bench.stop();
    await ami.close();
  }
}

export function printHttp(r: Awaited<ReturnType<typeof benchHttp>>): void {
  console.log(`HTTP GET /v1/admin/core/channels, 1,000 channels (${r.bytes.toLocaleString('en-US')} bytes per answer):`);
  console.log(`  gateway       ${Math.round(r.gatewayRps).toLocaleString('en-US').padStart(8)} req/s`);
  console.log(`  bare node:http ${Math.round(r.bareRps).toLocaleString('en-US').padStart(7)} req/s`);
  console.log(`  ratio gateway/bare   ${r.ratio.toFixed(2)}   (goal >= 0.90)`);
  console.log(`HTTP GET /v1/admin/core/channels/<id>, one channel (${r.detailBytes.toLocaleString('en-US')} bytes per answer):`);
  console.log(`  gateway       ${Math.round(r.detailGatewayRps).toLocaleString('en-US').padStart(8)} req/s`);
  console.log(`  bare node:http ${Math.round(r.detailBareRps).toLocaleString('en-US').padStart(7)} req/s`);
  console.log(`  ratio gateway/bare   ${r.detailRatio.toFixed(2)}   (goal >= 0.70)${r.errors ? `   errors: ${r.errors}` : ''}`);
}

if (isMain(import.meta.url)) {
  printHttp(await benchHttp());
  process.exit(0);
}
