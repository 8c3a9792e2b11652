// queues.conf over REST (spec: /admin/queue/configurations, /admin/queue/cfg_queues): the whole file with backups,
// and its sections in the array form, because `member =>` lines repeat. Wired from this plugin's index.ts:
// registerQueueConfigRoutes(ctx).
import { registerConfigFileRoutes, registerConfigSectionRoutes, type ConfigRoutesContext } from '../../core/config-routes/routes.ts';

export const QUEUE_FILE = 'queues.conf';

export function registerQueueConfigRoutes(ctx: ConfigRoutesContext): void {
  registerConfigFileRoutes(ctx, { file: QUEUE_FILE, base: '/admin/queue/configurations', tag: 'queue' });
  registerConfigSectionRoutes(ctx, { file: QUEUE_FILE, base: '/admin/queue/cfg_queues', tag: 'queue', form: 'array', noun: 'queue' });
}
