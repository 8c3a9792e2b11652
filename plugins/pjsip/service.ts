// Use cases of the pjsip plugin that talk to Asterisk: the full read (five PJSIPShow* lists plus one
// PJSIPShowEndpoint per endpoint, a few at a time), the debounced re-read of single endpoints after events that
// change what only a detail read shows, the re-read of outbound registrations, and the full re-read after a reload
// of res_pjsip (which the pjsip.conf routes make after every write).
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiListResult, AmiPort } from '../../core/ami/port.ts';
import type { LiveKit } from '../../core/live/kit.ts';
import type { Debounced } from '../../core/live/reads.ts';
import type { Contact } from './schemas.ts';
import type { PjsipState, Snapshot } from './state.ts';

/** Delay of a re-read after an event; bursts coalesce into one read. */
export const DEBOUNCE_MS = 200;
/** PJSIPShowEndpoint reads in flight at once during a full read. */
export const DETAIL_CONCURRENCY = 4;
/** How long after a registered contact's expiry its endpoint is re-read (re-registered, or gone). */
export const EXPIRY_GRACE_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * "No endpoints found" and its siblings are Response: Error meaning an empty list. "Invalid/unknown command" means
 * the module is not loaded (res_pjsip_outbound_registration is optional): nothing of that kind exists either.
 */
const EMPTY = /^(No \w+ found|Invalid\/unknown command)/i;

/** Asterisk refused the action with this message (Response: Error). */
const refused = (e: unknown, text: RegExp) => e instanceof AmiError && text.test(e.message);

/** Run `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class PjsipService {
  private readonly resyncTimer: Debounced;
  private readonly endpointsTimer: Debounced;
  private readonly registrationsTimer: Debounced;
  /** Not a debounce (it fires at the next reg_expire), so the service keeps it; close() stops it. */
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Endpoints waiting for the next endpoints re-read; that read takes them all. */
  private readonly pendingEndpoints = new Set<string>();
  /** reg_expire (s) up to which expiries were already followed by a re-read */
  private expiryCheckedTo = 0;
  /** Told of contacts a re-read found new or changed (a registration's ContactStatus cannot say them all). */
  onContacts: ((c: Contact[]) => void) | undefined;
  /** Told which endpoints a read brought up to date (null: all of them, after a full read); /peers follows them. */
  onEndpoints: ((names: string[] | null) => void) | undefined;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: PjsipState,
    private readonly live: LiveKit,
  ) {
    this.resyncTimer = live.soon(DEBOUNCE_MS, 'pjsip: re-read after a reload', () => this.resync());
    this.endpointsTimer = live.soon(DEBOUNCE_MS, 'pjsip: endpoint re-read', () => {
      const batch = [...this.pendingEndpoints];
      this.pendingEndpoints.clear();
      return this.refreshEndpoints(batch);
    });
    this.registrationsTimer = live.soon(DEBOUNCE_MS, 'pjsip: registration re-read', () =>
      live.serialRead(
        () => this.list('PJSIPShowRegistrationsOutbound'),
        (events) => this.state.loadRegistrations(events),
      ),
    );
  }

  /** The full read. Like every read here it goes through the kit: one at a time, replaying what overtook it. */
  resync(): Promise<void> {
    return this.live
      .serialRead(
        () => this.fetchAll(),
        (s) => {
          this.state.load(s);
          this.onEndpoints?.(null);
        },
      )
      .finally(() => this.armExpiry());
  }

  private async list(action: string): Promise<AmiMessage[]> {
    try {
      return (await this.ami.list(action)).events;
    } catch (e) {
      if (refused(e, EMPTY)) return [];
      throw e;
    }
  }

  /** PJSIPShowEndpoint: its events, or null when Asterisk does not know the endpoint (any more). */
  private async endpointDetail(name: string): Promise<AmiMessage[] | null> {
    let r: AmiListResult;
    try {
      r = await this.ami.list('PJSIPShowEndpoint', { Endpoint: name });
    } catch (e) {
      if (refused(e, /^Unable to retrieve endpoint/i)) return null;
      throw e;
    }
    return r.events;
  }

  private async fetchAll(): Promise<Snapshot> {
    const [endpoints, aors, auths, contacts, registrations] = await Promise.all([
      this.list('PJSIPShowEndpoints'),
      this.list('PJSIPShowAors'),
      this.list('PJSIPShowAuths'),
      this.list('PJSIPShowContacts'),
      this.list('PJSIPShowRegistrationsOutbound'),
    ]);
    const epNames = endpoints.filter((m) => m.fields.Event === 'EndpointList').map((m) => m.fields.ObjectName ?? '');
    const answers = await mapLimit(epNames, DETAIL_CONCURRENCY, (n) => this.endpointDetail(n));
    const details = new Map<string, AmiMessage[]>();
    epNames.forEach((n, i) => {
      const a = answers[i];
      if (a) details.set(n, a);
    });
    return { endpoints, details, aors, auths, contacts, registrations };
  }

  // ---- debounced re-reads (the kit's: they run only while AMI is up, and reset and close cancel them) ----

  /** After a reload of res_pjsip: objects may have come, gone or changed without an event of their own. */
  resyncSoon(): void {
    this.resyncTimer.schedule();
  }

  /** Re-read one endpoint (with its AORs, auths and contacts) shortly; names gathered meanwhile share the read. */
  refreshEndpointSoon(name: string): void {
    if (!name) return;
    this.pendingEndpoints.add(name);
    this.endpointsTimer.schedule();
  }

  refreshEndpoints(batch: string[]): Promise<void> {
    return this.live
      .serialRead(
        () => mapLimit(batch, DETAIL_CONCURRENCY, (n) => this.endpointDetail(n)),
        (answers) => {
          const changed: Contact[] = [];
          batch.forEach((n, i) => {
            changed.push(...this.state.applyEndpoint(n, answers[i] ?? null));
          });
          if (changed.length) this.onContacts?.(changed);
          this.onEndpoints?.(batch);
        },
      )
      .finally(() => this.armExpiry());
  }

  /** After a Registry event: NextReg (and anything else) as Asterisk has it now. */
  refreshRegistrationsSoon(): void {
    this.registrationsTimer.schedule();
  }

  /**
   * Asterisk sends no event when a client re-registers (only reg_expire moves) nor when a registration simply runs
   * out. So the endpoint of each registered contact is re-read just after its reg_expire: the contact then shows
   * its new expiry, or is gone.
   */
  armExpiry(): void {
    this.stopExpiry();
    const at = this.state.nextExpiry(this.expiryCheckedTo);
    if (!at || !this.ami.connected) return;
    const t = setTimeout(
      () => {
        this.expiryTimer = undefined;
        const upTo = Math.floor((Date.now() - EXPIRY_GRACE_MS / 2) / 1000);
        this.expiryCheckedTo = Math.max(this.expiryCheckedTo, upTo);
        let any = false;
        for (const c of this.state.contacts.values()) {
          if (c.reg_expire === 0 || c.reg_expire > upTo) continue;
          any = true;
          if (c.endpoint_name) this.refreshEndpointSoon(c.endpoint_name);
          else this.resyncSoon();
        }
        if (!any) this.armExpiry();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at * 1000 - Date.now() + EXPIRY_GRACE_MS)),
    );
    t.unref?.();
    this.expiryTimer = t;
  }

  private stopExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  /**
   * What the kit does not cancel itself (its lifecycle's `close`, run on reset and close after it cancelled the
   * debounced re-reads): the expiry timer, and the endpoint names that waited for the cancelled endpoints re-read.
   */
  close(): void {
    this.stopExpiry();
    this.pendingEndpoints.clear();
  }

  /** After close(), on reset (AMI went away): forget the tables and how far expiries were followed. */
  forget(): void {
    this.expiryCheckedTo = 0;
    this.state.reset();
  }
}
