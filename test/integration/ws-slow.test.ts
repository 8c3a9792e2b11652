// Backpressure on the event stream against the real Asterisk 22: a client that never reads is closed with 1013 and
// counted, while a client that reads keeps getting every event of the same call churn, in order, with no gap.
// The stalled client is a raw TCP socket that completes the WebSocket upgrade and then reads nothing; its unsent
// data first fills the kernel's socket buffers on loopback (a few hundred KB), then the gateway's own buffer, bounded
// here by websocket.max_buffered_bytes = 16 KB. The churn: Local calls originated into Wait and hung up, in rounds,
// until the gateway drops the stalled socket (each round's events are real Asterisk events, ~0.7 KB a frame).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { TESTBED } from '../asterisk/testbed.ts';
import { type Bed, skipReason, startBed } from '../support/bed.ts';
import { eventually } from '../support/http.ts';

const skip = skipReason() ?? false;
let bed: Bed;

before(
  async () => {
    if (!skip) bed = await startBed({ plugins: ['core'], websocket: { max_buffered_bytes: 16384 } });
  },
  { timeout: 90_000 },
);
after(async () => bed?.close(), { timeout: 60_000 });

const status = async () => (await bed.api.get('/v1/status')).body.result.websocket;

test('a client that never reads real call churn is closed with 1013 and counted; a reading client gets every event', {
  timeout: 150_000,
  skip,
}, async () => {
  const token = bed.api.token!;
  const url = new URL(bed.base);
  // the reading client
  const reader = new WebSocket(`ws://${url.host}/v1/ws?authtoken=${token}`);
  const frames: { type: string; seq: number; data?: { channel?: string } }[] = [];
  reader.on('message', (d) => frames.push(JSON.parse(String(d))));
  await new Promise((r) => reader.once('open', r));
  // the stalled client
  const stalled = net.connect(Number(url.port), '127.0.0.1');
  stalled.write(
    `GET /v1/ws?authtoken=${token} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const answer = await new Promise<string>((r) => stalled.once('data', (d) => r(String(d))));
  assert.match(answer, /^HTTP\/1\.1 101 /);
  stalled.pause();
  await eventually(async () => (await status()).connected === 2, 5000, 'both sockets connected');
  const before = await status();

  // call churn in rounds until the stalled socket is dropped
  let rounds = 0;
  let calls = 0;
  const t0 = Date.now();
  while ((await status()).dropped_slow === before.dropped_slow && Date.now() - t0 < 120_000) {
    rounds++;
    for (let i = 0; i < 25; i++, calls++) {
      await bed.gateway.ami.action('Originate', {
        Channel: `Local/${9000 + (calls % 900)}@${TESTBED.contexts.wait}`,
        Application: 'Wait',
        Data: '600',
        Async: 'true',
      });
    }
    await eventually(
      () => frames.filter((f) => f.type === 'core.channel.updated' && f.data?.channel?.startsWith('Local/9')).length > 0,
      10000,
      'calls seen',
    );
    await new Promise((r) => setTimeout(r, 150));
    await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/9/' });
    await new Promise((r) => setTimeout(r, 150));
  }
  const s = await status();
  console.log(
    `slow client: dropped after ${rounds} rounds, ${calls} Local calls, ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
      `the reading client had ${frames.length} frames by then`,
  );
  assert.equal(s.dropped_slow, before.dropped_slow + 1, 'the stalled socket was dropped as too slow');
  assert.equal(s.connected, 1, 'the reading socket stays');

  // the reading client keeps receiving: one more call after the drop, and every seq from its hello on, no gap
  await bed.gateway.ami.action('Originate', {
    Channel: `Local/9999@${TESTBED.contexts.wait}`,
    Application: 'Wait',
    Data: '600',
    Async: 'true',
  });
  await eventually(() => frames.some((f) => f.data?.channel?.startsWith('Local/9999@')), 10000, 'a call after the drop');
  await bed.gateway.ami.action('Hangup', { Channel: '/^Local\\/9999@/' });
  await eventually(
    () => frames.filter((f) => f.type === 'core.channel.hangup' && f.data?.channel?.startsWith('Local/9999@')).length === 2,
    10000,
    'its hangups',
  );
  const seqs = frames.slice(1).map((f) => f.seq);
  assert.ok(seqs.length > 100, `${seqs.length} events`);
  assert.deepEqual(
    seqs,
    seqs.map((_x, i) => seqs[0]! + i),
    'contiguous seq on the reading socket',
  );
  assert.equal(seqs.at(-1), bed.gateway.bus.seq, 'it got the last event the gateway published');
  reader.close();
  stalled.destroy();
});
