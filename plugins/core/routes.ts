// HTTP routes of the core plugin, at the spec's paths. Lists and details come from live state;
// actions (hangup, module load/unload/reload) go to Asterisk over AMI.
import type { PluginContext } from '../../core/plugins/contract.ts';
import { ok, okBytes } from '../../core/http/envelope.ts';
import { notFound } from '../../core/http/errors.ts';
import { assertSingleLine, detailKey, param } from '../../core/http/body.ts';
import type { CoreService } from './service.ts';
import { renderChannel, type CoreState } from './state.ts';

const live = { live: true };

export function registerRoutes(ctx: PluginContext, state: CoreState, service: CoreService): void {
  const r = ctx.router;

  // ---- channels ----
  r.get('/admin/core/channels', () => {
    const nowMs = Date.now();
    return okBytes(state.channels.listBytes((c) => renderChannel(c, nowMs), Math.floor(nowMs / 1000)));
  }, live);
  r.get('/admin/core/channels/:id', (c) => ok(renderChannel(channelOr404(state, param(c, 'id')))), live);
  r.delete('/admin/core/channels/:id', async (c) => {
    await service.hangup(channelOr404(state, param(c, 'id')));
    return ok();
  }, live);

  // ---- modules ----
  r.get('/admin/core/modules', () => okBytes(state.modules.listBytes()), live);
  r.get('/admin/core/modules/:name', (c) => {
    const name = service.moduleName(param(c, 'name'));
    const m = state.modules.get(name);
    if (!m) throw notFound(`module ${name} is not known to Asterisk (not loaded)`);
    return ok(m);
  }, live);
  r.post('/admin/core/modules/:name', async (c) => {
    await service.loadModule(service.moduleName(param(c, 'name')), 'load');
    return ok();
  }, live);
  r.put('/admin/core/modules/:name', async (c) => {
    await service.loadModule(service.moduleName(param(c, 'name')), 'reload');
    return ok();
  }, live);
  r.delete('/admin/core/modules/:name', async (c) => {
    await service.loadModule(service.moduleName(param(c, 'name')), 'unload');
    return ok();
  }, live);

  // ---- systems ----
  r.get('/admin/core/systems', async () => {
    const s = await service.freshSystem();
    return ok({ list: s ? [s] : [] });
  }, live);
  r.get('/admin/core/systems/:id', async (c) => {
    const s = await service.freshSystem();
    if (!s || param(c, 'id') !== s.id) throw notFound(`no system with id ${param(c, 'id')}`);
    return ok(s);
  }, live);

  // ---- device states ----
  r.get('/device_states', () => okBytes(state.devices.listBytes()), live);
  // The spec gives the device in a JSON body of a GET; a path form is offered too, since many clients cannot send one.
  r.get('/device_states/', async (c) => ok(deviceOr404(state, await detailKey(c, 'device', '/device_states/<device>'))), live);
  r.get('/device_states/:device{[\\s\\S]+}', (c) => {
    const device = param(c, 'device');
    assertSingleLine(device, 'device');
    return ok(deviceOr404(state, device));
  }, live);
}

function channelOr404(state: CoreState, id: string) {
  const ch = state.channels.get(id);
  if (!ch) throw notFound(`no channel with unique_id ${id}`);
  return ch;
}

function deviceOr404(state: CoreState, device: string) {
  const d = state.devices.get(device);
  if (!d) throw notFound(`no device state for ${device}`);
  return d;
}
