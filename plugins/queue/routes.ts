// HTTP routes of the queue plugin, at the spec's paths (/admin/queue/queues, /members, /entries). Lists and details
// come from live state; member add / pause / penalty / remove (beyond the spec, for supervisors) go to Asterisk.
import type { Context } from 'hono';
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import { assertSingleLine, param, readBody } from '../../core/http/body.ts';
import type { QueueService } from './service.ts';
import { renderEntry, type QueueState } from './state.ts';

const live = { live: true };

/** A name from the URL or the query string: any text (member names hold "/" and "@"), but one line. */
function nameFrom(value: string, what: string): string {
  if (value === '') throw badRequest(`${what}: must not be empty`);
  assertSingleLine(value, what);
  return value;
}

function queueNameQuery(c: Context): string | undefined {
  const q = c.req.query('queue_name');
  return q === undefined ? undefined : nameFrom(q, 'queue_name');
}

export function registerRoutes(ctx: PluginContext, state: QueueState, service: QueueService): void {
  const r = ctx.router;

  // ---- queues ----
  r.get('/admin/queue/queues', () => okBytes(state.queues.listBytes()), live);
  r.get('/admin/queue/queues/:name', (c) => ok(service.queueOr404(nameFrom(param(c, 'name'), 'queue name'))), live);

  // ---- members ----
  r.get('/admin/queue/members', (c) => {
    const queue = queueNameQuery(c);
    if (queue === undefined) return okBytes(state.members.listBytes());
    service.queueOr404(queue);
    return ok({ list: [...state.members.values()].filter((m) => m.queue_name === queue) });
  }, live);
  r.get('/admin/queue/members/:name{[\\s\\S]+}', (c) => ok(service.memberOr404(nameFrom(param(c, 'name'), 'member name'), queueNameQuery(c))), live);

  r.post('/admin/queue/members', async (c) => {
    const b = await readBody(c, {
      queue_name: 'string',
      interface: 'string?',
      location: 'string?',
      name: 'string?',
      state_interface: 'string?',
      penalty: 'integer?',
      paused: 'boolean?',
      paused_reason: 'string?',
      wrapuptime: 'integer?',
    }, { ignore: ['id', 'tm_update'] });
    const iface = b.interface ?? b.location;
    if (!iface) throw badRequest('interface: is required (the member\'s channel, e.g. PJSIP/2001 or Local/2001@agents/n)');
    if (b.interface !== undefined && b.location !== undefined && b.interface !== b.location) {
      throw badRequest('interface and location: give one of them (they name the same thing)');
    }
    if (!iface.includes('/')) throw badRequest(`interface: "${iface}" is not a channel interface (Tech/resource)`);
    if (b.penalty !== undefined && b.penalty < 0) throw badRequest('penalty: must not be negative');
    if (b.wrapuptime !== undefined && b.wrapuptime < 0) throw badRequest('wrapuptime: must not be negative');
    // queue.member.added is published by the QueueMemberAdded event, as for a member added any other way
    return ok(await service.addMember({ ...b, interface: iface }));
  }, live);

  r.put('/admin/queue/members/:name{[\\s\\S]+}', async (c) => {
    const b = await readBody(c, { paused: 'boolean?', paused_reason: 'string?', penalty: 'integer?', queue_name: 'string?' }, {
      ignore: ['id', 'name', 'location', 'tm_update'],
    });
    if (b.paused === undefined && b.paused_reason === undefined && b.penalty === undefined) {
      throw badRequest('nothing to change: give paused (with an optional paused_reason) or penalty');
    }
    if (b.penalty !== undefined && b.penalty < 0) throw badRequest('penalty: must not be negative');
    const mem = service.memberOr404(nameFrom(param(c, 'name'), 'member name'), queueNameQuery(c) ?? b.queue_name);
    // queue.member.updated is published by the QueueMemberPause / QueueMemberPenalty events
    return ok(await service.changeMember(mem, { paused: b.paused, paused_reason: b.paused_reason, penalty: b.penalty }));
  }, live);

  r.delete('/admin/queue/members/:name{[\\s\\S]+}', async (c) => {
    const mem = service.memberOr404(nameFrom(param(c, 'name'), 'member name'), queueNameQuery(c));
    // published here unless the QueueMemberRemoved event was applied (and published) first
    if (await service.removeMember(mem)) ctx.bus.publish('queue.member.removed', mem);
    return ok();
  }, live);

  // ---- entries (waiting callers) ----
  r.get('/admin/queue/entries', (c) => {
    const nowMs = Date.now();
    const queue = queueNameQuery(c);
    if (queue !== undefined) {
      service.queueOr404(queue);
      return ok({ list: [...state.entries.values()].filter((e) => e.queue_name === queue).map((e) => renderEntry(e, nowMs)) });
    }
    return okBytes(state.entries.listBytes((e) => renderEntry(e, nowMs), Math.floor(nowMs / 1000)));
  }, live);
  r.get('/admin/queue/entries/:id', (c) => {
    const id = nameFrom(param(c, 'id'), 'unique id');
    const e = state.entries.get(id);
    if (!e) throw notFound(`no caller with unique_id ${id} is waiting in a queue`);
    return ok(renderEntry(e));
  }, live);
}
