// A keyed table of live objects whose JSON list is built once per state version, not once per request:
// a dashboard polling a list of 1,000 channels then costs a string concatenation, not a JSON.stringify.
/** Size of one part of listBytes() in UTF-16 units: well under the engines' large-object and mmap thresholds. */
const PART_CHARS = 32 * 1024;

export class LiveTable<T extends object> {
  private readonly rows = new Map<string, T>();
  private version = 0;
  private cachedKey = '';
  private cachedJson = '';
  private cachedBytesKey = '';
  private cachedBytes: readonly Buffer[] | null = null;

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
      this.cachedKey = key;
    }
    return this.cachedJson;
  }

  /**
   * The same list as UTF-8 bytes, encoded once per version, in parts of about PART_CHARS: a poll then writes bytes
   * instead of encoding text, and no part is one big allocation. 10,000 channels are ~7 MB of JSON; built as one
   * string and one Buffer for every poll that sees a new version (hundreds of MB a second under churn), they went
   * to the engine's large-object space and to malloc, which keeps such freed blocks: the RSS swelled by 100s of MB.
   */
  listBytes(render: (row: T) => unknown = (r) => r, epoch = 0): readonly Buffer[] {
    const key = `${this.version}:${epoch}`;
    if (key !== this.cachedBytesKey || !this.cachedBytes) {
      const parts: Buffer[] = [];
      let text = '{"list":[';
      let first = true;
      for (const r of this.rows.values()) {
        text += first ? JSON.stringify(render(r)) : `,${JSON.stringify(render(r))}`;
        first = false;
        if (text.length >= PART_CHARS) {
          parts.push(Buffer.from(text, 'utf8'));
          text = '';
        }
      }
      parts.push(Buffer.from(`${text}]}`, 'utf8'));
      this.cachedBytes = parts;
      this.cachedBytesKey = key;
    }
    return this.cachedBytes;
  }
}
