// queue plugin: queues, members and waiting callers (spec: /admin/queue/queues, /members, /entries), plus member
// add / pause / penalty / remove for supervisors.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { registerRoutes } from './routes.ts';
import { registerQueueConfigRoutes } from './config-routes.ts';
import { QueueService } from './service.ts';
import { QueueState, renderEntry } from './state.ts';

export default definePlugin({
  name: 'queue',
  description: 'queues, queue members and waiting callers (app_queue)',
  setup(ctx) {
    const state = new QueueState();
    const service = new QueueService(ctx.ami, state, ctx.log);
    registerRoutes(ctx, state, service);
    registerQueueConfigRoutes(ctx);
    const publish = (type: string, data: unknown) => {
      if (!service.reads.replaying && data) ctx.bus.publish(type, data);
    };
    const on = (fn: (m: AmiMessage) => void) => service.reads.live(fn);
    const member = (type: string) =>
      on((m) => {
        const { member, queueKnown } = state.upsertMember(m);
        if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
        publish(type, member);
      });
    return {
      resync: () => service.resync(),
      reset: () => service.reset(),
      close: () => service.close(),
      events: {
        QueueCallerJoin: on((m) => {
          const { entry, queueKnown } = state.join(m);
          if (!queueKnown) service.scheduleRefresh(m.fields.Queue);
          if (entry) publish('queue.entry.joined', renderEntry(entry));
        }),
        QueueCallerLeave: on((m) => {
          const { entry } = state.leave(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) publish('queue.entry.left', renderEntry(entry));
        }),
        QueueCallerAbandon: on((m) => {
          const entry = state.abandon(m);
          service.scheduleRefresh(m.fields.Queue);
          if (entry) publish('queue.entry.abandoned', renderEntry(entry));
        }),
        QueueMemberAdded: member('queue.member.added'),
        QueueMemberStatus: member('queue.member.updated'),
        QueueMemberPause: member('queue.member.updated'),
        QueueMemberPenalty: member('queue.member.updated'),
        QueueMemberRinginuse: member('queue.member.updated'),
        QueueMemberRemoved: on((m) => publish('queue.member.removed', state.removeMember(m))),
        // hold time is averaged when a member answers, completed counts when the call ends
        AgentConnect: (m) => service.scheduleRefresh(m.fields.Queue),
        AgentComplete: (m) => service.scheduleRefresh(m.fields.Queue),
        // queues.conf reloaded: queues may have come or gone, with their static members
        Reload: (m) => {
          if (/^(app_queue(\.so)?|All)$/i.test(m.fields.Module ?? '')) service.resyncSoon();
        },
      },
    };
  },
});
