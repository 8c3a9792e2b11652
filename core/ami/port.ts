// What a plugin may do with AMI. The gateway hands each plugin this narrow port rather than the client itself.
import type { AmiMessage } from './message.ts';

export type AmiHeaders = Record<string, string | number | boolean | string[] | undefined>;

export interface AmiListResult {
  response: AmiMessage;
  events: AmiMessage[];
  complete: AmiMessage | undefined;
  /**
   * How many unsolicited events the client had delivered when this answer was complete. Events with a higher seq
   * happened after the snapshot; the plugin host uses it to replay only those onto freshly resynced state.
   */
  seq: number;
}

export interface AmiPort {
  /** Logged in to Asterisk right now. */
  readonly connected: boolean;
  /** seq of the unsolicited event being (or last) delivered */
  readonly eventSeq?: number;
  action(name: string, headers?: AmiHeaders): Promise<AmiMessage>;
  list(name: string, headers?: AmiHeaders): Promise<AmiListResult>;
  command(cmd: string): Promise<string[]>;
}
