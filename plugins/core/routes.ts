// HTTP routes of the core plugin, at the spec's paths. Lists and details come from live state;
// actions (hangup, module load/unload/reload) go to Asterisk over AMI.
import { route } from '../../core/contract/route.ts';
import { listOf, obj, opt, pathName, pathText } from '../../core/contract/schema.ts';
import { ok, okBytes, okRaw, realJson } from '../../core/http/envelope.ts';
import { badRequest, notFound } from '../../core/http/errors.ts';
import type { Router } from '../../core/plugins/contract.ts';
import { ChannelSchema, DeviceStateSchema, ModuleSchema, SystemSchema } from './schemas.ts';
import type { CoreService } from './service.ts';
import { renderChannel, type CoreState } from './state.ts';

const tags = ['core'];
const uniqueId = { id: pathName('unique id of the channel') };
const moduleParam = { name: pathName('module name, with or without .so') };
const REALS = ['max_load_avg'];

export function registerRoutes(r: Router, state: CoreState, service: CoreService): void {
  // ---- channels ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/channels',
      summary: 'All channels',
      tags,
      live: true,
      responses: { 200: listOf(ChannelSchema) },
      handler: () => {
        const nowMs = Date.now();
        return okBytes(state.channels.listBytes((c) => renderChannel(c, nowMs), Math.floor(nowMs / 1000)));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/channels/:id',
      summary: 'One channel',
      tags,
      live: true,
      params: uniqueId,
      responses: { 200: ChannelSchema },
      errors: [404],
      handler: (_c, { params }) => ok(renderChannel(channelOr404(state, params.id))),
    }),
  );
  r.add(
    route({
      method: 'DELETE',
      path: '/admin/core/channels/:id',
      summary: 'Hang up a channel',
      tags,
      live: true,
      params: uniqueId,
      responses: { 200: null },
      errors: [404, 502],
      handler: async (_c, { params }) => {
        await service.hangup(channelOr404(state, params.id));
        return ok();
      },
    }),
  );

  // ---- modules ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/modules',
      summary: 'All loaded modules',
      tags,
      live: true,
      responses: { 200: listOf(ModuleSchema) },
      handler: () => okBytes(state.modules.listBytes()),
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/modules/:name',
      summary: 'One module',
      tags,
      live: true,
      params: moduleParam,
      responses: { 200: ModuleSchema },
      errors: [404],
      handler: (_c, { params }) => {
        const name = service.moduleName(params.name);
        const m = state.modules.get(name);
        if (!m) throw notFound(`module ${name} is not known to Asterisk (not loaded)`);
        return ok(m);
      },
    }),
  );
  const moduleAction = (method: 'POST' | 'PUT' | 'DELETE', type: 'load' | 'reload' | 'unload', summary: string) =>
    r.add(
      route({
        method,
        path: '/admin/core/modules/:name',
        summary,
        tags,
        live: true,
        params: moduleParam,
        responses: { 200: null },
        errors: [404, 409, 502],
        handler: async (_c, { params }) => {
          await service.loadModule(service.moduleName(params.name), type);
          return ok();
        },
      }),
    );
  moduleAction('POST', 'load', 'Load a module');
  moduleAction('PUT', 'reload', 'Reload a module');
  moduleAction('DELETE', 'unload', 'Unload a module');

  // ---- systems ----
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/systems',
      summary: 'The Asterisk system (one record)',
      tags,
      live: true,
      responses: { 200: listOf(SystemSchema) },
      handler: async () => {
        const s = await service.freshSystem();
        return okRaw(realJson({ list: s ? [s] : [] }, REALS));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/admin/core/systems/:id',
      summary: 'The Asterisk system by id',
      tags,
      live: true,
      params: { id: pathName('system id') },
      responses: { 200: SystemSchema },
      errors: [404],
      handler: async (_c, { params }) => {
        const s = await service.freshSystem();
        if (!s || params.id !== s.id) throw notFound(`no system with id ${params.id}`);
        return okRaw(realJson(s, REALS));
      },
    }),
  );

  // ---- device states ----
  r.add(
    route({
      method: 'GET',
      path: '/device_states',
      summary: 'All device states',
      tags: ['device states'],
      live: true,
      responses: { 200: listOf(DeviceStateSchema) },
      handler: () => okBytes(state.devices.listBytes()),
    }),
  );
  // The spec gives the device in a JSON body of a GET; ?device= and a path form are offered too, since many clients
  // cannot send one.
  r.add(
    route({
      method: 'GET',
      path: '/device_states/',
      summary: 'One device state (spec form: {"device"} in a GET body, or ?device=)',
      tags: ['device states'],
      live: true,
      body: obj({ device: opt(pathText('the device, e.g. PJSIP/1001')) }),
      bodyOptional: true,
      query: { device: opt(pathText('the device, when the client cannot send a GET body')) },
      responses: { 200: DeviceStateSchema },
      errors: [404],
      handler: (_c, { body, query }) => {
        const device = body.device ?? query.device;
        if (!device)
          throw badRequest('device: is required (in the JSON body, as ?device=, or use /device_states/<device>)', { field: 'device' });
        return ok(deviceOr404(state, device));
      },
    }),
  );
  r.add(
    route({
      method: 'GET',
      path: '/device_states/:device{[\\s\\S]+}',
      summary: 'One device state',
      tags: ['device states'],
      live: true,
      params: { device: pathText('the device, e.g. PJSIP/1001 (URL-encode the /)') },
      responses: { 200: DeviceStateSchema },
      errors: [404],
      handler: (_c, { params }) => ok(deviceOr404(state, params.device)),
    }),
  );
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
