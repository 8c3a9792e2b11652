// queue plugin: queues, members and waiting callers (spec: /admin/queue/queues, /members, /entries), plus member
// add / pause / penalty / remove for supervisors.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerRoutes } from './routes.ts';
import { registerQueueConfigRoutes } from './config-routes.ts';
import { events } from './schemas.ts';
import { QueueService } from './service.ts';
import { QueueState, renderEntry } from './state.ts';

export default definePlugin({
  name: 'queue',
  description: 'queues, queue members and waiting callers (app_queue)',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new QueueState();
    const live = new LiveKit(ctx);
    const service = new QueueService(ctx.ami, state, live);
    registerRoutes(ctx, state, service);
    registerQueueConfigRoutes(ctx);
    const member = (spec: typeof events.memberAdded) =>
      live.on((m: AmiMessage) => {
        const { member, queueKnown } = state.upsertMember(m);
        if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
        live.publish(spec, member);
      });
    return {
      ...live.lifecycle({ resync: () => service.resync(), reset: () => state.reset() }),
      snapshots: {
        'queue.member': () => [...state.members.values()],
        'queue.entry': () => [...state.entries.values()].map((e) => renderEntry(e)),
      },
      events: {
        QueueCallerJoin: live.on((m) => {
          const { entry, queueKnown } = state.join(m);
          if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryJoined, renderEntry(entry));
        }),
        QueueCallerLeave: live.on((m) => {
          const { entry } = state.leave(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryLeft, renderEntry(entry));
        }),
        QueueCallerAbandon: live.on((m) => {
          const entry = state.abandon(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) live.publish(events.entryAbandoned, renderEntry(entry));
        }),
        QueueMemberAdded: member(events.memberAdded),
        QueueMemberStatus: member(events.memberUpdated),
        QueueMemberPause: member(events.memberUpdated),
        QueueMemberPenalty: member(events.memberUpdated),
        QueueMemberRinginuse: member(events.memberUpdated),
        QueueMemberRemoved: live.on((m) => live.publish(events.memberRemoved, state.removeMember(m))),
        // hold time is averaged when a member answers, completed counts when the call ends
        AgentConnect: (m) => service.scheduleRefresh(m.fields.Queue),
        AgentComplete: (m) => service.scheduleRefresh(m.fields.Queue),
        // queues.conf reloaded: queues may have come or gone, with their static members
        Reload: live.onReload('app_queue', () => service.resyncSoon()),
      },
    };
  },
});
