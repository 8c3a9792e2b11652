// pjsip plugin: live PJSIP endpoints, AORs, auths, contacts and outbound registrations (spec: /admin/pjsip/*), and
// pjsip.conf over REST (/admin/pjsip/configurations). Writes are validated, backed up and followed by a reload of
// res_pjsip, whose Reload event makes the live state re-read everything.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { EventSpec } from '../../core/contract/events.ts';
import type { v } from '../../core/contract/schema.ts';
import { registerPjsipConfigRoutes } from './config-routes.ts';
import { registerLiveRoutes } from './routes.ts';
import { PjsipService } from './service.ts';
import { renderRegistration } from './rows.ts';
import { events } from './schemas.ts';
import { PjsipState } from './state.ts';

/** res_pjsip and its modules (res_pjsip_outbound_registration, ...), or a reload of everything. */
const PJSIP_RELOAD = /^(res_pjsip\w*(\.so)?|All)$/i;

export default definePlugin({
  name: 'pjsip',
  description: 'PJSIP endpoints, aors, auths, contacts, outbound registrations; pjsip.conf with backups',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new PjsipState();
    const service = new PjsipService(ctx.ami, state, ctx.log);
    registerPjsipConfigRoutes(ctx);
    registerLiveRoutes(ctx, state);
    // Events replayed after a read only bring the state up to date: what they changed was published when they came.
    const publish = <S extends v.GenericSchema>(spec: EventSpec<S>, data: v.InferOutput<S> | undefined) => {
      if (data && !service.reads.replaying) ctx.bus.publish(spec, data);
    };
    service.onContacts = (cs) => {
      for (const c of cs) publish(events.contactUpdated, c);
    };
    const on = (fn: (m: AmiMessage) => void) => service.reads.live(fn);
    return {
      resync: () => service.resync(),
      reset: () => service.reset(),
      close: () => service.close(),
      events: {
        ContactStatus: on((m) => {
          const { contact, removed, unknown } = state.contactStatus(m);
          publish(events.contactUpdated, contact);
          publish(events.contactRemoved, removed);
          // a new registration: the event lacks the contact's id and details, its endpoint's detail read has them
          if (unknown) {
            if (m.fields.EndpointName) service.refreshEndpointSoon(m.fields.EndpointName);
            else service.resyncSoon();
          }
        }),
        // an endpoint became reachable or unreachable: its contacts (and their AORs' counts) changed
        PeerStatus: (m) => {
          const peer = m.fields.Peer ?? '';
          if (m.fields.ChannelType === 'PJSIP' && peer.startsWith('PJSIP/')) service.refreshEndpointSoon(peer.slice(6));
        },
        // device_state at once; active_channels has no event of its own, so the endpoint is re-read as well
        DeviceStateChange: on((m) => {
          const ep = state.deviceState(m);
          if (!ep) return;
          publish(events.endpointUpdated, ep);
          if (!service.reads.replaying) service.refreshEndpointSoon(ep.object_name);
        }),
        Registry: on((m) => {
          const reg = state.registry(m);
          if (!reg) return;
          publish(events.registrationOutboundUpdated, renderRegistration(reg));
          if (!service.reads.replaying) service.refreshRegistrationsSoon();
        }),
        // pjsip.conf rewritten by the gateway (its reload of res_pjsip), or reloaded by anyone else
        Reload: (m) => {
          if (PJSIP_RELOAD.test(m.fields.Module ?? '')) service.resyncSoon();
        },
      },
    };
  },
});
