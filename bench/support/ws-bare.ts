// The baseline of bench/ws-fanout.ts, in its own process as the gateway is in its: a bare `ws` broadcast server. It
// logs in to the feeder's `bare` fake AMI, splits the stream on blank lines, and for each event with a CallerIDName
// builds the gateway's own frame (a captured one, split around its stamp) once and sends that Buffer to every socket.
//   tsx bench/support/ws-bare.ts <ami port>   (forked with IPC: says {ready}; send {before, after}, answers {port} once
//                                            logged in; {cmd:'cpu'} is answered with its process.cpuUsage())
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { isMain } from './is-main.ts';

if (isMain(import.meta.url)) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  process.send!({ ready: true });
  process.on('message', (frame: { before: string; after: string } | { cmd: 'cpu' }) => {
    if ('cmd' in frame) return process.send!(process.cpuUsage());
    const ami = net.connect(Number(process.argv[2]), '127.0.0.1');
    ami.setNoDelay(true);
    ami.write('Action: Login\r\nActionID: 1\r\nUsername: bench\r\nSecret: bench\r\n\r\n');
    let buf = '';
    ami.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const msg = buf.slice(0, end);
        buf = buf.slice(end + 4);
        if (msg.includes('Response: Success')) process.send!({ port: (wss.address() as AddressInfo).port }); // after the greeting line
        const at = msg.indexOf('\r\nCallerIDName: ');
        if (at < 0) continue;
        const name = msg.slice(at + 16, msg.indexOf('\r\n', at + 16));
        const bytes = Buffer.from(frame.before + name + frame.after);
        for (const ws of wss.clients) ws.send(bytes);
      }
    });
  });
}
