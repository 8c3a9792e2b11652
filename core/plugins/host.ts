// Loads the enabled plugins, routes AMI events to them and runs their resync on every (re)connect and FullyBooted.
// Each plugin is "live" only between a finished resync and the next disconnect; live routes answer 503 otherwise.
import { AmiNotConnectedError } from '../ami/errors.ts';
import type { AmiMessage } from '../ami/message.ts';
import { holdClock, releaseClock } from '../live/clock.ts';
import type { Logger } from '../log.ts';
import type { AmiEventHandler, PluginContext, PluginDefinition, PluginInstance } from './contract.ts';

interface Loaded {
  def: PluginDefinition;
  inst: PluginInstance;
  synced: boolean;
  syncError: string | null;
  /**
   * While the plugin resyncs, its events wait here with their seq. Its snapshot (the list answers) already holds
   * everything up to the earliest list's completion; only events after that are applied on top, in order.
   */
  held: { seq: number; m: AmiMessage; fn: AmiEventHandler }[] | null;
  snapshotSeq: number | undefined;
}

export class PluginHost {
  private readonly loaded = new Map<string, Loaded>();
  private readonly handlers = new Map<string, { plugin: string; fn: AmiEventHandler; owner: Loaded }[]>();
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;

  constructor(
    private readonly log: Logger,
    private readonly amiConnected: () => boolean,
  ) {}

  async load(defs: PluginDefinition[], ctxFor: (name: string) => PluginContext): Promise<void> {
    for (const def of defs) {
      const inst = await def.setup(ctxFor(def.name));
      const owner: Loaded = { def, inst, synced: false, syncError: null, held: null, snapshotSeq: undefined };
      this.loaded.set(def.name, owner);
      for (const [event, fn] of Object.entries(inst.events ?? {})) {
        const list = this.handlers.get(event) ?? [];
        list.push({ plugin: def.name, fn, owner });
        this.handlers.set(event, list);
      }
    }
  }

  /** Every plugin's snapshot readers, keyed by event-type prefix (`core.channel`), with the plugin's name. */
  snapshotReaders(): { key: string; plugin: string; read: () => readonly unknown[] }[] {
    return [...this.loaded.values()].flatMap((p) =>
      Object.entries(p.inst.snapshots ?? {}).map(([key, read]) => ({ key, plugin: p.def.name, read })),
    );
  }

  /** Every AMI event name some loaded plugin handles. */
  handledEvents(): Set<string> {
    return new Set([...this.handlers.keys(), 'FullyBooted']);
  }

  names(): string[] {
    return [...this.loaded.keys()];
  }

  /** Called for every unsolicited AMI event, in wire order; `seq` is the client's event counter for it. */
  dispatch(m: AmiMessage, seq: number): void {
    const name = m.fields.Event ?? '';
    if (name === 'FullyBooted') void this.resyncAll('FullyBooted');
    const hs = this.handlers.get(name);
    if (!hs) return;
    // one clock reading for every handler of this event (see core/live/clock.ts)
    holdClock();
    try {
      for (const h of hs) {
        const p = h.owner;
        if (p.held) p.held.push({ seq, m, fn: h.fn });
        else this.apply(h.plugin, h.fn, m);
      }
    } finally {
      releaseClock();
    }
  }

  private apply(plugin: string, fn: AmiEventHandler, m: AmiMessage): void {
    try {
      fn(m);
    } catch (e) {
      this.log.error(`plugin ${plugin}: handler for ${m.fields.Event} failed:`, e);
    }
  }

  /** The plugin's list answers report their seq here while it resyncs. */
  noteSnapshot(plugin: string, seq: number): void {
    const p = this.loaded.get(plugin);
    if (p?.held) p.snapshotSeq = p.snapshotSeq === undefined ? seq : Math.min(p.snapshotSeq, seq);
  }

  /** null when the plugin's live state may be served, else the reason for a 503 (and whether AMI is up). */
  liveness(name: string): { reason: string; connected: boolean } | null {
    if (!this.amiConnected()) {
      return { reason: 'Asterisk is not connected (AMI down); live state is unavailable until it reconnects', connected: false };
    }
    const p = this.loaded.get(name);
    if (!p) return { reason: `plugin ${name} is not loaded`, connected: true };
    if (p.syncError) return { reason: `plugin ${name} could not read its state from Asterisk: ${p.syncError}`, connected: true };
    if (!p.synced) return { reason: `plugin ${name} is still reading its state from Asterisk; try again shortly`, connected: true };
    return null;
  }

  status(): { name: string; description: string; live: boolean; error: string | null }[] {
    return [...this.loaded.values()].map((p) => ({
      name: p.def.name,
      description: p.def.description,
      live: p.synced && this.amiConnected(),
      error: p.syncError,
    }));
  }

  disconnected(): void {
    for (const p of this.loaded.values()) {
      p.synced = false;
      try {
        p.inst.reset?.();
      } catch (e) {
        this.log.error(`plugin ${p.def.name}: reset failed:`, e);
      }
    }
  }

  /** Resync every plugin; calls that arrive while one runs coalesce into one more pass afterwards. */
  resyncAll(why: string): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        this.log.debug(`resync (${why})`);
        await Promise.all([...this.loaded.values()].map((p) => this.resyncOne(p)));
      } while (this.resyncAgain && this.amiConnected());
    })().finally(() => {
      this.resyncing = null;
    });
    return this.resyncing;
  }

  private async resyncOne(p: Loaded): Promise<void> {
    if (!p.inst.resync) {
      p.synced = true;
      return;
    }
    p.held = [];
    p.snapshotSeq = undefined;
    try {
      await p.inst.resync();
      p.synced = this.amiConnected();
      p.syncError = null;
    } catch (e) {
      const msg = (e as Error).message;
      if (!(e instanceof AmiNotConnectedError)) {
        p.syncError = msg;
        this.log.warn(`plugin ${p.def.name}: resync failed: ${msg}`);
      } // else: the reconnect will resync again
    } finally {
      const held = p.held;
      const after = p.snapshotSeq ?? -1;
      p.held = null;
      for (const h of held) if (h.seq > after) this.apply(p.def.name, h.fn, h.m);
    }
  }

  async close(): Promise<void> {
    for (const p of this.loaded.values()) await p.inst.close?.();
  }
}
