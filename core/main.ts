// Entry point: `npm start -- --config FILE` (default ./gateway.yaml). A bad config stops start-up with one line.
import { loadConfigFile, ConfigFileError } from './config.ts';
import { Gateway } from './gateway.ts';
import { createLogger } from './log.ts';
import { BUILTIN_PLUGINS } from './plugins/builtin.ts';

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// `--print-openapi` / `--print-asyncapi`: write the document of a gateway with every plugin to stdout and exit
// (to generate a client without a running gateway).
for (const [flag, key] of [
  ['--print-openapi', 'openapi'],
  ['--print-asyncapi', 'asyncapi'],
] as const) {
  if (process.argv.includes(flag)) {
    const { generateDocuments } = await import('./contract/documents.ts');
    process.stdout.write(`${JSON.stringify((await generateDocuments())[key], null, 2)}\n`);
    process.exit(0);
  }
}

const log = createLogger();
const file = argValue('--config') ?? 'gateway.yaml';

let gateway: Gateway;
try {
  const config = loadConfigFile(
    file,
    BUILTIN_PLUGINS.map((p) => p.name),
  );
  gateway = await Gateway.create(config, log);
  await gateway.start();
} catch (e) {
  if (e instanceof ConfigFileError) {
    console.error(`asterisk-gateway: ${e.message}`);
    process.exit(2);
  }
  console.error(`asterisk-gateway: start-up failed: ${(e as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping`);
    await gateway.stop().catch(() => {});
    process.exit(0);
  });
}
