// POST <scope>/login with HTTP Basic gives a token; DELETE <scope>/login?authtoken=... ends it.
// /admin/login issues tokens to admins only, /manager/login to managers (and admins), /me/login to any user.
import { route } from '../contract/route.ts';
import { obj, line } from '../contract/schema.ts';
import type { Router } from '../plugins/contract.ts';
import type { Accounts, Role } from './accounts.ts';
import type { TokenStore } from './tokens.ts';
import { tokenOf } from '../http/app.ts';
import { ok } from '../http/envelope.ts';
import { forbidden, tooManyRequests, unauthorized } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import { type LoginThrottle, logSafe } from './throttle.ts';

const SCOPES: { path: string; need: Role | 'any' }[] = [
  { path: '/admin/login', need: 'admin' },
  { path: '/manager/login', need: 'manager' },
  { path: '/me/login', need: 'any' },
];

const Token = obj({ authtoken: line('the token: pass it as ?authtoken= or Authorization: Bearer') });

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (!header || !/^basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^basic\s+/i, '').trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** The client's address as the socket shows it (Node and Bun both serve through @hono/node-server). */
function clientAddress(c: { env: unknown }): string {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? 'local';
}

export function registerLoginRoutes(router: Router, accounts: Accounts, tokens: TokenStore, throttle: LoginThrottle, log: Logger): void {
  for (const { path, need } of SCOPES) {
    const who = need === 'any' ? 'any user' : need === 'admin' ? 'administrators' : 'managers and administrators';
    router.add(
      route({
        method: 'POST',
        path,
        summary: `Log in (${who})`,
        description: 'Send the username and password with HTTP Basic authentication; the answer holds a token.',
        tags: ['auth'],
        public: true,
        basicAuth: true,
        responses: { 200: Token },
        errors: [401, 403, 429],
        handler: async (c) => {
          const cred = basicCredentials(c.req.header('authorization'));
          if (!cred) throw unauthorized('send the username and password with HTTP Basic authentication');
          const address = clientAddress(c);
          const wait = throttle.retryAfterS(cred.username, address);
          if (wait > 0) {
            log.warn(`login failed (locked) for user ${logSafe(cred.username)} from ${address}`);
            throw tooManyRequests(wait);
          }
          const user = await accounts.authenticate(cred.username, cred.password);
          if (!user) {
            // one line per failure, for fail2ban (deploy/fail2ban/asterisk-gateway.conf)
            log.warn(`login failed for user ${logSafe(cred.username)} from ${address}`);
            const delayMs = throttle.failed(cred.username, address);
            if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
            throw unauthorized('wrong username or password');
          }
          throttle.succeeded(cred.username, address);
          const roles = accounts.rolesOf(user.uuid);
          if (need !== 'any' && !roles.has('admin') && !roles.has(need)) {
            throw forbidden(`user ${user.username} does not have the ${need} permission`);
          }
          return ok({ authtoken: tokens.issue(user.uuid) });
        },
      }),
    );
    router.add(
      route({
        method: 'DELETE',
        path,
        summary: 'Log out: end the token',
        tags: ['auth'],
        public: true,
        responses: { 200: null },
        errors: [401],
        handler: (c) => {
          const token = tokenOf(c);
          if (!token) throw unauthorized('give the authtoken to end');
          if (!tokens.revoke(token)) throw unauthorized('authtoken is invalid or expired');
          return ok();
        },
      }),
    );
  }
}
