// Use cases of the core plugin that talk to Asterisk: resync, hangup, module load/unload/reload, system refresh.
import { AmiError } from '../../core/ami/errors.ts';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AmiPort } from '../../core/ami/port.ts';
import { badRequest, notFound, ApiError } from '../../core/http/errors.ts';
import { parseModuleShow, type Channel, type CoreState, type SystemInfo } from './state.ts';

const MODULE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SYSTEM_MAX_AGE_MS = 2000;

export class CoreService {
  private systemReadAt = 0;

  constructor(
    private readonly ami: AmiPort,
    private readonly state: CoreState,
    private readonly modulesDir: string,
  ) {}

  async resync(): Promise<void> {
    const [channels, devices, modules] = await Promise.all([
      this.ami.list('CoreShowChannels'),
      this.ami.list('DeviceStateList'),
      this.readModules(),
    ]);
    this.state.loadChannels(channels.events.filter((m) => m.fields.Event === 'CoreShowChannel'));
    this.state.loadDevices(devices.events.filter((m) => m.fields.Event === 'DeviceStateChange'));
    this.state.loadModules(modules);
    await this.refreshSystem();
  }

  private async readModules() {
    const rows = parseModuleShow(await this.ami.command('module show'));
    // The spec's `size` is the module file's size; the gateway runs beside Asterisk, so read it from disk.
    return Promise.all(
      rows.map(async (r) => ({
        ...r,
        size: await stat(path.join(this.modulesDir, `${r.name}.so`)).then(
          (s) => s.size,
          () => null,
        ),
      })),
    );
  }

  async refreshSystem(): Promise<void> {
    const [settings, status] = await Promise.all([this.ami.action('CoreSettings'), this.ami.action('CoreStatus')]);
    this.state.setSystem(settings, status);
    this.systemReadAt = Date.now();
  }

  /** Counters such as current_calls change without an event; re-read them when the copy is older than 2 s. */
  async freshSystem(): Promise<SystemInfo | null> {
    if (Date.now() - this.systemReadAt > SYSTEM_MAX_AGE_MS) await this.refreshSystem();
    return this.state.system;
  }

  async hangup(ch: Channel): Promise<void> {
    try {
      await this.ami.action('Hangup', { Channel: ch.channel });
    } catch (e) {
      if (e instanceof AmiError && /No such channel/i.test(e.message)) {
        throw notFound(`channel ${ch.channel} is already gone`);
      }
      throw e;
    }
  }

  /** A module name from the URL: letters, digits, _ and -, with or without .so; never a path. */
  moduleName(raw: string): string {
    const name = raw.replace(/\.so$/, '');
    if (!MODULE_NAME.test(name))
      throw badRequest(`module name "${raw.replace(/[\r\n]/g, '?')}" is invalid: use letters, digits, "_" and "-" only`);
    return name;
  }

  async loadModule(name: string, type: 'load' | 'unload' | 'reload'): Promise<void> {
    if (type !== 'load' && !this.state.modules.has(name)) throw notFound(`module ${name} is not loaded`);
    if (type === 'load') {
      const exists = await stat(path.join(this.modulesDir, `${name}.so`)).then(
        () => true,
        () => false,
      );
      if (!exists) throw notFound(`module ${name} does not exist in ${this.modulesDir}`);
      const mod = this.state.modules.get(name);
      if (mod?.load === 'Running') throw new ApiError(409, `module ${name} is already loaded`);
    }
    try {
      // Since 22.1 Asterisk checks the module path under its modules dir, so it wants the file name with .so.
      await this.ami.action('ModuleLoad', { Module: `${name}.so`, LoadType: type });
    } catch (e) {
      if (e instanceof AmiError) throw new ApiError(409, `Asterisk could not ${type} ${name}: ${e.message}`);
      throw e;
    }
    if (type === 'load') await this.refreshModules();
  }

  /** After a load, re-read the module list so the new module shows its description and size. */
  private async refreshModules(): Promise<void> {
    this.state.loadModules(await this.readModules());
  }
}
