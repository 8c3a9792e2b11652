// The OpenAPI and AsyncAPI documents of a gateway with every built-in plugin enabled, made without Asterisk or a
// listening socket: the gateway is wired (routes declared) over throw-away directories and never started.
// Used by `asterisk-gateway --print-openapi` and by client/generate.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config.ts';
import { Gateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { BUILTIN_PLUGINS } from '../plugins/builtin.ts';

export async function generateDocuments(plugins = BUILTIN_PLUGINS.map((p) => p.name)): Promise<{ openapi: unknown; asyncapi: unknown }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-documents-'));
  try {
    const config = parseConfig(
      JSON.stringify({
        ami: { host: '127.0.0.1', port: 1, username: 'documents', secret: 'documents' },
        asterisk: { config_dir: dir, modules_dir: dir },
        data_dir: dir,
        plugins,
      }),
      path.join(dir, 'gateway.yaml'),
      BUILTIN_PLUGINS.map((p) => p.name),
    );
    const gw = await Gateway.create(config, createLogger('documents', 'silent'));
    try {
      const get = async (p: string) => (await gw.http.fetch(new Request(`http://documents${p}`))).json();
      return { openapi: await get('/v1/openapi.json'), asyncapi: await get('/v1/asyncapi.json') };
    } finally {
      await gw.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
