import type { AmiMessage } from './message.ts';

/** Asterisk answered `Response: Error`. The message is Asterisk's own Message text. */
export class AmiError extends Error {
  override name = 'AmiError';
  readonly response: AmiMessage;
  constructor(message: string, response: AmiMessage) {
    super(message);
    this.response = response;
  }
}

/** No logged-in AMI session, or the session dropped while the action was pending. */
export class AmiNotConnectedError extends Error {
  override name = 'AmiNotConnectedError';
  constructor(message = 'AMI is not connected') {
    super(message);
  }
}

/** No (complete) answer within the action timeout. */
export class AmiTimeoutError extends Error {
  override name = 'AmiTimeoutError';
  readonly action: string;
  readonly actionId: string;
  constructor(action: string, actionId: string, timeoutMs: number) {
    super(`AMI action ${action} (ActionID ${actionId}) got no answer within ${timeoutMs} ms`);
    this.action = action;
    this.actionId = actionId;
  }
}

/** The caller's action could not be encoded safely; nothing was sent. `field` names the offending key. */
export class AmiInputError extends Error {
  override name = 'AmiInputError';
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`AMI header ${JSON.stringify(field)}: ${reason}`);
    this.field = field;
  }
}
