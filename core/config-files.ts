// Asterisk's own config files as a service for plugins: the lossless config-store for reading and editing, plus
// "reload what this file feeds" after every write. A reload asked for while AMI is down is remembered and made
// after the next login.
import { AmiNotConnectedError, AmiTimeoutError } from './ami/errors.ts';
import path from 'node:path';
import type { AmiClient } from './ami/client.ts';
import type { GatewayConfig } from './config.ts';
import type { Logger } from './log.ts';
import { ConfigFileStore } from '../config-store/index.ts';
import { named, obj, oneOf, opt, text, type Out } from './contract/schema.ts';
import type { Metrics } from './metrics/metrics.ts';

/** What became of the reload after a write: answered by the config routes and the park plugin's lot edits. */
export const ReloadOutcomeSchema = named(
  'ReloadOutcome',
  obj({
    status: oneOf(
      ['done', 'failed', 'pending', 'none'],
      'done; failed (Asterisk refused); pending (AMI down: made on reconnect); none (no reload needed)',
    ),
    message: opt(text("Asterisk's answer, or why not")),
  }),
);
export type ReloadOutcome = Out<typeof ReloadOutcomeSchema>;

/** Which reload each managed file needs. */
const RELOADS: Record<string, { kind: 'command' | 'module'; what: string }> = {
  'extensions.conf': { kind: 'command', what: 'dialplan reload' },
  'pjsip.conf': { kind: 'module', what: 'res_pjsip.so' },
  'queues.conf': { kind: 'module', what: 'app_queue.so' },
  'res_parking.conf': { kind: 'module', what: 'res_parking.so' },
  'agents.conf': { kind: 'module', what: 'app_agent_pool.so' },
};

export class ConfigFiles {
  readonly store: ConfigFileStore;
  private readonly pending = new Set<string>();

  constructor(
    config: GatewayConfig,
    private readonly ami: Pick<AmiClient, 'connected' | 'action' | 'command'>,
    private readonly log: Logger,
    /** Counts every write and every reload's outcome, by file. */
    private readonly metrics?: Pick<Metrics, 'configWrite' | 'configReload'>,
  ) {
    this.store = new ConfigFileStore({
      configDir: config.asterisk.config_dir,
      backupDir: path.join(config.data_dir, 'backups'),
      retention: config.backups.retention,
      onWrite: metrics && ((file, outcome) => metrics.configWrite(file, outcome)),
    });
  }

  /**
   * Ask Asterisk to pick up `file` after it was written. A reload Asterisk never answers throws AmiTimeoutError
   * after the AMI action timeout (the request ends with 504 asterisk_timeout; the file is written, its lock free).
   */
  async reload(file: string): Promise<ReloadOutcome> {
    if (!this.metrics) return this.reloadOnce(file);
    try {
      const out = await this.reloadOnce(file);
      this.metrics.configReload(file, out.status);
      return out;
    } catch (e) {
      this.metrics.configReload(file, e instanceof AmiTimeoutError ? 'timeout' : 'failed');
      throw e;
    }
  }

  private async reloadOnce(file: string): Promise<ReloadOutcome> {
    const r = RELOADS[file];
    if (!r) return { status: 'none' };
    if (!this.ami.connected) {
      this.pending.add(file);
      return { status: 'pending', message: 'Asterisk is not connected; the reload is made when AMI reconnects' };
    }
    try {
      if (r.kind === 'command') {
        const out = await this.ami.command(r.what);
        return { status: 'done', message: out.join('\n') };
      }
      const res = await this.ami.action('ModuleLoad', { Module: r.what, LoadType: 'reload' });
      return { status: 'done', message: res.fields.Message };
    } catch (e) {
      if (e instanceof AmiNotConnectedError) {
        this.pending.add(file);
        return { status: 'pending', message: 'Asterisk is not connected; the reload is made when AMI reconnects' };
      }
      if (e instanceof AmiTimeoutError) {
        e.message = `${file} was written, but Asterisk did not answer its reload: ${e.message}`;
        throw e;
      }
      return { status: 'failed', message: (e as Error).message };
    }
  }

  async flushPendingReloads(): Promise<void> {
    for (const file of [...this.pending]) {
      this.pending.delete(file);
      const out = await this.reload(file).catch((e: Error) => ({ status: 'failed', message: e.message }));
      this.log.info(`pending reload of ${file}: ${out.status}${out.message ? ` (${out.message.split('\n')[0]})` : ''}`);
    }
  }
}
