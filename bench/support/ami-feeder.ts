// AMI event source for bench/ws-fanout.ts, in its own process so that writing events on time does not wait for the
// server under test: fake AMI servers (bench/support/fake-ami.ts), one per server measured: `gw` and `bare`, and
// `bun` and `node` for the gateway processes whose RSS is measured.
//   tsx bench/support/ami-feeder.ts        (forked with IPC; sends {gw, bare} ports, then answers commands)
// {feed, target, events, rate}: write `events` Newchannel/Newstate events for CHANNELS channels (Newchannel the first
// time a channel is used, Newstate after), `rate` events/s on a timer, or rate 0: as fast as the socket takes them.
// Every event's CallerIDName is `bench-t<µs>`: the monotonic clock when it was written (process.hrtime is
// CLOCK_MONOTONIC, the same clock in every process of the host), which the receiving client compares to its own.
// Answers {startUs, endUs}.
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeAmi } from './fake-ami.ts';
import { isMain } from './is-main.ts';

export const MARK = 'bench-t';
const CHANNELS = 200;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function event(i: number, created: boolean, stamp: number): string {
  const n = i % CHANNELS;
  const id = `1700000000.${n}`;
  const state = created ? (i % 2 ? '6\r\nChannelStateDesc: Up' : '5\r\nChannelStateDesc: Ringing') : '4\r\nChannelStateDesc: Ring';
  return (
    `Event: ${created ? 'Newstate' : 'Newchannel'}\r\nPrivilege: call,all\r\nChannel: PJSIP/agent-${n}-${n.toString(16).padStart(8, '0')}\r\n` +
    `ChannelState: ${state}\r\nCallerIDNum: ${1000 + n}\r\nCallerIDName: ${MARK}${stamp}\r\nConnectedLineNum: <unknown>\r\n` +
    `ConnectedLineName: <unknown>\r\nLanguage: en\r\nAccountCode: \r\nContext: from-internal\r\nExten: ${2000 + n}\r\nPriority: 1\r\n` +
    `Uniqueid: ${id}\r\nLinkedid: ${id}\r\n\r\n`
  );
}

if (isMain(import.meta.url)) {
  const amis = { gw: await startFakeAmi(), bare: await startFakeAmi(), bun: await startFakeAmi(), node: await startFakeAmi() };
  const sent = { gw: 0, bare: 0, bun: 0, node: 0 };
  process.send!({ gw: amis.gw.port, bare: amis.bare.port, bun: amis.bun.port, node: amis.node.port });
  process.on('message', async (m: { target: keyof typeof amis; events: number; rate: number }) => {
    const socket = await amis[m.target].loggedIn;
    const write = (count: number): Promise<void> | undefined => {
      const stamp = nowUs();
      let text = '';
      for (let k = 0; k < count; k++, sent[m.target]++) text += event(sent[m.target], sent[m.target] >= CHANNELS, stamp);
      return socket.write(text) ? undefined : new Promise((r) => socket.once('drain', r));
    };
    const startUs = nowUs();
    for (let done = 0; done < m.events; ) {
      if (m.rate > 0) {
        const due = Math.min(m.events, Math.floor(((nowUs() - startUs) * m.rate) / 1e6) + 1);
        if (due > done) write(due - done);
        done = due;
        if (done < m.events) await sleep(Math.max(0, (done * 1e6) / m.rate - (nowUs() - startUs)) / 1000);
      } else {
        const count = Math.min(100, m.events - done);
        await write(count);
        done += count;
      }
    }
    process.send!({ startUs, endUs: nowUs() });
  });
}
