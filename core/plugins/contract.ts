// The plugin contract. A plugin is one definition object; everything it needs arrives through the PluginContext,
// and it imports no framework globals, so built-in plugins bundle into the single `bun build --compile` binary.
import type { AmiMessage } from '../ami/message.ts';
import type { AmiPort } from '../ami/port.ts';
import type { Accounts } from '../auth/accounts.ts';
import type { EventBus } from '../bus/bus.ts';
import type { GatewayConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { ConfigOptionCatalog } from '../config-routes/options.ts';
import type { ConfigFiles } from '../config-files.ts';
import type { EventSpec } from '../contract/events.ts';
import type { BrokerDoc } from '../contract/asyncapi.ts';
import type { Identity, Router } from '../http/app.ts';
import type { Profile } from './profile.ts';

export type { Identity, Router };

export interface PluginContext {
  readonly name: string;
  readonly router: Router;
  readonly ami: AmiPort;
  readonly store: Store;
  readonly accounts: Accounts;
  /** Ends a user's login sessions (after a password change or deletion). */
  readonly sessions: { revokeUser(userUuid: string): void };
  readonly bus: EventBus;
  readonly log: Logger;
  readonly config: Readonly<GatewayConfig>;
  /** Asterisk's own config files (extensions.conf, pjsip.conf, ...) with backups and module reloads. */
  readonly configFiles: ConfigFiles;
  /** Asterisk's option lists, for checking config section writes (core/config-routes/options.ts). */
  readonly configOptions?: ConfigOptionCatalog;
  /** Fields this plugin adds to the caller's GET /me/info (e.g. chat's "chats"), without the users plugin importing it. */
  readonly profile: Profile;
  /**
   * Answers a Request exactly as the gateway's HTTP API would (the same routes, authentication, role rules,
   * validation and envelopes), in process: for plugins that carry API queries over another transport (nats).
   * With `as`, the request is answered for that identity (a credential only the transport knows, e.g. the fleet key)
   * instead of its bearer token: the role rules are still the route's.
   */
  readonly request: (req: Request, as?: Identity) => Promise<Response>;
  /** Whether a bearer token or API key is valid now (for transports that must refuse even public routes without one). */
  readonly authenticates: (token: string) => boolean;
  /** A plugin that links the gateway to a message broker reports its counters here (/v1/status `nats`, /metrics). */
  readonly brokerLink: { report(read: () => BrokerLinkStats): void };
  /** Such a plugin declares the broker's side (server, subjects, request/reply) for the AsyncAPI document here. */
  readonly asyncApi: { broker(doc: BrokerDoc): void };
}

export interface BrokerLinkStats {
  connected: boolean;
  /** events held while the broker is unreachable or has not yet acknowledged them */
  buffered: number;
  /** events that did not fit in the buffer, since start */
  dropped: number;
  /** events the broker acknowledged, since start */
  published: number;
}

export type AmiEventHandler = (m: AmiMessage) => void;

export interface PluginInstance {
  /** AMI event name -> handler. Only called while the plugin is enabled. */
  events?: Record<string, AmiEventHandler>;
  /** Rebuild live state from Asterisk; run on every AMI (re)connect and on FullyBooted. */
  resync?(): Promise<void>;
  /** AMI went away: forget live state (it would be stale). */
  reset?(): void;
  /**
   * The current state of each kind of object the plugin publishes events about, keyed by the event type's prefix
   * (`core.channel` for `core.channel.*`): what a WebSocket client gets as its snapshot before the events after it.
   * Read synchronously, so no event can fall between a snapshot and the events that follow it.
   */
  snapshots?: Record<string, () => readonly unknown[]>;
  /** Gateway shutdown. */
  close?(): void | Promise<void>;
}

export interface PluginDefinition {
  name: string;
  /** One line for /v1/status and the README table. */
  description: string;
  /** Plugins this one uses (through the context); the host refuses a gateway.yaml that enables it without them. */
  requires?: string[];
  /** Every event type the plugin publishes on the bus, with its payload schema (for the bus and AsyncAPI). */
  publishes?: EventSpec[];
  setup(ctx: PluginContext): PluginInstance | Promise<PluginInstance>;
}

export function definePlugin(def: PluginDefinition): PluginDefinition {
  return def;
}
