// What a plugin may do with AMI. The gateway hands each plugin this narrow port rather than the client itself.
import type { AmiMessage } from './message.ts';

export type AmiHeaders = Record<string, string | number | boolean | string[] | undefined>;

export interface AmiListResult {
  response: AmiMessage;
  events: AmiMessage[];
  complete: AmiMessage | undefined;
}

export interface AmiPort {
  /** Logged in to Asterisk right now. */
  readonly connected: boolean;
  action(name: string, headers?: AmiHeaders): Promise<AmiMessage>;
  list(name: string, headers?: AmiHeaders): Promise<AmiListResult>;
  command(cmd: string): Promise<string[]>;
}
