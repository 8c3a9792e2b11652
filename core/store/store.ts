// The gateway's own data (users, permissions, contacts, ...) in one lowdb JSON file under data_dir.
// lowdb writes a temp file and renames it, so a kill -9 leaves either the old or the new JSON, never half of one.
// One process writes it; concurrent writes inside this process are merged by lowdb.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

export interface StoredRecord {
  uuid: string;
  tm_create: string;
  tm_update: string;
}

type Data = Record<string, StoredRecord[]>;

export class Collection<T extends StoredRecord> {
  constructor(
    private readonly store: Store,
    public readonly name: string,
  ) {}

  private get rows(): T[] {
    return this.store.rows(this.name) as T[];
  }
  all(): readonly T[] {
    return this.rows;
  }
  get(uuid: string): T | undefined {
    return this.rows.find((r) => r.uuid === uuid);
  }
  find(pred: (r: T) => boolean): T | undefined {
    return this.rows.find(pred);
  }
  filter(pred: (r: T) => boolean): T[] {
    return this.rows.filter(pred);
  }
  async insert(fields: Omit<T, keyof StoredRecord>): Promise<T> {
    const now = new Date().toISOString();
    const rec = { ...fields, uuid: randomUUID(), tm_create: now, tm_update: now } as T;
    this.rows.push(rec);
    await this.store.flush();
    return rec;
  }
  async update(uuid: string, patch: Partial<Omit<T, keyof StoredRecord>>): Promise<T | undefined> {
    const rec = this.get(uuid);
    if (!rec) return undefined;
    Object.assign(rec, patch, { tm_update: new Date().toISOString() });
    await this.store.flush();
    return rec;
  }
  async remove(uuid: string): Promise<boolean> {
    const rows = this.rows;
    const i = rows.findIndex((r) => r.uuid === uuid);
    if (i < 0) return false;
    rows.splice(i, 1);
    await this.store.flush();
    return true;
  }
  /** Remove every record matching `pred` in one write. */
  async removeWhere(pred: (r: T) => boolean): Promise<number> {
    const rows = this.rows;
    const keep = rows.filter((r) => !pred(r));
    const n = rows.length - keep.length;
    if (n > 0) {
      rows.splice(0, rows.length, ...keep);
      await this.store.flush();
    }
    return n;
  }
}

export class Store {
  private readonly db: Low<Data>;
  /** Told of every write, its outcome and how long it took (for metrics). */
  onWrite: ((ok: boolean, seconds: number) => void) | undefined;

  private constructor(file: string) {
    // Constructed directly: JSONFilePreset silently switches to memory when NODE_ENV=test.
    this.db = new Low<Data>(new JSONFile<Data>(file), {});
  }

  static async open(dataDir: string, fileName = 'gateway.json'): Promise<Store> {
    mkdirSync(dataDir, { recursive: true });
    const s = new Store(path.join(dataDir, fileName));
    await s.db.read();
    s.db.data ??= {};
    return s;
  }

  rows(name: string): StoredRecord[] {
    return (this.db.data[name] ??= []);
  }

  collection<T extends StoredRecord>(name: string): Collection<T> {
    this.rows(name);
    return new Collection<T>(this, name);
  }

  flush(): Promise<void> {
    const observe = this.onWrite;
    if (!observe) return this.db.write();
    const t0 = performance.now();
    return this.db.write().then(
      () => observe(true, (performance.now() - t0) / 1000),
      (e: unknown) => {
        observe(false, (performance.now() - t0) / 1000);
        throw e;
      },
    );
  }
}
