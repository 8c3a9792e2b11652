// POST <scope>/login with HTTP Basic gives a token; DELETE <scope>/login?authtoken=... ends it.
// /admin/login issues tokens to admins only, /manager/login to managers (and admins), /me/login to any user.
import type { Router } from '../plugins/contract.ts';
import type { Accounts, Role } from './accounts.ts';
import type { TokenStore } from './tokens.ts';
import { tokenOf } from '../http/app.ts';
import { ok } from '../http/envelope.ts';
import { forbidden, unauthorized } from '../http/errors.ts';

const SCOPES: { path: string; need: Role | 'any' }[] = [
  { path: '/admin/login', need: 'admin' },
  { path: '/manager/login', need: 'manager' },
  { path: '/me/login', need: 'any' },
];

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (!header || !/^basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^basic\s+/i, '').trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export function registerLoginRoutes(router: Router, accounts: Accounts, tokens: TokenStore): void {
  for (const { path, need } of SCOPES) {
    router.post(
      path,
      async (c) => {
        const cred = basicCredentials(c.req.header('authorization'));
        if (!cred) throw unauthorized('send the username and password with HTTP Basic authentication');
        const user = await accounts.authenticate(cred.username, cred.password);
        if (!user) throw unauthorized('wrong username or password');
        const roles = accounts.rolesOf(user.uuid);
        if (need !== 'any' && !roles.has('admin') && !roles.has(need)) {
          throw forbidden(`user ${user.username} does not have the ${need} permission`);
        }
        return ok({ authtoken: tokens.issue(user.uuid) });
      },
      { public: true },
    );
    router.delete(
      path,
      (c) => {
        const token = tokenOf(c);
        if (!token) throw unauthorized('give the authtoken to end');
        if (!tokens.revoke(token)) throw unauthorized('authtoken is invalid or expired');
        return ok();
      },
      { public: true },
    );
  }
}
