// The async dialplans' objects as answered, accepted and published: adpmas and adps (kept in the gateway's store) and
// the sessions of calls running them (live). The one declaration of each shape; types derive from it.
import { event } from '../../core/contract/events.ts';
import { ignored, int, line, list, named, nonNegInt, nullable, obj, oneOf, opt, type Out, v } from '../../core/contract/schema.ts';
import { parseCommand } from './agi.ts';

export const MAX_TEXT = 1024;
export const MAX_SEQUENCE = 2147483647;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * An adpma name is what the dialplan passes as AGI(agi:async,<name>): no comma (it would split the arguments), no
 * quote, backslash or parenthesis (the dialplan parser reads them), no leading or trailing blank.
 */
const ADPMA_NAME = /^[A-Za-z0-9._@:+#-](?:[A-Za-z0-9 ._@:+#-]{0,78}[A-Za-z0-9._@:+#-])?$/;

// ---- fields ----

/** A field that may be absent (not changed) or null (cleared); never null-as-absent like opt(). */
const clearable = <S extends v.GenericSchema>(s: S) => v.optional(nullable(s));

const adpmaName = v.pipe(
  line(),
  v.check((s) => !UUID.test(s), 'must not look like a uuid (the dialplan may name an adpma by either)'),
  v.regex(
    ADPMA_NAME,
    '1-80 letters, digits, blanks or . _ @ : + # -, not starting or ending with a blank (the dialplan passes it as AGI(agi:async,<name>))',
  ),
  v.description('what the dialplan passes as AGI(agi:async,<name>): 1-80 letters, digits, blanks or . _ @ : + # -'),
);

const shortText = (description: string) =>
  v.pipe(line(), v.maxLength(MAX_TEXT, `must be at most ${MAX_TEXT} characters`), v.description(description));

const SEQUENCE_MESSAGE = `must be an integer from 0 to ${MAX_SEQUENCE}`;
const sequence = v.pipe(
  int(),
  v.minValue(0, SEQUENCE_MESSAGE),
  v.maxValue(MAX_SEQUENCE, SEQUENCE_MESSAGE),
  v.description('run order within the adpma (ascending); each adp of an adpma has its own'),
);

/**
 * An adp's command: an AGI command of Asterisk 22 (`EXEC Playback hello-world`, `SET VARIABLE NAME value`) or a
 * dialplan application (`Playback(hello-world)`, sent as EXEC). Stored trimmed.
 */
const command = v.pipe(
  shortText('an AGI command (EXEC Playback hello-world, SET VARIABLE NAME value) or an application as Playback(hello-world)'),
  v.check(
    (s) => !('error' in parseCommand(s)),
    (issue) => {
      const p = parseCommand(String(issue.input));
      return 'error' in p ? p.error : 'is not an AGI command';
    },
  ),
  v.transform((s) => s.trim()),
);

// ---- adpmas ----

export const AdpmaSchema = named(
  'Adpma',
  obj({
    uuid: line('adpma uuid'),
    name: line('what the dialplan passes as AGI(agi:async,<name>) (or the uuid)'),
    detail: nullable(line('free text')),
    tm_create: line(),
    tm_update: line(),
  }),
);
export type Adpma = Out<typeof AdpmaSchema>;

const readOnly = { tm_create: ignored(), tm_update: ignored() };

export const AdpmaCreateSchema = obj({
  name: adpmaName,
  detail: opt(shortText('free text')),
  uuid: ignored('read-only; chosen by the gateway'),
  ...readOnly,
});
export type AdpmaCreate = Out<typeof AdpmaCreateSchema>;

export const AdpmaUpdateSchema = obj({
  name: v.optional(adpmaName),
  detail: clearable(shortText('free text; null clears it')),
  uuid: opt(line("the uuid of the URL, repeated (as the spec's example does); must match it")),
  ...readOnly,
});
export type AdpmaUpdate = Out<typeof AdpmaUpdateSchema>;

// ---- adps ----

export const AdpSchema = named(
  'Adp',
  obj({
    uuid: line('adp uuid'),
    dpma_uuid: line('the adpma it belongs to'),
    sequence: nonNegInt('run order within the adpma'),
    name: nullable(line()),
    detail: nullable(line()),
    command: nullable(line('the AGI command or application it runs; null runs nothing')),
    tm_create: line(),
    tm_update: line(),
  }),
);
export type Adp = Out<typeof AdpSchema>;

export const AdpCreateSchema = obj({
  dpma_uuid: line('the adpma it belongs to'),
  sequence: opt(sequence),
  name: opt(shortText('free text')),
  detail: opt(shortText('free text')),
  command: opt(command),
  uuid: ignored('read-only; chosen by the gateway'),
  ...readOnly,
});
export type AdpCreate = Out<typeof AdpCreateSchema>;

export const AdpUpdateSchema = obj({
  dpma_uuid: v.optional(line('move it to this adpma')),
  sequence: v.optional(sequence),
  name: clearable(shortText('free text; null clears it')),
  detail: clearable(shortText('free text; null clears it')),
  command: clearable(command),
  uuid: opt(line("the uuid of the URL, repeated (as the spec's example does); must match it")),
  ...readOnly,
});
export type AdpUpdate = Out<typeof AdpUpdateSchema>;

// ---- sessions: calls in AGI(agi:async) now ----

export const OUTCOMES = ['SUCCESS', 'FAILED', 'NOTFOUND', 'INTERRUPTED', 'HANGUP'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const AdpSessionStepSchema = named(
  'AdpSessionStep',
  obj({
    adp_uuid: line(),
    sequence: nonNegInt(),
    name: nullable(line()),
    command: line("the adp's command"),
    agi_command: line("what was sent as the AGI action's Command"),
    command_id: nullable(line('the CommandID sent with it (AsyncAGIExec echoes it)')),
    status: oneOf(['pending', 'running', 'done', 'failed', 'skipped']),
    result: nullable(line('the AGI reply line, e.g. "200 result=0"')),
    tm_exec: nullable(line('when Asterisk answered it')),
  }),
);
export type AdpSessionStep = Out<typeof AdpSessionStepSchema>;

export const AdpSessionSchema = named(
  'AdpSession',
  obj({
    unique_id: line('Uniqueid of the channel'),
    channel: line(),
    adpma: nullable(line('what the call asked for: the AGI argument, or the ADPMA channel variable')),
    adpma_uuid: nullable(line()),
    adpma_name: nullable(line()),
    status: oneOf(['running', 'ending'], 'running: adps being sent; ending: ADPSTATUS and ASYNCAGI BREAK sent'),
    outcome: nullable(oneOf(OUTCOMES, 'the ADPSTATUS the call goes on with (HANGUP: it hung up)')),
    adps: list(AdpSessionStepSchema),
    tm_create: line(),
    tm_update: line(),
  }),
);
export type AdpSession = Out<typeof AdpSessionSchema>;

const sessionAudience = { like: '/admin/dialplan/adp_sessions' };
export const events = {
  sessionStarted: event(
    'dialplan.adp_session.started',
    'a call entered AGI(agi:async): the gateway runs its adpma',
    AdpSessionSchema,
    sessionAudience,
  ),
  sessionUpdated: event('dialplan.adp_session.updated', 'an adp of a running session was answered', AdpSessionSchema, sessionAudience),
  sessionEnded: event(
    'dialplan.adp_session.ended',
    'the session ended (AGI over, hangup, or AMI lost): its last state, with the outcome',
    AdpSessionSchema,
    sessionAudience,
  ),
};
