// Routes under test without a gateway: a bare HttpApp with what a test mounts on it, tokens it resolves, and its own
// OpenAPI document served (so the test client checks every answer against it, as on a gateway).
import type { AmiPort } from '../../core/ami/port.ts';
import type { Role } from '../../core/auth/accounts.ts';
import { type BusMessage, EventBus } from '../../core/bus/bus.ts';
import type { GatewayConfig } from '../../core/config.ts';
import { ConfigFiles } from '../../core/config-files.ts';
import type { ConfigRoutesContext } from '../../core/config-routes/routes.ts';
import type { EventSpec } from '../../core/contract/events.ts';
import { registerDocsRoutes } from '../../core/docs/routes.ts';
import { HttpApp, type HttpAppOptions } from '../../core/http/app.ts';
import type { PluginContext, PluginDefinition, PluginInstance } from '../../core/plugins/contract.ts';
import type { Store } from '../../core/store/store.ts';
import { registerDialplanConfigRoutes } from '../../plugins/dialplan/config-routes.ts';
import { registerParkConfigRoutes } from '../../plugins/park/config-routes.ts';
import { registerPjsipConfigRoutes } from '../../plugins/pjsip/config-routes.ts';
import { registerQueueConfigRoutes } from '../../plugins/queue/config-routes.ts';
import { testLogger } from './log.ts';
import { client } from './http.ts';

export interface Who {
  userUuid: string;
  roles: Set<Role>;
  apiKey?: boolean;
}

/**
 * An HttpApp whose routes `mount(http)` adds (as `plugins`' routes), then the document routes, sealed. `tokens`: who
 * each token is (default: `tok`, an admin u1); `api` is a client holding the first of them. Unless given: a body
 * limit of 1 MiB, every plugin live, errors inside the app ignored, no events in the document.
 */
export async function routeApp(opts: {
  plugins: string[];
  mount: (http: HttpApp) => void | Promise<void>;
  tokens?: Record<string, Who>;
  events?: () => readonly EventSpec[];
  bodyLimitBytes?: number;
  liveness?: HttpAppOptions['liveness'];
  logError?: HttpAppOptions['logError'];
}): Promise<{ http: HttpApp; api: ReturnType<typeof client> }> {
  const tokens = opts.tokens ?? { tok: { userUuid: 'u1', roles: new Set(['admin']) } };
  const http = new HttpApp({
    bodyLimitBytes: opts.bodyLimitBytes ?? 1 << 20,
    auth: { resolve: (t) => (Object.hasOwn(tokens, t) ? tokens[t] : undefined) },
    liveness: opts.liveness ?? (() => null),
    logError: opts.logError ?? (() => {}),
  });
  await opts.mount(http);
  await registerDocsRoutes(http, { routes: () => http.routes, events: opts.events ?? (() => []), plugins: () => opts.plugins });
  http.seal();
  const api = client(http.fetch);
  api.setToken(Object.keys(tokens)[0]);
  return { http, api };
}

/**
 * One plugin set up on a routeApp, with a fake AMI: its context has its router, `ami`, a new bus (every message into
 * `published`, every payload that does not match its declared schema into `invalid`), a logger, `config`, Asterisk's
 * config files under it (unless `configFiles: false`) and `store` when given; the document lists its events.
 */
export async function pluginApp(
  plugin: PluginDefinition,
  opts: {
    ami: AmiPort | object;
    config: GatewayConfig;
    published: BusMessage[];
    invalid: string[];
    configFiles?: boolean;
    store?: Store;
  } & Omit<Parameters<typeof routeApp>[0], 'plugins' | 'mount' | 'events'>,
): Promise<{ http: HttpApp; api: ReturnType<typeof client>; inst: PluginInstance; bus: EventBus }> {
  const { ami, config, published, invalid, configFiles = true, store, ...app } = opts;
  const bus = new EventBus();
  bus.subscribe((m) => published.push(m));
  bus.onInvalid = (type, problem) => invalid.push(`${type}: ${problem}`);
  const log = testLogger('test');
  let inst: PluginInstance | undefined;
  const { http, api } = await routeApp({
    ...app,
    plugins: [plugin.name],
    events: () => plugin.publishes ?? [],
    mount: async (http) => {
      const ctx = {
        name: plugin.name,
        router: http.router(plugin.name),
        ami,
        bus,
        log,
        config,
        ...(configFiles ? { configFiles: new ConfigFiles(config, ami as never, log) } : {}),
        ...(store ? { store } : {}),
      };
      inst = await plugin.setup(ctx as unknown as PluginContext);
    },
  });
  return { http, api, inst: inst!, bus };
}

const CONFIG_ROUTES = {
  dialplan: registerDialplanConfigRoutes,
  pjsip: registerPjsipConfigRoutes,
  park: registerParkConfigRoutes,
  queue: registerQueueConfigRoutes,
};

/**
 * The config-file routes of `plugins` on `http`, as each plugin's index.ts wires them (without their live parts),
 * each on its plugin's router with `ctx` (configFiles, and configOptions when the test checks option names).
 */
export function mountConfigRoutes(
  http: HttpApp,
  ctx: Omit<ConfigRoutesContext, 'router'>,
  plugins: (keyof typeof CONFIG_ROUTES)[] = ['dialplan', 'pjsip', 'park', 'queue'],
): void {
  for (const name of plugins) CONFIG_ROUTES[name]({ ...ctx, router: http.router(name) });
}
