// Every plugin shipped with the gateway. Imported statically so `bun build --compile` bundles them all;
// gateway.yaml's `plugins:` list chooses which are loaded.
import type { PluginDefinition } from './contract.ts';
import corePlugin from '../../plugins/core/index.ts';
import usersPlugin from '../../plugins/users/index.ts';
import queuePlugin from '../../plugins/queue/index.ts';
import parkPlugin from '../../plugins/park/index.ts';
import agentsPlugin from '../../plugins/agents/index.ts';
import dialplanPlugin from '../../plugins/dialplan/index.ts';
import pjsipPlugin from '../../plugins/pjsip/index.ts';
import chatPlugin from '../../plugins/chat/index.ts';
import natsPlugin from '../../plugins/nats/index.ts';

export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  corePlugin,
  usersPlugin,
  queuePlugin,
  parkPlugin,
  agentsPlugin,
  dialplanPlugin,
  pjsipPlugin,
  chatPlugin,
  natsPlugin,
];
