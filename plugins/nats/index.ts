// nats plugin (off unless listed in gateway.yaml's plugins): a fleet of PBXs through NATS JetStream.
//  - every bus event is published to JetStream on asterisk.<pbx_id>.<event type> (plugins/nats/link.ts);
//  - fleet queries: a request on asterisk.<pbx_id>.api.<path with / as .> (or asterisk.*.api.<path>: every PBX
//    answers) is answered as the REST GET of /v1/<path> (plugins/nats/fleet.ts), for the fleet key
//    (nats.fleet_keys) or one of this gateway's tokens and API keys.
// The link's counters are in /v1/status (nats) and /metrics (asterisk_gateway_nats_*).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { definePlugin } from '../../core/plugins/contract.ts';
import { natsBrokerDoc } from './docs.ts';
import { answerFleetQuery, FLEET_SUBSCRIPTION, FleetKeys } from './fleet.ts';
import { JetStreamLink } from './link.ts';

/** The host name as one subject token (its first label; anything but letters, digits, _ and - becomes _). */
export function defaultPbxId(host = os.hostname()): string {
  return (host.split('.')[0] || 'pbx').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

export default definePlugin({
  name: 'nats',
  description: 'fleets: every event to NATS JetStream (asterisk.<pbx_id>.<type>) and GET queries by request/reply',
  setup(ctx) {
    const c = ctx.config.nats;
    const pbxId = c.pbx_id ?? defaultPbxId();
    const log = ctx.log;
    if (c.password) log.addSecret(c.password);
    if (c.token) log.addSecret(c.token);
    // only the keys' hashes are in gateway.yaml: the keys themselves are never in this process but in a request
    const fleetKeys = new FleetKeys(c.fleet_keys);
    ctx.asyncApi.broker(natsBrokerDoc(c.servers));
    const link = new JetStreamLink(
      {
        pbxId,
        stream: c.stream,
        maxAgeS: c.max_age_s,
        maxBytes: c.max_bytes,
        bufferMax: c.buffer_max_events,
        publishTimeoutMs: c.publish_timeout_ms,
        prefixes: [...ctx.config.plugins.filter((p) => p !== 'nats'), 'gateway'],
      },
      ctx.bus.runId,
      () => ctx.bus.seq,
      log,
    );
    ctx.brokerLink.report(() => ({ connected: link.connected, buffered: link.buffered, dropped: link.dropped, published: link.published }));
    const unsubscribe = ctx.bus.subscribe((m) => link.onBusMessage(m));

    let nc: NatsConnection | null = null;
    let closing = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const opened = (async () => {
      // the first connection is retried here (not with waitOnFirstConnect), so a gateway stopped before the broker
      // was ever reachable lets go at once; after it, the client reconnects by itself
      for (let attempt = 0; !closing; attempt++) {
        try {
          nc = await connect({
            servers: c.servers,
            name: `asterisk-gateway ${pbxId}`,
            user: c.user,
            pass: c.password,
            token: c.token,
            authenticator: c.creds_file ? credsAuthenticator(readFileSync(c.creds_file)) : undefined,
            tls: c.tls ? {} : undefined,
            reconnect: true,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 500,
          });
          break;
        } catch (e) {
          if (attempt === 0) log.error(`could not connect to NATS (${c.servers.join(', ')}), retrying: ${(e as Error).message}`);
          await new Promise<void>((r) => {
            retryTimer = setTimeout(r, 1000);
            wake = r;
          });
        }
      }
      if (!nc) return;
      if (closing) {
        await nc.close();
        return;
      }
      log.info(`connected to NATS ${nc.getServer()} as pbx_id ${pbxId}; events to stream ${c.stream}`);
      link.attach(nc);
      const conn = nc;
      // a request published to asterisk.*.api.<path> (a literal * as the pbx token) reaches only subscriptions with
      // a wildcard there: every gateway listens on asterisk.*.api.> and answers its own pbx_id and *
      conn.subscribe(FLEET_SUBSCRIPTION, {
        callback: (err, msg) => {
          if (err) return;
          void answerFleetQuery(ctx, pbxId, fleetKeys, msg).catch((e) => log.error('fleet query failed:', e));
        },
      });
      void (async () => {
        for await (const s of conn.status()) {
          if (s.type === 'disconnect') {
            link.linkDown();
            log.warn('NATS link lost; events are held until it is back');
          } else if (s.type === 'reconnect') {
            log.info(`NATS link back (${conn.getServer()}); ${link.buffered} event(s) to send`);
            link.linkUp();
          }
        }
      })();
    })();

    return {
      // on every AMI (re)connect the other plugins read Asterisk's state again: consumers should too
      resync: async () => link.resync('Asterisk (re)connected: the state was read again'),
      close: async () => {
        closing = true;
        clearTimeout(retryTimer);
        wake?.();
        unsubscribe();
        link.close();
        const conn = nc as NatsConnection | null;
        if (conn) await conn.drain().catch(() => conn.close());
        void opened;
      },
    };
  },
});
