// A gateway in the test's own process, without Asterisk (its AMI port is one nothing listens on, or a fake's): the
// parseConfig + Gateway.create (+ start) that unit tests, the docs-page test and the integration bed all need.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type GatewayConfig, parseConfig } from '../../core/config.ts';
import { Gateway } from '../../core/gateway.ts';
import type { Logger } from '../../core/log.ts';
import { testLogger } from './log.ts';

/** gateway.yaml as text, or as an object (written as JSON, which is YAML too). */
export type GatewayYaml = string | Record<string, unknown>;

/** parseConfig of `yaml` as if read from `dir`/`file`, knowing the plugins `known`. */
export function configIn(dir: string, yaml: GatewayYaml, known: readonly string[], file = 'gateway.yaml'): GatewayConfig {
  return parseConfig(typeof yaml === 'string' ? yaml : JSON.stringify(yaml), path.join(dir, file), known);
}

/**
 * Gateway.create of configIn(...) (logger: testLogger('t') unless given): not started (answer through gw.http.fetch,
 * or call gw.start()).
 */
export async function gatewayIn(
  dir: string,
  yaml: GatewayYaml,
  known: readonly string[],
  opts: { logger?: Logger; file?: string } = {},
): Promise<Gateway> {
  return Gateway.create(configIn(dir, yaml, known, opts.file), opts.logger ?? testLogger('t'));
}

export interface TempGateway {
  gw: Gateway;
  /** The new temporary directory (its data_dir, or where the test put it). */
  dir: string;
  /** With `start`: the URL it listens on, http://127.0.0.1:<port>. */
  base: string;
  port: number;
  /** Stops the gateway and removes `dir`. */
  close(): Promise<void>;
}

/**
 * A gateway on a new temporary directory `<tmp>/<prefix>-XXXXXX`: `prepare(dir)` runs first (files the config
 * names), then `yaml(dir)` is its gateway.yaml. `start`: it listens (on the port its yaml gives, 0 for any).
 */
export async function tempGateway(opts: {
  prefix: string;
  yaml: (dir: string) => GatewayYaml;
  known: readonly string[];
  logger?: Logger;
  start?: boolean;
  prepare?: (dir: string) => void;
}): Promise<TempGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}-`));
  try {
    opts.prepare?.(dir);
    const gw = await gatewayIn(dir, opts.yaml(dir), opts.known, { logger: opts.logger });
    const port = opts.start ? (await gw.start()).port : 0;
    return {
      gw,
      dir,
      base: `http://127.0.0.1:${port}`,
      port,
      async close() {
        await gw.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
