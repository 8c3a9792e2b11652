// A keyed table of live objects whose JSON list is built once per state version, not once per request:
// a dashboard polling a list of 1,000 channels then costs a string concatenation, not a JSON.stringify.
export class LiveTable<T extends object> {
  private readonly rows = new Map<string, T>();
  private version = 0;
  private cachedKey = '';
  private cachedJson = '';
  private cachedBytes: Buffer | null = null;

  get size(): number {
    return this.rows.size;
  }
  get(key: string): T | undefined {
    return this.rows.get(key);
  }
  has(key: string): boolean {
    return this.rows.has(key);
  }
  values(): IterableIterator<T> {
    return this.rows.values();
  }
  set(key: string, row: T): void {
    this.rows.set(key, row);
    this.version++;
  }
  /** Mark a row changed after mutating it in place. */
  touch(): void {
    this.version++;
  }
  delete(key: string): boolean {
    const had = this.rows.delete(key);
    if (had) this.version++;
    return had;
  }
  clear(): void {
    this.rows.clear();
    this.version++;
  }
  replaceAll(entries: Iterable<[string, T]>): void {
    this.rows.clear();
    for (const [k, v] of entries) this.rows.set(k, v);
    this.version++;
  }

  /**
   * `{"list":[...]}` as JSON text, rebuilt only when the table changed. `render` maps a row to what the API shows;
   * `epoch` lets callers fold time into the cache key (e.g. a duration that ticks each second).
   */
  listJson(render: (row: T) => unknown = (r) => r, epoch = 0): string {
    const key = `${this.version}:${epoch}`;
    if (key !== this.cachedKey) {
      const parts: string[] = [];
      for (const r of this.rows.values()) parts.push(JSON.stringify(render(r)));
      this.cachedJson = `{"list":[${parts.join(',')}]}`;
      this.cachedBytes = null;
      this.cachedKey = key;
    }
    return this.cachedJson;
  }

  /** The same list as UTF-8 bytes, encoded once per version: a poll then copies bytes instead of encoding text. */
  listBytes(render: (row: T) => unknown = (r) => r, epoch = 0): Buffer {
    const json = this.listJson(render, epoch);
    return (this.cachedBytes ??= Buffer.from(json, 'utf8'));
  }
}
