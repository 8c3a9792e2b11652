// pjsip plugin: live PJSIP endpoints, AORs, auths, contacts and outbound registrations (spec: /admin/pjsip/*), and
// pjsip.conf over REST (/admin/pjsip/configurations). Writes are validated, backed up and followed by a reload of
// res_pjsip, whose Reload event makes the live state re-read everything.
import { definePlugin } from '../../core/plugins/contract.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import { registerLiveRoutes, registerRoutes } from './routes.ts';
import { PjsipService } from './service.ts';
import { PjsipState, renderRegistration } from './state.ts';

/** res_pjsip and its modules (res_pjsip_outbound_registration, ...), or a reload of everything. */
const PJSIP_RELOAD = /^(res_pjsip\w*(\.so)?|All)$/i;

export default definePlugin({
  name: 'pjsip',
  description: 'PJSIP endpoints, aors, auths, contacts, outbound registrations; pjsip.conf with backups',
  setup(ctx) {
    const state = new PjsipState();
    const service = new PjsipService(ctx.ami, state, ctx.log);
    registerRoutes(ctx);
    registerLiveRoutes(ctx, state);
    const publish = (type: string, data: unknown) => {
      if (data && !service.reads.replaying) ctx.bus.publish(type, data);
    };
    service.onContacts = (cs) => cs.forEach((c) => publish('pjsip.contact.updated', c));
    const on = (fn: (m: AmiMessage) => void) => service.reads.live(fn);
    return {
      resync: () => service.resync(),
      reset: () => service.reset(),
      close: () => service.close(),
      events: {
        ContactStatus: on((m) => {
          const { contact, removed, unknown } = state.contactStatus(m);
          publish('pjsip.contact.updated', contact);
          publish('pjsip.contact.removed', removed);
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
          publish('pjsip.endpoint.updated', ep);
          if (!service.reads.replaying) service.refreshEndpointSoon(String(ep.object_name));
        }),
        Registry: on((m) => {
          const reg = state.registry(m);
          if (!reg) return;
          publish('pjsip.registration_outbound.updated', renderRegistration(reg));
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
