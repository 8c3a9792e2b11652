// queue plugin: queues, members and waiting callers (spec: /admin/queue/queues, /members, /entries), plus member
// add / pause / penalty / remove for supervisors.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerRoutes } from './routes.ts';
import { registerQueueConfigRoutes } from './config-routes.ts';
import { SavedLog, systemClock, Throttle } from '../../core/live/windows.ts';
import { events, type StoredMember } from './schemas.ts';
import { QueueService } from './service.ts';
import { QueueStatsBook } from './stats.ts';
import { memberKey, QueueState, renderEntry, renderMember } from './state.ts';

/** queue.stats.updated is sent at most this often per queue. */
export const STATS_EVENT_MIN_MS = 1000;

export default definePlugin({
  name: 'queue',
  description: 'queues, queue members and waiting callers (app_queue)',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new QueueState();
    const live = new LiveKit(ctx);
    const service = new QueueService(ctx.ami, state, live);
    const clock = systemClock;
    const resetAt = () => ctx.config.queue_stats.reset_at;
    const book = new QueueStatsBook(clock, resetAt, (q) => state.queues.get(q)?.service_level ?? 0);
    const saved = new SavedLog(ctx.store, 'queue_stats_calls', book.calls, ctx.config.queue_stats.save_interval_s * 1000, (e) =>
      ctx.log.warn(`saving the queue statistics failed: ${e.message}`),
    );
    const kept = saved.load();
    if (kept > 0) ctx.log.info(`queue statistics: ${kept} answered/abandoned calls restored from the store`);
    saved.start();
    service.onLoad = (evs) => book.loadWaiting(evs);
    const render = (mem: StoredMember) =>
      renderMember(mem, book.memberCalls(memberKey).get(memberKey(mem.queue_name, mem.location)), clock.now());
    registerRoutes(ctx, state, service, book, render);
    registerQueueConfigRoutes(ctx);
    const throttle = new Throttle(STATS_EVENT_MIN_MS, clock, (q) => {
      if (state.queues.has(q)) live.publish(events.statsUpdated, book.stats(q));
    });
    /** A statistics change of `queue` (not for replayed events: they were counted when they came). */
    const statsChanged = (queue: string | undefined) => {
      if (queue && !live.replaying) throttle.notify(queue);
    };
    const member = (spec: typeof events.memberAdded) =>
      live.on((m: AmiMessage) => {
        const { member, queueKnown } = state.upsertMember(m);
        if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
        live.publish(spec, member && render(member));
      });
    const lifecycle = live.lifecycle({
      resync: () => service.resync(),
      reset: () => {
        state.reset();
        book.forgetWaiting();
      },
      close: () => throttle.cancel(),
    });
    return {
      ...lifecycle,
      close: async () => {
        lifecycle.close();
        await saved.close().catch((e: Error) => ctx.log.warn(`saving the queue statistics failed: ${e.message}`));
      },
      snapshots: {
        'queue.member': () => {
          const calls = book.memberCalls(memberKey);
          const now = clock.now();
          return [...state.members.values()].map((m) => renderMember(m, calls.get(memberKey(m.queue_name, m.location)), now));
        },
        'queue.entry': () => [...state.entries.values()].map((e) => renderEntry(e)),
        'queue.stats': () => [...state.queues.values()].map((q) => book.stats(q.name)),
      },
      events: {
        QueueCallerJoin: live.on((m) => {
          statsChanged(book.join(m));
          const { entry, queueKnown } = state.join(m);
          if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryJoined, renderEntry(entry));
        }),
        QueueCallerLeave: live.on((m) => {
          statsChanged(book.leave(m));
          const { entry } = state.leave(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryLeft, renderEntry(entry));
        }),
        QueueCallerAbandon: live.on((m) => {
          statsChanged(book.abandon(m));
          const entry = state.abandon(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryAbandoned, renderEntry(entry));
        }),
        QueueMemberAdded: member(events.memberAdded),
        QueueMemberStatus: member(events.memberUpdated),
        QueueMemberPause: member(events.memberUpdated),
        QueueMemberPenalty: member(events.memberUpdated),
        QueueMemberRinginuse: member(events.memberUpdated),
        QueueMemberRemoved: live.on((m) => {
          const mem = state.removeMember(m);
          live.publish(events.memberRemoved, mem && render(mem));
        }),
        // hold time is averaged when a member answers, completed counts when the call ends
        AgentConnect: live.on((m) => {
          statsChanged(book.connect(m));
          service.scheduleRefresh(m.fields.Queue);
        }),
        AgentComplete: live.on((m) => {
          statsChanged(book.complete(m));
          service.scheduleRefresh(m.fields.Queue);
        }),
        // queues.conf reloaded: queues may have come or gone, with their static members
        Reload: live.onReload('app_queue', () => service.resyncSoon()),
      },
    };
  },
});
