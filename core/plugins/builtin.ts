// Every plugin shipped with the gateway. Imported statically so `bun build --compile` bundles them all;
// gateway.yaml's `plugins:` list chooses which are loaded.
import type { PluginDefinition } from './contract.ts';
import corePlugin from '../../plugins/core/index.ts';
import usersPlugin from '../../plugins/users/index.ts';

export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [corePlugin, usersPlugin];
