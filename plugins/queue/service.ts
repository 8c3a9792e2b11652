// Use cases of the queue plugin that talk to Asterisk: the QueueStatus resync, the debounced per-queue refresh of
// counters that change without an event of their own, and member add / pause / penalty / remove.
import { AmiError } from '../../core/ami/errors.ts';
import type { AmiMessage } from '../../core/ami/message.ts';
import type { AmiPort } from '../../core/ami/port.ts';
import { badRequest, conflict, notFound } from '../../core/http/errors.ts';
import type { KeyedSoon, LiveKit } from '../../core/live/kit.ts';
import type { Debounced } from '../../core/live/reads.ts';
import type { MemberAdd, MemberChange as MemberChangeBody, StoredMember } from './schemas.ts';
import { memberFrom, memberKey, type QueueState } from './state.ts';

/** How long after a Leave/Abandon/AgentComplete the queue's counters are re-read (bursts coalesce into one read). */
export const REFRESH_DEBOUNCE_MS = 200;

/** What QueueAdd takes: the body of POST /admin/queue/members with the interface settled. */
export type MemberInput = Omit<MemberAdd, 'interface' | 'location' | 'id' | 'tm_update'> & { interface: string };

/** What QueuePause / QueuePenalty change. */
export type MemberChange = Pick<MemberChangeBody, 'paused' | 'paused_reason' | 'penalty'>;

/** Asterisk's own refusal text, or undefined for any other failure (not connected, timeout ...). */
const amiMessage = (e: unknown) => (e instanceof AmiError ? e.message : undefined);

export class QueueService {
  private readonly resyncTimer: Debounced;
  private readonly refreshTimers: KeyedSoon;
  /** Told of every full QueueStatus answer (the statistics take the waiting callers from it). */
  onLoad: ((events: AmiMessage[]) => void) | undefined;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: QueueState,
    private readonly live: LiveKit,
  ) {
    this.resyncTimer = live.soon(REFRESH_DEBOUNCE_MS, 'queue re-read after reload', () => this.resync());
    this.refreshTimers = live.soonPer(
      REFRESH_DEBOUNCE_MS,
      (q) => `refresh of queue ${q}`,
      (q) => this.refresh(q),
      'debug',
    );
  }

  /** Resyncs run one at a time (the host's and one after a queues.conf reload may meet). */
  resync(): Promise<void> {
    return this.live.serialRead(
      () => this.ami.list('QueueStatus'),
      (r) => {
        this.state.load(r.events);
        this.onLoad?.(r.events);
      },
    );
  }

  /** After a reload of app_queue: queues and static members may have changed without events. */
  resyncSoon(): void {
    this.resyncTimer.schedule();
  }

  /**
   * Asterisk changes completed / abandoned / hold and talk time without an event saying so. After an event that
   * may have moved them, re-read that queue's QueueParams once the burst is over.
   */
  scheduleRefresh(queue: string | undefined): void {
    if (!queue || this.live.replaying) return;
    this.refreshTimers.schedule(queue);
  }

  /** One queue's QueueStatus: its counters, and the call counts of the members already known. */
  refresh(queue: string): Promise<void> {
    return this.live.reads.read(
      () => this.ami.list('QueueStatus', { Queue: queue }),
      (r) => this.state.refreshQueue(r.events),
    );
  }

  // ---- members ----

  queueOr404(name: string) {
    const q = this.state.queues.get(name);
    if (!q) throw notFound(`no queue named ${name}`);
    return q;
  }

  /** The one member called `name` (its member name or its interface), in `queue` if given. */
  memberOr404(name: string, queue?: string): StoredMember {
    if (queue !== undefined) this.queueOr404(queue);
    const found = this.state.findMembers(name, queue);
    if (found.length === 0) throw notFound(queue !== undefined ? `no member ${name} in queue ${queue}` : `no queue member named ${name}`);
    if (found.length > 1) {
      throw badRequest(`member ${name} is in several queues (${found.map((m) => m.queue_name).join(', ')}); give ?queue_name=`);
    }
    return found[0]!;
  }

  /** Re-read one member from Asterisk (QueueStatus filtered by queue and interface) and store it. */
  private async reread(queue: string, iface: string): Promise<StoredMember | undefined> {
    const key = memberKey(queue, iface);
    let found = false;
    await this.live.reads.read(
      () => this.ami.list('QueueStatus', { Queue: queue, Member: iface }),
      (r) => {
        const item = r.events.find((m) => m.fields.Event === 'QueueMember' && m.fields.Location === iface && m.fields.Queue === queue);
        if (!item) return;
        found = true;
        this.state.members.set(key, memberFrom(item, this.state.members.get(key)));
      },
    );
    // a QueueMemberRemoved that overtook the answer wins
    return found ? this.state.members.get(key) : undefined;
  }

  async addMember(input: MemberInput): Promise<StoredMember> {
    this.queueOr404(input.queue_name);
    if (this.state.members.has(memberKey(input.queue_name, input.interface))) {
      throw conflict(`${input.interface} is already a member of queue ${input.queue_name}`);
    }
    try {
      await this.ami.action('QueueAdd', {
        Queue: input.queue_name,
        Interface: input.interface,
        MemberName: input.name,
        StateInterface: input.state_interface,
        Penalty: input.penalty,
        Paused: input.paused === undefined ? undefined : String(input.paused),
        Reason: input.paused_reason,
        Wrapuptime: input.wrapuptime,
      });
    } catch (e) {
      const msg = amiMessage(e);
      if (msg && /Already there/i.test(msg)) throw conflict(`${input.interface} is already a member of queue ${input.queue_name}`);
      if (msg && /No such queue/i.test(msg)) throw notFound(`no queue named ${input.queue_name}`);
      throw e;
    }
    const mem = await this.reread(input.queue_name, input.interface);
    if (!mem) throw notFound(`Asterisk accepted ${input.interface} but queue ${input.queue_name} does not list it`);
    return mem;
  }

  async changeMember(mem: StoredMember, change: MemberChange): Promise<StoredMember> {
    try {
      if (change.paused !== undefined || change.paused_reason !== undefined) {
        const paused = change.paused ?? mem.paused === 1;
        await this.ami.action('QueuePause', {
          Queue: mem.queue_name,
          Interface: mem.location,
          Paused: String(paused),
          Reason: change.paused_reason,
        });
      }
      if (change.penalty !== undefined) {
        await this.ami.action('QueuePenalty', { Queue: mem.queue_name, Interface: mem.location, Penalty: change.penalty });
      }
    } catch (e) {
      const msg = amiMessage(e);
      if (msg && /not found|No such/i.test(msg)) throw notFound(`no member ${mem.location} in queue ${mem.queue_name}: ${msg}`);
      if (msg) throw badRequest(`Asterisk refused the change of ${mem.location} in queue ${mem.queue_name}: ${msg}`);
      throw e;
    }
    return (await this.reread(mem.queue_name, mem.location)) ?? mem;
  }

  /** QueueRemove; true when this call took the member out of the state (its event may have done so already). */
  async removeMember(mem: StoredMember): Promise<boolean> {
    try {
      await this.ami.action('QueueRemove', { Queue: mem.queue_name, Interface: mem.location });
    } catch (e) {
      const msg = amiMessage(e);
      if (msg && /Not dynamic/i.test(msg)) {
        throw conflict(`${mem.location} is a static member of queue ${mem.queue_name} (from queues.conf); it cannot be removed over AMI`);
      }
      if (msg && /Not there|No such queue/i.test(msg)) throw notFound(`no member ${mem.location} in queue ${mem.queue_name}`);
      throw e;
    }
    return this.state.members.delete(memberKey(mem.queue_name, mem.location));
  }
}
