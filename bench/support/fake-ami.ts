// A minimal AMI peer on loopback for benchmarks only (features are proven against the real Asterisk in test/):
// it accepts Login, answers list actions with an empty list, Command with no output, anything else with Success,
// and lets the benchmark push raw event bytes to the connected gateway.
import net from 'node:net';

export interface FakeAmi {
  port: number;
  /** Resolves when a client has logged in. */
  loggedIn: Promise<net.Socket>;
  send(bytes: string | Buffer): boolean;
  close(): Promise<void>;
}

const LIST_COMPLETE: Record<string, string> = {
  CoreShowChannels: 'CoreShowChannelsComplete',
  DeviceStateList: 'DeviceStateListComplete',
  QueueStatus: 'QueueStatusComplete',
  Parkinglots: 'ParkinglotsComplete',
  ParkedCalls: 'ParkedCallsComplete',
  Agents: 'AgentsComplete',
};

export async function startFakeAmi(): Promise<FakeAmi> {
  let client: net.Socket | undefined;
  let onLogin!: (s: net.Socket) => void;
  const loggedIn = new Promise<net.Socket>((r) => (onLogin = r));
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 4);
        const h: Record<string, string> = {};
        for (const line of msg.split('\r\n')) {
          const c = line.indexOf(':');
          if (c > 0) h[line.slice(0, c)] = line.slice(c + 1).trim();
        }
        const id = h.ActionID;
        const action = h.Action;
        if (action === 'Login') {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
          client = socket;
          onLogin(socket);
        } else if (action && LIST_COMPLETE[action]) {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: will follow\r\n\r\n`);
          socket.write(`Event: ${LIST_COMPLETE[action]}\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n`);
        } else if (action === 'Command') {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Command output follows\r\nOutput: \r\n\r\n`);
        } else {
          socket.write(`Response: Success\r\nActionID: ${id}\r\n\r\n`);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    loggedIn,
    send: (bytes) => client?.write(bytes) ?? false,
    close: () =>
      new Promise((r) => {
        client?.destroy();
        server.close(() => r());
      }),
  };
}
