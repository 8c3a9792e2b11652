import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { AmiClient, type AmiClientOptions } from '../../core/ami/client.ts';
import { encodeAction } from '../../core/ami/encoder.ts';
import { AmiError, AmiInputError, AmiNotConnectedError, AmiTimeoutError } from '../../core/ami/errors.ts';
import { values, type AmiMessage } from '../../core/ami/message.ts';

// ---------------------------------------------------------------------------------------------
// A fake AMI server for fault injection. It parses requests with its own tiny splitter (not the
// parser under test) and answers through a per-test handler.

interface Request {
  /** Header pairs in wire order (repeats kept). */
  pairs: Array<[string, string]>;
  get(key: string): string | undefined;
}

interface FakeConnection {
  readonly socket: net.Socket;
  readonly requests: Request[];
  /** Every byte received, for "nothing was sent" checks. */
  received(): Buffer;
  send(data: string | Buffer): void;
}

type Handler = (request: Request, connection: FakeConnection, server: FakeAmi) => void;

const BANNER = 'Asterisk Call Manager/11.0.0\r\n';

function reply(actionId: string | undefined, lines: string[]): string {
  const idLine = actionId === undefined ? [] : [`ActionID: ${actionId}`];
  const [first, ...rest] = lines;
  return [first, ...idLine, ...rest].join('\r\n') + '\r\n\r\n';
}

/** Answers Login (secret "secret"), Ping and Logoff the way Asterisk does. */
const defaultHandler: Handler = (request, connection) => {
  const action = request.get('Action');
  const id = request.get('ActionID');
  if (action === 'Login') {
    if (request.get('Secret') === 'secret') {
      connection.send(reply(id, ['Response: Success', 'Message: Authentication accepted']));
      connection.send('Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nLastReload: 5\r\nStatus: Fully Booted\r\n\r\n');
    } else {
      connection.send(reply(id, ['Response: Error', 'Message: Authentication failed']));
      connection.socket.end();
    }
  } else if (action === 'Ping') {
    connection.send(reply(id, ['Response: Success', 'Ping: Pong', 'Timestamp: 1795817530.000000']));
  } else if (action === 'Logoff') {
    connection.send(reply(id, ['Response: Goodbye', 'Message: Thanks for all the fish.']));
    connection.socket.end();
  }
};

class FakeAmi {
  readonly connections: FakeConnection[] = [];
  handler: Handler = defaultHandler;
  private readonly server: net.Server;
  private readonly waiters: Array<() => void> = [];

  private constructor() {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(handler?: Handler): Promise<FakeAmi> {
    const fake = new FakeAmi();
    if (handler !== undefined) fake.handler = handler;
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    const address = this.server.address();
    assert.ok(address !== null && typeof address !== 'string');
    return address.port;
  }

  /** All requests of all connections, in arrival order per connection. */
  requests(action?: string): Request[] {
    const all = this.connections.flatMap((c) => c.requests);
    return action === undefined ? all : all.filter((r) => r.get('Action') === action);
  }

  /** Resolves when the condition holds (checked on every request and connection). */
  async until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private accept(socket: net.Socket): void {
    const chunks: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const connection: FakeConnection = {
      socket,
      requests: [],
      received: () => Buffer.concat(chunks),
      send: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
    };
    this.connections.push(connection);
    socket.on('error', () => {});
    socket.on('close', () => this.wake());
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const text = pending.subarray(0, end).toString('utf8');
        pending = pending.subarray(end + 4);
        const pairs = text.split('\r\n').map((line): [string, string] => {
          const sep = line.indexOf(': ');
          return [line.slice(0, sep), line.slice(sep + 2)];
        });
        const request: Request = {
          pairs,
          get: (key) => pairs.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1],
        };
        connection.requests.push(request);
        this.handler(request, connection, this);
      }
      this.wake();
    });
    socket.write(BANNER);
    this.wake();
  }
}

interface CapturedLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  lines: string[];
}

function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push(`${level}: ${args.map(String).join(' ')}`);
    };
  return { info: record('info'), warn: record('warn'), error: record('error'), lines };
}

function clientFor(fake: FakeAmi, overrides: Partial<AmiClientOptions> = {}): AmiClient {
  return new AmiClient({
    host: '127.0.0.1',
    port: fake.port,
    username: 'gateway',
    secret: 'secret',
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    actionTimeoutMs: 2000,
    logger: captureLogger(),
    ...overrides,
  });
}

/** Runs a test body with a fake server and a client, and always closes both. */
async function withAmi(
  body: (fake: FakeAmi, client: AmiClient) => Promise<void>,
  options: { handler?: Handler; client?: Partial<AmiClientOptions> } = {},
): Promise<void> {
  const fake = await FakeAmi.start(options.handler);
  const client = clientFor(fake, options.client);
  try {
    await body(fake, client);
  } finally {
    await client.stop();
    await fake.close();
  }
}

/** The first connection's socket, for tests that answer by hand. */
function only(fake: FakeAmi): FakeConnection {
  const connection = fake.connections[fake.connections.length - 1];
  assert.ok(connection);
  return connection;
}

// ---------------------------------------------------------------------------------------------

test('login: credentials and Events mask sent; banner version; connected; FullyBooted reaches onEvent', async () => {
  await withAmi(
    async (fake, client) => {
      const events: AmiMessage[] = [];
      client.onEvent((m) => events.push(m));
      let connects = 0;
      client.onConnect(() => {
        connects++;
      });
      assert.equal(client.connected, false);
      await client.connectOnce();
      assert.equal(client.connected, true);
      assert.equal(client.amiVersion, '11.0.0');
      assert.equal(connects, 1);
      const [login] = fake.requests('Login');
      assert.ok(login);
      assert.equal(login.get('Username'), 'gateway');
      assert.equal(login.get('Secret'), 'secret');
      assert.equal(login.get('Events'), 'call,agent');
      assert.match(login.get('ActionID') ?? '', /\S/);
      await fake.until(() => events.length > 0, 'FullyBooted');
      assert.equal(events[0]?.fields.Event, 'FullyBooted');
      assert.equal((await client.action('Ping')).fields.Ping, 'Pong');
    },
    { client: { events: 'call,agent' } },
  );
});

test('login failure: rejected with AmiError, logged clearly, retried with backoff', async () => {
  const logger = captureLogger();
  await withAmi(
    async (fake, client) => {
      await assert.rejects(client.connectOnce(), (error: unknown) => {
        assert.ok(error instanceof AmiError);
        assert.equal(error.message, 'Authentication failed');
        return true;
      });
      assert.equal(client.connected, false);
      assert.ok(logger.lines.some((l) => l.startsWith('error:') && l.includes('Authentication failed')));
      await fake.until(() => fake.requests('Login').length >= 3, 'two more login attempts');
      assert.equal(client.connected, false);
      await assert.rejects(client.action('Ping'), AmiNotConnectedError);
    },
    { client: { secret: 'wrong', logger } },
  );
});

test('concurrent actions answered out of order each get their own reply', async () => {
  const held: Array<{ id: string; token: string; connection: FakeConnection }> = [];
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'UserEvent') return defaultHandler(request, connection, server);
    held.push({ id: request.get('ActionID') ?? '', token: request.get('Token') ?? '', connection });
  };
  await withAmi(
    async (fake, client) => {
      await client.connectOnce();
      const count = 25;
      const calls = Array.from({ length: count }, (_, i) => client.action('UserEvent', { UserEvent: 'T', Token: `t${i}` }));
      await fake.until(() => held.length === count, 'all actions to arrive');
      assert.equal(new Set(held.map((h) => h.id)).size, count, 'ActionIDs are unique');
      // Answer in reverse order; each answer echoes the request's token.
      for (const h of [...held].reverse()) {
        h.connection.send(reply(h.id, ['Response: Success', `Echo: ${h.token}`]));
      }
      const answers = await Promise.all(calls);
      for (const [i, answer] of answers.entries()) assert.equal(answer.fields.Echo, `t${i}`);
    },
    { handler },
  );
});

test('list, EventList form: items collected, unrelated events go to onEvent', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'CoreShowChannels') return defaultHandler(request, connection, server);
    const id = request.get('ActionID') ?? '';
    connection.send(reply(id, ['Response: Success', 'EventList: start', 'Message: Channels will follow']));
    connection.send(`Event: CoreShowChannel\r\nActionID: ${id}\r\nChannel: PJSIP/1001-00000001\r\nCallerIDName: Jörg\r\n\r\n`);
    connection.send('Event: Newstate\r\nPrivilege: call,all\r\nChannel: PJSIP/9-1\r\n\r\n');
    connection.send(`Event: CoreShowChannel\r\nActionID: ${id}\r\nChannel: PJSIP/1002-00000002\r\n\r\n`);
    connection.send(`Event: CoreShowChannelsComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 2\r\n\r\n`);
  };
  await withAmi(
    async (_fake, client) => {
      const unsolicited: string[] = [];
      client.onEvent((m) => unsolicited.push(m.fields.Event ?? ''));
      await client.connectOnce();
      const result = await client.list('CoreShowChannels');
      assert.equal(result.response.fields.EventList, 'start');
      assert.deepEqual(
        result.events.map((e) => e.fields.Channel),
        ['PJSIP/1001-00000001', 'PJSIP/1002-00000002'],
      );
      assert.equal(result.events[0]?.fields.CallerIDName, 'Jörg');
      assert.equal(result.complete?.fields.ListItems, '2');
      assert.ok(unsolicited.includes('Newstate'));
      assert.ok(!unsolicited.includes('CoreShowChannel'));
      assert.ok(!unsolicited.includes('CoreShowChannelsComplete'));
    },
    { handler },
  );
});

test('list, "Following are Events" form (PJSIPShowEndpoint): items without EventList; errors reject', async () => {
  const handler: Handler = (request, connection, server) => {
    const id = request.get('ActionID') ?? '';
    switch (request.get('Action')) {
      case 'PJSIPShowEndpoint':
        connection.send(reply(id, ['Response: Success', 'Message: Following are Events for each object associated with the Endpoint']));
        connection.send(`Event: EndpointDetail\r\nActionID: ${id}\r\nObjectName: 1001\r\nDeviceState: Not in use\r\n\r\n`);
        connection.send(`Event: AorDetail\r\nActionID: ${id}\r\nObjectName: 1001\r\nContacts: 1001/sip:a\r\nContacts: 1001/sip:b\r\n\r\n`);
        connection.send(`Event: EndpointDetailComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 3\r\n\r\n`);
        return;
      case 'PJSIPShowEndpoints':
        connection.send(reply(id, ['Response: Error', 'Message: No endpoints found\n']));
        return;
      default:
        defaultHandler(request, connection, server);
    }
  };
  await withAmi(
    async (_fake, client) => {
      await client.connectOnce();
      const endpoint = await client.list('PJSIPShowEndpoint', { Endpoint: '1001' });
      assert.deepEqual(
        endpoint.events.map((e) => e.fields.Event),
        ['EndpointDetail', 'AorDetail'],
      );
      assert.deepEqual(values(endpoint.events[1] as AmiMessage, 'Contacts'), ['1001/sip:a', '1001/sip:b']);
      assert.equal(endpoint.complete?.fields.Event, 'EndpointDetailComplete');

      await assert.rejects(client.list('PJSIPShowEndpoints'), (error: unknown) => {
        assert.ok(error instanceof AmiError);
        assert.equal(error.message, 'No endpoints found');
        assert.equal(error.response.fields.Response, 'Error');
        return true;
      });
      // A Success ack that announces no list resolves at once, without items.
      const ping = await client.list('Ping');
      assert.deepEqual(ping.events, []);
      assert.equal(ping.complete, undefined);
      assert.equal(ping.response.fields.Ping, 'Pong');
    },
    { handler },
  );
});

test('connection cut mid-list: the list rejects at once, then reconnect, login and onConnect again', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'QueueStatus') return defaultHandler(request, connection, server);
    const id = request.get('ActionID') ?? '';
    connection.send(reply(id, ['Response: Success', 'EventList: start', 'Message: Queue status will follow']));
    connection.send(`Event: QueueParams\r\nQueue: support\r\nActionID: ${id}\r\n\r\n`);
    setImmediate(() => connection.socket.destroy());
  };
  await withAmi(
    async (fake, client) => {
      const order: string[] = [];
      client.onConnect(() => {
        order.push('connect');
      });
      client.onDisconnect((reason) => order.push(`disconnect: ${reason}`));
      await client.connectOnce();
      const started = Date.now();
      let stateAtRejection = '';
      await assert.rejects(
        client.list('QueueStatus').catch((error: unknown) => {
          stateAtRejection = `${order.join(' | ')} | connections=${fake.connections.length}`;
          throw error;
        }),
        AmiNotConnectedError,
      );
      const elapsed = Date.now() - started;
      // Rejected by the drop itself (action timeout here is 10 s), before any reconnect.
      assert.ok(elapsed < 1000, `rejected after ${elapsed} ms, not at once`);
      assert.match(stateAtRejection, /^connect \| disconnect: [^|]+ \| connections=1$/);
      assert.equal(client.connected, false);
      await assert.rejects(client.action('Ping'), AmiNotConnectedError);

      await fake.until(() => client.connected && order.length === 3, 'reconnect');
      assert.equal(order[2], 'connect');
      assert.equal(fake.connections.length, 2);
      assert.equal(fake.requests('Login').length, 2);
      assert.equal((await client.action('Ping')).fields.Ping, 'Pong');
    },
    { handler, client: { actionTimeoutMs: 10_000 } },
  );
});

test('garbage bytes before a valid response do not break the session', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'CoreStatus') return defaultHandler(request, connection, server);
    connection.send(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0x41, 0x42, 0x0a, 0x0d, 0x0a]));
    connection.send('this line has no separator\r\n\r\n\r\n');
    connection.send(reply(request.get('ActionID'), ['Response: Success', 'CoreCurrentCalls: 3']));
  };
  await withAmi(
    async (_fake, client) => {
      await client.connectOnce();
      const status = await client.action('CoreStatus');
      assert.equal(status.fields.CoreCurrentCalls, '3');
      assert.equal((await client.action('Ping')).fields.Ping, 'Pong');
    },
    { handler },
  );
});

test('CR/LF in a header is refused before anything is sent (no header injection)', async () => {
  await withAmi(async (fake, client) => {
    await client.connectOnce();
    const connection = only(fake);
    const bytesBefore = connection.received().length;
    await assert.rejects(client.action('Ping', { Note: 'x\r\nAction: Hangup\r\nChannel: PJSIP/1001' }), (error: unknown) => {
      assert.ok(error instanceof AmiInputError);
      assert.equal(error.field, 'Note');
      return true;
    });
    await assert.rejects(client.action('Originate', { 'Bad\nKey': 'v' }), AmiInputError);
    await assert.rejects(client.action('Ping\r\nAction: Hangup'), AmiInputError);
    await assert.rejects(client.action('Originate', { Variable: ['A=1', 'B=2\n'] }), AmiInputError);
    assert.equal(connection.received().length, bytesBefore);
    // The next request is the Ping below: nothing was injected in between.
    await client.action('Ping');
    assert.deepEqual(
      connection.requests.map((r) => r.get('Action')),
      ['Login', 'Ping'],
    );
  });
});

test('encoder: repeated headers, booleans, numbers, undefined skipped; bad keys refused', () => {
  const text = encodeAction('Originate', 'id-1', {
    Channel: 'Local/100@ctx',
    Async: true,
    EarlyMedia: false,
    Timeout: 30000,
    Account: undefined,
    Variable: ['A=1', 'B=Jörg'],
  });
  assert.equal(
    text,
    'Action: Originate\r\nActionID: id-1\r\nChannel: Local/100@ctx\r\nAsync: true\r\nEarlyMedia: false\r\n' +
      'Timeout: 30000\r\nVariable: A=1\r\nVariable: B=Jörg\r\n\r\n',
  );
  assert.throws(() => encodeAction('Ping', 'i', { '': 'x' }), AmiInputError);
  assert.throws(
    () => encodeAction('Ping', 'i', { 'A:B': 'x' }),
    (e: unknown) => e instanceof AmiInputError && e.field === 'A:B',
  );
  assert.throws(() => encodeAction('Ping', 'i', { A: 'x\ry' }), AmiInputError);
  assert.throws(() => encodeAction('Ping', 'i', { ActionID: 'mine' }), AmiInputError);
  assert.throws(() => encodeAction('Ping', 'i', { Timeout: Number.NaN }), AmiInputError);
  assert.throws(() => encodeAction('Ping', 'i\n', {}), AmiInputError);
  assert.throws(() => encodeAction('Ping', 'i', { Data: 'x'.repeat(2000) }), AmiInputError);
});

test('actions while not connected reject at once with AmiNotConnectedError', async () => {
  const fake = await FakeAmi.start();
  const client = clientFor(fake);
  try {
    await assert.rejects(client.action('Ping'), AmiNotConnectedError);
    await assert.rejects(client.list('CoreShowChannels'), AmiNotConnectedError);
    await assert.rejects(client.command('core show version'), AmiNotConnectedError);
    await client.connectOnce();
    await client.stop();
    assert.equal(client.connected, false);
    await assert.rejects(client.action('Ping'), AmiNotConnectedError);
    assert.equal(fake.requests('Logoff').length, 1, 'stop() logs off');
  } finally {
    await client.stop();
    await fake.close();
  }
  assert.equal(fake.connections.length, 1, 'no reconnect after stop()');
});

test('unicode: UTF-8 out, and a reply split inside a multi-byte character comes back intact', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'Setvar') return defaultHandler(request, connection, server);
    const answer = Buffer.from(reply(request.get('ActionID'), ['Response: Success', `Message: ${request.get('Value')}`]));
    const cut = answer.indexOf(Buffer.from('ö')) + 1; // between the two bytes of ö
    connection.send(answer.subarray(0, cut));
    setTimeout(() => connection.send(answer.subarray(cut)), 5);
  };
  await withAmi(
    async (fake, client) => {
      await client.connectOnce();
      const value = 'Jörg Ünal € 😀';
      const answer = await client.action('Setvar', { Variable: 'CALLERNAME', Value: value });
      assert.equal(answer.fields.Message, value);
      const raw = only(fake).received().toString('utf8');
      assert.ok(raw.includes(`Value: ${value}\r\n`));
    },
    { handler },
  );
});

test('command(): 14+ Output form, unknown command as AmiError, and the <=13 Follows form', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'Command') return defaultHandler(request, connection, server);
    const id = request.get('ActionID') ?? '';
    const command = request.get('Command');
    if (command === 'core show version') {
      connection.send(
        reply(id, ['Response: Success', 'Message: Command output follows', 'Output: Asterisk 22.10.1', 'Output: second line']),
      );
    } else if (command === 'old style') {
      connection.send(`Response: Follows\r\nPrivilege: Command\r\nActionID: ${id}\r\nline 1\nline 2\n--END COMMAND--\r\n\r\n`);
    } else if (command === 'silent') {
      connection.send(reply(id, ['Response: Success', 'Message: Command output follows', 'Output: ']));
    } else {
      connection.send(
        reply(id, [
          'Response: Error',
          'Message: Command output follows',
          `Output: No such command '${command}' (type 'core show help ${command}' for other possible commands)`,
        ]),
      );
    }
  };
  await withAmi(
    async (_fake, client) => {
      await client.connectOnce();
      assert.deepEqual(await client.command('core show version'), ['Asterisk 22.10.1', 'second line']);
      assert.deepEqual(await client.command('old style'), ['line 1', 'line 2']);
      assert.deepEqual(await client.command('silent'), []);
      await assert.rejects(client.command('foo'), (error: unknown) => {
        assert.ok(error instanceof AmiError);
        assert.equal(error.message, "No such command 'foo' (type 'core show help foo' for other possible commands)");
        return true;
      });
    },
    { handler },
  );
});

test('an event carrying the ActionID of an answered action (OriginateResponse) reaches onEvent', async () => {
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'Originate') return defaultHandler(request, connection, server);
    const id = request.get('ActionID') ?? '';
    connection.send(reply(id, ['Response: Success', 'Message: Originate successfully queued']));
    connection.send(
      `Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: ${id}\r\nResponse: Success\r\nChannel: Local/100@ctx-00000001;1\r\nReason: 4\r\n\r\n`,
    );
  };
  await withAmi(
    async (fake, client) => {
      const events: AmiMessage[] = [];
      client.onEvent((m) => events.push(m));
      await client.connectOnce();
      const queued = await client.action('Originate', { Channel: 'Local/100@ctx', Application: 'Wait', Data: '1', Async: true });
      assert.equal(queued.fields.Message, 'Originate successfully queued');
      await fake.until(() => events.some((e) => e.fields.Event === 'OriginateResponse'), 'OriginateResponse');
      const event = events.find((e) => e.fields.Event === 'OriginateResponse');
      assert.equal(event?.fields.ActionID, queued.fields.ActionID);
      assert.equal(event?.fields.Reason, '4');
    },
    { handler },
  );
});

test('an unanswered action rejects with AmiTimeoutError; its late answer is ignored', async () => {
  let lateAnswer: (() => void) | undefined;
  const handler: Handler = (request, connection, server) => {
    if (request.get('Action') !== 'Slow') return defaultHandler(request, connection, server);
    lateAnswer = () => connection.send(reply(request.get('ActionID'), ['Response: Success']));
  };
  await withAmi(
    async (fake, client) => {
      await client.connectOnce();
      await assert.rejects(client.action('Slow'), AmiTimeoutError);
      assert.ok(lateAnswer);
      lateAnswer();
      assert.equal((await client.action('Ping')).fields.Ping, 'Pong');
      assert.equal(client.connected, true);
      assert.equal(fake.connections.length, 1);
    },
    { handler, client: { actionTimeoutMs: 100 } },
  );
});

test('onActionDone tells each settled action its outcome: success, error, timeout, disconnected', async () => {
  const done: Array<[string, string, number]> = [];
  let cut: (() => void) | undefined;
  const handler: Handler = (request, connection, server) => {
    const action = request.get('Action');
    if (action === 'Refused') connection.send(reply(request.get('ActionID'), ['Response: Error', 'Message: No such thing']));
    else if (action === 'Slow') return;
    else if (action === 'Hang') cut = () => connection.socket.destroy();
    else defaultHandler(request, connection, server);
  };
  await withAmi(
    async (fake, client) => {
      await client.connectOnce();
      assert.deepEqual(
        done.map(([n, o]) => [n, o]),
        [['Login', 'success']],
      );
      await client.action('Ping');
      await assert.rejects(client.action('Refused'), AmiError);
      await assert.rejects(client.action('Slow'), AmiTimeoutError);
      const hung = client.action('Hang');
      await fake.until(() => cut !== undefined, 'Hang sent');
      cut!();
      await assert.rejects(hung, AmiNotConnectedError);
      // (a reconnect's Login may follow: only what came before it is compared)
      assert.deepEqual(
        done.slice(0, 5).map(([n, o]) => [n, o]),
        [
          ['Login', 'success'],
          ['Ping', 'success'],
          ['Refused', 'error'],
          ['Slow', 'timeout'],
          ['Hang', 'disconnected'],
        ],
      );
      const slow = done.find(([n]) => n === 'Slow')!;
      assert.ok(slow[2] >= 0.09 && slow[2] < 5, `a timeout's time is about the timeout: ${slow[2]} s`);
      for (const [, , s] of done) assert.ok(s >= 0, 'durations are seconds, not negative');
    },
    { handler, client: { actionTimeoutMs: 100, onActionDone: (n, o, s) => done.push([n, o, s]) } },
  );
});
