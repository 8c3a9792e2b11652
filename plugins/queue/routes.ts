// HTTP routes of the queue plugin, at the spec's paths (/admin/queue/queues, /members, /entries). Lists and details
// come from live state; member add / pause / penalty / remove (beyond the spec, for supervisors) go to Asterisk.
import { route } from '../../core/contract/route.ts';
import { listOf, opt, pathText } from '../../core/contract/schema.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import type { PluginContext } from '../../core/plugins/contract.ts';
import {
  events,
  MemberAddSchema,
  MemberChangeSchema,
  QueueEntrySchema,
  QueueMemberSchema,
  QueueSchema,
  QueueStatsSchema,
  type QueueMember,
  type StoredMember,
} from './schemas.ts';
import type { QueueService } from './service.ts';
import type { QueueStatsBook } from './stats.ts';
import { memberKey, renderEntry, renderMember, type QueueState } from './state.ts';

const tags = ['queue'];
/** Member names hold "/" and "@" (PJSIP/2001, Local/2001@agents/n): any text on one line, URL-encoded. */
const memberParam = { name: pathText('member name or interface (URL-encode the /)') };
const queueQuery = { queue_name: opt(pathText('only this queue (a member in several queues needs it)')) };
const MEMBER_PATH = '/admin/queue/members/:name{[\\s\\S]+}';

export function registerRoutes(
  ctx: PluginContext,
  state: QueueState,
  service: QueueService,
  book: QueueStatsBook,
  render: (m: StoredMember) => QueueMember,
): void {
  const r = ctx.router;
  /** Members as answered, with their calls per window: computed once per second and statistics change. */
  const memberList = (filter?: (m: StoredMember) => boolean) => {
    const nowMs = Date.now();
    const calls = book.memberCalls(memberKey);
    const one = (m: StoredMember) => renderMember(m, calls.get(memberKey(m.queue_name, m.location)), nowMs);
    if (filter) return ok({ list: [...state.members.values()].filter(filter).map(one) });
    return okBytes(state.members.listBytes(one, Math.floor(nowMs / 1000) * 1e6 + (book.version % 1e6)));
  };

  // ---- queues ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/queues',
      summary: 'All queues',
      tags,
      live: true,
      responses: { 200: listOf(QueueSchema) },
      handler: () => okBytes(state.queues.listBytes()),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/queues/:name',
      summary: 'One queue',
      tags,
      live: true,
      params: { name: pathText('queue name') },
      responses: { 200: QueueSchema },
      errors: [404],
      handler: (_c, { params }) => ok(service.queueOr404(params.name)),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/queues/:name/stats',
      summary:
        'Beyond the spec: statistics of one queue kept by the gateway from queue events (waiting now, and answered, abandoned, service level, average wait and talk per window: last 15 min, last 60 min, since the daily reset)',
      tags,
      live: true,
      params: { name: pathText('queue name') },
      responses: { 200: QueueStatsSchema },
      errors: [404],
      handler: (_c, { params }) => {
        service.queueOr404(params.name);
        return ok(book.stats(params.name));
      },
    }),
  );

  // ---- members ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/members',
      summary: 'All queue members (of one queue with ?queue_name=)',
      tags,
      live: true,
      query: queueQuery,
      responses: { 200: listOf(QueueMemberSchema) },
      errors: [404],
      handler: (_c, { query }) => {
        const queue = query.queue_name;
        if (queue === undefined) return memberList();
        service.queueOr404(queue);
        return memberList((m) => m.queue_name === queue);
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: MEMBER_PATH,
      summary: 'One queue member, by member name or interface',
      tags,
      live: true,
      params: memberParam,
      query: queueQuery,
      responses: { 200: QueueMemberSchema },
      errors: [404],
      handler: (_c, { params, query }) => ok(render(service.memberOr404(params.name, query.queue_name))),
    }),
  );
  r.add(
    route({
      method: 'POST',
      path: '/admin/queue/members',
      summary: 'Add a member to a queue (QueueAdd)',
      tags,
      live: true,
      body: MemberAddSchema,
      responses: { 200: QueueMemberSchema },
      errors: [404, 409, 502],
      handler: async (_c, { body: b }) => {
        const iface = b.interface ?? b.location;
        if (!iface)
          throw badRequest("interface: is required (the member's channel, e.g. PJSIP/2001 or Local/2001@agents/n)", { field: 'interface' });
        if (b.interface !== undefined && b.location !== undefined && b.interface !== b.location) {
          throw badRequest('interface and location: give one of them (they name the same thing)');
        }
        if (!iface.includes('/'))
          throw badRequest(`interface: "${iface}" is not a channel interface (Tech/resource)`, { field: 'interface' });
        // queue.member.added is published by the QueueMemberAdded event, as for a member added any other way
        return ok(
          render(
            await service.addMember({
              queue_name: b.queue_name,
              interface: iface,
              name: b.name,
              state_interface: b.state_interface,
              penalty: b.penalty,
              paused: b.paused,
              paused_reason: b.paused_reason,
              wrapuptime: b.wrapuptime,
            }),
          ),
        );
      },
    }),
  );
  r.add(
    route({
      method: 'PUT',
      path: MEMBER_PATH,
      summary: 'Pause, unpause or re-rank a member (QueuePause, QueuePenalty)',
      tags,
      live: true,
      params: memberParam,
      query: queueQuery,
      body: MemberChangeSchema,
      responses: { 200: QueueMemberSchema },
      errors: [404, 502],
      handler: async (_c, { params, query, body: b }) => {
        if (b.paused === undefined && b.paused_reason === undefined && b.penalty === undefined) {
          throw badRequest('nothing to change: give paused (with an optional paused_reason) or penalty');
        }
        const mem = service.memberOr404(params.name, query.queue_name ?? b.queue_name);
        // queue.member.updated is published by the QueueMemberPause / QueueMemberPenalty events
        return ok(render(await service.changeMember(mem, { paused: b.paused, paused_reason: b.paused_reason, penalty: b.penalty })));
      },
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: MEMBER_PATH,
      summary: 'Remove a dynamic member from its queue (QueueRemove)',
      tags,
      live: true,
      params: memberParam,
      query: queueQuery,
      responses: { 200: null },
      errors: [404, 409, 502],
      handler: async (_c, { params, query }) => {
        const mem = service.memberOr404(params.name, query.queue_name);
        // published here unless the QueueMemberRemoved event was applied (and published) first
        if (await service.removeMember(mem)) ctx.bus.publish(events.memberRemoved, render(mem));
        return ok();
      },
    }),
  );

  // ---- entries (waiting callers) ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/entries',
      summary: 'All waiting callers (of one queue with ?queue_name=)',
      tags,
      live: true,
      query: queueQuery,
      responses: { 200: listOf(QueueEntrySchema) },
      errors: [404],
      handler: (_c, { query }) => {
        const nowMs = Date.now();
        const queue = query.queue_name;
        if (queue !== undefined) {
          service.queueOr404(queue);
          return ok({ list: [...state.entries.values()].filter((e) => e.queue_name === queue).map((e) => renderEntry(e, nowMs)) });
        }
        return okBytes(state.entries.listBytes((e) => renderEntry(e, nowMs), Math.floor(nowMs / 1000)));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/queue/entries/:id',
      summary: 'One waiting caller',
      tags,
      live: true,
      params: { id: pathText('unique id of the waiting channel') },
      responses: { 200: QueueEntrySchema },
      errors: [404],
      handler: (_c, { params }) => {
        const e = state.entries.get(params.id);
        if (!e) throw notFound(`no caller with unique_id ${params.id} is waiting in a queue`);
        return ok(renderEntry(e));
      },
    }),
  );
}
