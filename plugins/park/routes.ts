// HTTP routes of the park plugin, at the spec's paths. Lots and parked calls come from live state; a lot's PUT and
// DELETE edit its section of res_parking.conf and reload res_parking; DELETE of a parked call hangs it up.
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { param, pathName, readJson } from '../../core/http/body.ts';
import { badRequest } from '../../core/http/errors.ts';
import type { ParkService } from './service.ts';
import { renderParkedCall, type ParkState } from './state.ts';

const live = { live: true };
const READ_ONLY = new Set(['name', 'start_space', 'stop_spcae', 'stop_space', 'timeout', 'tm_update']);

export function registerRoutes(ctx: PluginContext, state: ParkState, service: ParkService): void {
  const r = ctx.router;

  // ---- parking lots ----
  r.get('/admin/park/parkinglots', () => okBytes(state.lots.listBytes()), live);
  r.get('/admin/park/parkinglots/:name', (c) => ok(service.lotOr404(pathName(param(c, 'name'), 'parking lot name'))), live);
  r.put('/admin/park/parkinglots/:name', async (c) => {
    const name = service.lotName(pathName(param(c, 'name'), 'parking lot name'));
    const body = await readJson(c);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: must be a JSON object of lot options');
    // What GET shows (name, spaces, timeout) is Asterisk's reading of the options, not an option: ignored.
    const options = Object.fromEntries(Object.entries(body).filter(([k]) => !READ_ONLY.has(k)));
    const settings = service.lotSettings(options);
    const out = await service.putLot(name, settings, ifMatch(c.req.header('if-match')));
    ctx.bus.publish('park.parkinglot.updated', { name, ...out });
    return ok(out);
  });
  r.delete('/admin/park/parkinglots/:name', async (c) => {
    const name = service.lotName(pathName(param(c, 'name'), 'parking lot name'));
    const out = await service.deleteLot(name, ifMatch(c.req.header('if-match')));
    ctx.bus.publish('park.parkinglot.deleted', { name, ...out });
    return ok(out);
  });

  // ---- parked calls ----
  r.get('/admin/park/parkedcalls', () => {
    const nowMs = Date.now();
    return okBytes(state.calls.listBytes((p) => renderParkedCall(p, nowMs), Math.floor(nowMs / 1000)));
  }, live);
  r.get('/admin/park/parkedcalls/:id', (c) => ok(renderParkedCall(service.callOr404(pathName(param(c, 'id'), 'parkee unique id')))), live);
  r.delete('/admin/park/parkedcalls/:id', async (c) => {
    await service.hangup(service.callOr404(pathName(param(c, 'id'), 'parkee unique id')));
    return ok();
  }, live);
}

function ifMatch(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (/[\r\n]/.test(v)) throw badRequest('If-Match: must be one line');
  return v.trim();
}
