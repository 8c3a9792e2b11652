// Routes under test without a gateway: a bare HttpApp with what a test mounts on it, tokens it resolves, and its own
// OpenAPI document served (so the test client checks every answer against it, as on a gateway).
import type { Role } from '../../core/auth/accounts.ts';
import type { EventSpec } from '../../core/contract/events.ts';
import { registerDocsRoutes } from '../../core/docs/routes.ts';
import { HttpApp, type HttpAppOptions } from '../../core/http/app.ts';
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
