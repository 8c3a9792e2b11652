// HTTP routes of the async dialplans (spec: /admin/dialplan/adpmas, /admin/dialplan/adps, each + /<uuid>), kept in
// the gateway's store, and the calls running them now (/admin/dialplan/adp_sessions, live from AMI).
import type { Router } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import { assertSingleLine, param, readJson } from '../../core/http/body.ts';
import { viewAdp, viewAdpma, type AdpService } from './adp-service.ts';
import type { AdpRunner } from './adp-runner.ts';

export function registerAdpRoutes(r: Router, adps: AdpService, runner: AdpRunner): void {
  // ---- adpmas: named groups of adps ----
  r.get('/admin/dialplan/adpmas', () => ok({ list: adps.listAdpmas() }));
  r.post('/admin/dialplan/adpmas', async (c) => ok(viewAdpma(await adps.createAdpma(await readJson(c)))));
  r.get('/admin/dialplan/adpmas/:uuid', (c) => ok(viewAdpma(adps.adpma(param(c, 'uuid')))));
  r.put('/admin/dialplan/adpmas/:uuid', async (c) => ok(viewAdpma(await adps.updateAdpma(param(c, 'uuid'), await readJson(c)))));
  r.delete('/admin/dialplan/adpmas/:uuid', async (c) => {
    await adps.deleteAdpma(param(c, 'uuid'));
    return ok();
  });

  // ---- adps: one AGI command each; ?dpma_uuid= narrows the list to one adpma, in run order ----
  r.get('/admin/dialplan/adps', (c) => {
    const dpma = c.req.query('dpma_uuid');
    if (dpma !== undefined) {
      assertSingleLine(dpma, 'dpma_uuid');
      adps.adpma(dpma); // 404 for an unknown adpma rather than an empty list
    }
    return ok({ list: adps.listAdps(dpma) });
  });
  r.post('/admin/dialplan/adps', async (c) => ok(viewAdp(await adps.createAdp(await readJson(c)))));
  r.get('/admin/dialplan/adps/:uuid', (c) => ok(viewAdp(adps.adp(param(c, 'uuid')))));
  r.put('/admin/dialplan/adps/:uuid', async (c) => ok(viewAdp(await adps.updateAdp(param(c, 'uuid'), await readJson(c)))));
  r.delete('/admin/dialplan/adps/:uuid', async (c) => {
    await adps.deleteAdp(param(c, 'uuid'));
    return ok();
  });

  // ---- calls in AGI(agi:async) now, read-only; keyed by the channel's unique id ----
  const live = { live: true };
  r.get('/admin/dialplan/adp_sessions', () => okBytes(runner.sessions.listBytes()), live);
  r.get('/admin/dialplan/adp_sessions/:id', (c) => {
    const id = param(c, 'id');
    assertSingleLine(id, 'unique_id');
    const s = runner.sessions.get(id);
    if (!s) throw notFound(`no async dialplan session on a channel with unique_id ${id}`);
    return ok(s);
  }, live);
}
