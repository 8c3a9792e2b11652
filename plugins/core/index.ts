// core plugin: channels, modules, systems and device states (spec: /admin/core/*, /device_states).
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { definePlugin } from '../../core/plugins/contract.ts';
import { registerRoutes } from './routes.ts';
import { CoreService } from './service.ts';
import { CallService } from './calls.ts';
import { registerCallRoutes } from './call-routes.ts';
import { CoreState, renderChannel } from './state.ts';
import { events } from './schemas.ts';

/** Where Asterisk's modules live: gateway.yaml asterisk.modules_dir, else asterisk.conf's astmoddir. */
function modulesDir(configDir: string, configured?: string): string {
  if (configured) return configured;
  const conf = path.join(configDir, 'asterisk.conf');
  if (existsSync(conf)) {
    const m = /^\s*astmoddir\s*=>?\s*(\S+)/m.exec(readFileSync(conf, 'utf8'));
    if (m?.[1]) return m[1];
  }
  return '/usr/lib/asterisk/modules';
}

export default definePlugin({
  name: 'core',
  description: 'channels, modules, systems, device states',
  publishes: Object.values(events),
  setup(ctx) {
    const state = new CoreState();
    const service = new CoreService(ctx.ami, state, modulesDir(ctx.config.asterisk.config_dir, ctx.config.asterisk.modules_dir));
    registerRoutes(ctx.router, state, service);
    const calls = new CallService(ctx.ami, state, ctx.config.recordings, (o) => {
      if (ctx.bus.active) ctx.bus.publish(o.outcome === 'answered' ? events.originateAnswered : events.originateFailed, o);
    });
    registerCallRoutes(ctx.router, state, calls, ctx.bus);
    const channel = (m: Parameters<CoreState['upsertChannel']>[0]) => {
      const c = state.upsertChannel(m);
      if (c && ctx.bus.active) ctx.bus.publish(events.channelUpdated, renderChannel(c));
    };
    return {
      snapshots: {
        'core.channel': () => {
          const nowMs = Date.now();
          return [...state.channels.values()].map((c) => renderChannel(c, nowMs));
        },
        'core.device_state': () => [...state.devices.values()],
      },
      resync: () => service.resync(),
      reset: () => state.reset(),
      events: {
        Newchannel: channel,
        Newstate: channel,
        NewCallerid: channel,
        NewConnectedLine: channel,
        Newexten: channel,
        VarSet: (m) => state.setVariable(m),
        OriginateResponse: (m) => calls.onOriginateResponse(m),
        AttendedTransfer: (m) => {
          const p = calls.onAttendedTransfer(m);
          if (p && ctx.bus.active) ctx.bus.publish(events.transfer, p);
        },
        BridgeEnter: (m) => state.bridge(m, true),
        BridgeLeave: (m) => state.bridge(m, false),
        Hangup: (m) => {
          calls.forget(m.fields.Uniqueid ?? '');
          const c = state.hangup(m);
          if (c && ctx.bus.active) ctx.bus.publish(events.channelHangup, renderChannel(c));
        },
        DeviceStateChange: (m) => {
          const d = state.deviceChanged(m);
          if (d) ctx.bus.publish(events.deviceStateUpdated, d);
        },
        Load: (m) => state.moduleEvent(m, true),
        Unload: (m) => state.moduleEvent(m, false),
      },
    };
  },
});
