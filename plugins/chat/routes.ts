// HTTP routes of the chat plugin: /me/chats (+ /<uuid>) and /me/chats/<uuid>/messages. As the spec shows them, the
// lists (chats, messages) are JSON arrays in `result`, not {"list": [...]}.
import type { Context } from 'hono';
import type { Router } from '../../core/plugins/contract.ts';
import { ok } from '../../core/http/envelope.ts';
import { param, readJson, validate } from '../../core/http/body.ts';
import type { ChatService } from './service.ts';

const READ_ONLY = ['uuid', 'tm_create', 'tm_update'];
const me = (c: Context) => c.get('userUuid') as string;

export function registerRoutes(r: Router, chats: ChatService): void {
  r.get('/me/chats', (c) => ok(chats.list(me(c))));
  r.post('/me/chats', async (c) => {
    // Names are single-line strings ('string' refuses CR/LF); members are user uuids.
    const b = validate(await readJson(c), { name: 'string?', detail: 'string?', type: 'integer?', members: 'array' }, { ignore: READ_ONLY });
    return ok(await chats.create(me(c), b));
  });
  r.get('/me/chats/:uuid', (c) => ok(chats.get(me(c), param(c, 'uuid'))));
  r.put('/me/chats/:uuid', async (c) => {
    const b = validate(await readJson(c), { name: 'string?', detail: 'string?', type: 'integer?', members: 'array?' }, { ignore: [...READ_ONLY, 'room'] });
    return ok(await chats.update(me(c), param(c, 'uuid'), b));
  });
  r.delete('/me/chats/:uuid', async (c) => {
    await chats.leave(me(c), param(c, 'uuid'));
    return ok();
  });

  // ?timestamp= (exclusive: older messages only) & ?count=, newest first; page on with the last one's tm_create.
  r.get('/me/chats/:uuid/messages', async (c) =>
    ok(await chats.messages(me(c), param(c, 'uuid'), { timestamp: c.req.query('timestamp'), count: c.req.query('count') })),
  );
  r.post('/me/chats/:uuid/messages', async (c) => {
    // {"message": "text"}; the text may span lines ('text' allows CR/LF, refuses NUL).
    const b = validate(await readJson(c), { message: 'text' });
    return ok(await chats.post(me(c), param(c, 'uuid'), b.message));
  });
}
