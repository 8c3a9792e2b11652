// The options app_queue reads from queues.conf, with the type its parser gives each value. app_queue is not an ACO
// module, so Asterisk 22 has no `config show help app_queue` (it answers "Module app_queue not found or has no config
// XML documentation") and its XML documentation lists no queues.conf options: this list is copied, as data, from
// Asterisk 22.9's apps/app_queue.c (queue_set_param for a queue's section, queue_set_global_params for [general],
// reload_single_queue for member). Types: 'boolean' where it calls ast_true, 'integer' where atoi or %d, an enum
// where it compares the value with fixed words. Anything else is a string Asterisk takes as it is.
import type { OptionType } from './options.ts';

const BOOL: OptionType = { kind: 'boolean' };
const INT: OptionType = { kind: 'integer' };
const STR: OptionType = { kind: 'string' };
const enumOf = (...choices: string[]): OptionType => ({ kind: 'enum', choices });
/** ast_true or one of the words (announce-holdtime once, announce-position limit|more, autopause all). */
const boolOr = (...words: string[]): OptionType => ({ kind: 'enum', choices: words, orBoolean: true });

export const QUEUE_OPTIONS: Record<string, OptionType> = {
  member: STR,
  musicclass: STR,
  music: STR,
  musiconhold: STR,
  announce: STR,
  context: STR,
  timeout: INT,
  ringinuse: BOOL,
  setinterfacevar: BOOL,
  setqueuevar: BOOL,
  setqueueentryvar: BOOL,
  'monitor-format': STR,
  membergosub: STR,
  'queue-youarenext': STR,
  'queue-thereare': STR,
  'queue-callswaiting': STR,
  'queue-quantity1': STR,
  'queue-quantity2': STR,
  'queue-holdtime': STR,
  'queue-minutes': STR,
  'queue-minute': STR,
  'queue-seconds': STR,
  'queue-thankyou': STR,
  'queue-callerannounce': STR,
  'queue-reporthold': STR,
  'announce-frequency': INT,
  'announce-to-first-user': BOOL,
  'min-announce-frequency': INT,
  'announce-round-seconds': INT,
  'announce-holdtime': boolOr('once'),
  'announce-position': boolOr('limit', 'more'),
  'announce-position-only-up': BOOL,
  'announce-position-limit': INT,
  'periodic-announce': STR,
  'periodic-announce-startdelay': INT,
  'periodic-announce-frequency': INT,
  'relative-periodic-announce': BOOL,
  'random-periodic-announce': BOOL,
  retry: INT,
  wrapuptime: INT,
  penaltymemberslimit: INT,
  autofill: BOOL,
  autopause: boolOr('all'),
  autopausedelay: INT,
  autopausebusy: BOOL,
  autopauseunavail: BOOL,
  maxlen: INT,
  servicelevel: INT,
  strategy: enumOf('ringall', 'leastrecent', 'fewestcalls', 'random', 'rrmemory', 'roundrobin', 'linear', 'wrandom', 'rrordered'),
  joinempty: STR,
  leavewhenempty: STR,
  reportholdtime: BOOL,
  memberdelay: INT,
  weight: INT,
  timeoutrestart: BOOL,
  defaultrule: STR,
  timeoutpriority: enumOf('app', 'conf'),
  'log-restricted-caller-id': BOOL,
};

/** [general] of queues.conf (queue_set_global_params). */
export const QUEUE_GENERAL_OPTIONS: Record<string, OptionType> = {
  persistentmembers: BOOL,
  autofill: BOOL,
  'monitor-type': STR,
  shared_lastcall: BOOL,
  negative_penalty_invalid: BOOL,
  log_membername_as_agent: BOOL,
  force_longest_waiting_caller: boolOr('prio'),
  log_unpause_on_reason_change: BOOL,
  'log-caller-id-name': BOOL,
};
