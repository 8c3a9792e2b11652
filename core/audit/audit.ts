// The audit log: one JSON line per change made through the API (config writes, users, permissions, API keys, ...):
// who, when, the route and the object, the answer's status, and for config writes the backup made and the reload's
// outcome. Written by the HTTP app for every successful non-GET route that needs a login (core/http/app.ts), so no
// plugin can forget it. Files: <data_dir>/audit/audit.jsonl, rotated to audit.jsonl.1 ... .<keep> past max_bytes.
// Request bodies are never logged (they may hold passwords); path parameters name the object.
import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Out, int, line, named, nullable, obj, oneOf, opt, dict, bool } from '../contract/schema.ts';
import { ReloadOutcomeSchema } from '../config-files.ts';

export const AuditEntrySchema = named(
  'AuditEntry',
  obj({
    time: line('ISO 8601'),
    user: line('the user uuid, or the API key id'),
    api_key: bool('the change was made with an API key'),
    method: oneOf(['POST', 'PUT', 'PATCH', 'DELETE']),
    route: line('the route as declared, e.g. /admin/queue/members/{name}'),
    path: line('the path as called'),
    object: dict(line(), 'the path parameters: which object was changed'),
    status: int('the HTTP status answered'),
    backup: opt(nullable(line('config writes: the backup made of the file'))),
    reload: opt(ReloadOutcomeSchema),
  }),
);
export type AuditEntry = Out<typeof AuditEntrySchema>;

export interface AuditQuery {
  user?: string;
  /** a prefix of the route or the path */
  path?: string;
  since?: string;
  until?: string;
  limit: number;
}

export class AuditLog {
  private readonly file: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    dir: string,
    private readonly opts: { maxBytes: number; keep: number },
    private readonly onError: (e: unknown) => void,
  ) {
    this.file = path.join(dir, 'audit.jsonl');
  }

  /** Append one entry (in order; a failure is reported, never thrown into the request). */
  record(entry: AuditEntry): Promise<void> {
    this.queue = this.queue.then(() => this.append(entry)).catch(this.onError);
    return this.queue;
  }

  private async append(entry: AuditEntry): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o750 });
    const size = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    );
    if (size > 0 && size >= this.opts.maxBytes) await this.rotate();
    await appendFile(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o640 });
  }

  private async rotate(): Promise<void> {
    await rm(`${this.file}.${this.opts.keep}`, { force: true });
    for (let i = this.opts.keep - 1; i >= 1; i--) await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => {});
    await rename(this.file, `${this.file}.1`);
  }

  /** Resolves when every entry recorded so far is written. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Entries matching the query, newest first. */
  async query(q: AuditQuery): Promise<AuditEntry[]> {
    await this.queue;
    const out: AuditEntry[] = [];
    for (let i = 0; i <= this.opts.keep && out.length < q.limit; i++) {
      const text = await readFile(i === 0 ? this.file : `${this.file}.${i}`, 'utf8').catch(() => '');
      const lines = text.split('\n').filter(Boolean).reverse();
      for (const l of lines) {
        let e: AuditEntry;
        try {
          e = JSON.parse(l) as AuditEntry;
        } catch {
          continue; // a torn last line after a crash
        }
        if (q.user && e.user !== q.user) continue;
        if (q.path && !e.route.startsWith(q.path) && !e.path.startsWith(q.path)) continue;
        if (q.since && e.time < q.since) continue;
        if (q.until && e.time > q.until) continue;
        out.push(e);
        if (out.length >= q.limit) break;
      }
    }
    return out;
  }
}
