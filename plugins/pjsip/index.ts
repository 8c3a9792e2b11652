// pjsip plugin: live PJSIP endpoints, AORs, auths, contacts and outbound registrations (spec: /admin/pjsip/*), and
// pjsip.conf over REST (/admin/pjsip/configurations). Writes are validated, backed up and followed by a reload of
// res_pjsip, whose Reload event makes the live state re-read everything. The spec's /peers and /registries are views
// of the same live state (peers.ts).
import { definePlugin } from '../../core/plugins/contract.ts';
import { LiveKit } from '../../core/live/kit.ts';
import { registerPjsipConfigRoutes } from './config-routes.ts';
import { PeerView, registerPeerRoutes } from './peers.ts';
import { registerLiveRoutes } from './routes.ts';
import { PjsipService } from './service.ts';
import { renderRegistration } from './rows.ts';
import { events } from './schemas.ts';
import { PjsipState } from './state.ts';
import { registerTrunkRoutes } from './trunks.ts';

export default definePlugin({
  name: 'pjsip',
  description: 'PJSIP endpoints, aors, auths, contacts, outbound registrations; pjsip.conf with backups',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new PjsipState();
    // Events replayed after a read only bring the state up to date: live.publish skips them (published when they came).
    const live = new LiveKit(ctx);
    const service = new PjsipService(ctx.ami, state, live);
    registerPjsipConfigRoutes(ctx);
    registerLiveRoutes(ctx, state);
    registerTrunkRoutes(ctx, state);
    const peers = new PeerView(state, live);
    registerPeerRoutes(ctx, state, peers, (name) => service.refreshEndpointSoon(name));
    service.onEndpoints = (names) => peers.afterRead(names);
    // Rows are published as copies: the state goes on changing its rows in place, and the resume ring keeps payloads.
    service.onContacts = (cs) => {
      for (const c of cs) live.publish(events.contactUpdated, { ...c });
    };
    return {
      // the kit cancels its re-reads on reset and close; the service's close stops its expiry timer
      ...live.lifecycle({ resync: () => service.resync(), reset: () => service.forget(), close: () => service.close() }),
      // what a WebSocket client gets as its snapshot: each kind as its GET list shows it
      snapshots: {
        'pjsip.endpoint': () => [...state.endpoints.values()],
        'pjsip.contact': () => [...state.contacts.values()],
        'pjsip.registration_outbound': () => {
          const nowMs = Date.now();
          return [...state.registrations.values()].map((r) => renderRegistration(r, nowMs));
        },
        'pjsip.peer': () => [...state.endpoints.values()].flatMap((e) => peers.peer(e.object_name) ?? []),
        'pjsip.registry': () => [...state.registrations.values()].map((r) => peers.registry(r)),
      },
      events: {
        ContactStatus: live.on((m) => {
          const { contact, removed, unknown } = state.contactStatus(m);
          live.publish(events.contactUpdated, contact && { ...contact });
          live.publish(events.contactRemoved, removed && { ...removed });
          peers.contactChanged(contact ?? removed, m.fields.EndpointName);
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
        DeviceStateChange: live.on((m) => {
          const ep = state.deviceState(m);
          if (!ep) return;
          live.publish(events.endpointUpdated, { ...ep });
          if (!live.replaying) service.refreshEndpointSoon(ep.object_name);
        }),
        Registry: live.on((m) => {
          const reg = state.registry(m);
          if (!reg) return;
          live.publish(events.registrationOutboundUpdated, renderRegistration(reg));
          live.publish(events.registryUpdated, peers.registry(reg));
          if (!live.replaying) service.refreshRegistrationsSoon();
        }),
        // pjsip.conf rewritten by the gateway (its reload of res_pjsip), or reloaded by anyone else; res_pjsip\w*
        // covers its modules (res_pjsip_outbound_registration, ...), and Module: All a reload of everything
        Reload: live.onReload('res_pjsip\\w*', () => service.resyncSoon()),
      },
    };
  },
});
