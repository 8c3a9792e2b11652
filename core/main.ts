// Entry point: `npm start -- --config FILE` (default ./gateway.yaml). A bad config stops start-up with one line.
import { loadConfigFile, ConfigFileError } from './config.ts';
import { TlsConfigError } from './http/serve.ts';
import { Gateway } from './gateway.ts';
import { createLogger, levelFromEnv } from './log.ts';
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
    const text = `${JSON.stringify((await generateDocuments())[key], null, 2)}\n`;
    // exit once written: to a pipe stdout is asynchronous, and exiting at once cut the document at 64 KiB
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
    process.exit(0);
  }
}

const file = argValue('--config') ?? 'gateway.yaml';

let gateway: Gateway;
let log = createLogger();
try {
  const config = loadConfigFile(
    file,
    BUILTIN_PLUGINS.map((p) => p.name),
  );
  log = createLogger('gateway', levelFromEnv(config.log.level));
  gateway = await Gateway.create(config, log);
  await gateway.start();
} catch (e) {
  if (e instanceof ConfigFileError || e instanceof TlsConfigError) {
    console.error(`asterisk-gateway: ${e.message}`);
    process.exit(2);
  }
  console.error(`asterisk-gateway: start-up failed: ${(e as Error).message}`);
  process.exit(1);
}

// SIGTERM/SIGINT: a graceful stop (Gateway.stop), exit 0; a hard deadline a little past http.shutdown_timeout_s.
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping`);
    setTimeout(
      () => {
        log.error('stopping took too long: exiting');
        process.exit(1);
      },
      (gateway.config.http.shutdown_timeout_s + 5) * 1000,
    ).unref();
    try {
      await gateway.stop();
      log.info('stopped');
      process.exit(0);
    } catch (e) {
      log.error('stopping failed:', e);
      process.exit(1);
    }
  });
}

// SIGHUP: read the TLS certificate and key again (new connections use them; open ones keep theirs).
process.on('SIGHUP', async () => {
  if (!gateway.config.http.tls) {
    log.info('SIGHUP: no http.tls configured: nothing to reload');
    return;
  }
  try {
    await gateway.reloadTls();
    log.info('SIGHUP: TLS certificate reloaded');
  } catch (e) {
    log.error(`SIGHUP: TLS certificate not reloaded, the previous one stays in use: ${(e as Error).message}`);
  }
});
