// The park plugin's objects as answered and published, and the res_parking.conf options a lot's PUT takes: the one
// declaration of each shape (types derive from it).
import type { EntryOp } from '../../config-store/index.ts';
import { isYesNo } from '../../core/ami/channel-block.ts';
import { ReloadOutcomeSchema } from '../../core/config-files.ts';
import { event } from '../../core/contract/events.ts';
import { ignored, int, line, named, nullable, obj, opt, type Out, v } from '../../core/contract/schema.ts';

const ADMINS = { like: '/admin/park/parkedcalls' };

export const ParkingLotSchema = named(
  'ParkingLot',
  obj({
    name: line('parking lot name'),
    start_space: line('first parking space'),
    stop_spcae: line("last parking space (the spec's spelling; stop_space is the same value)"),
    stop_space: line('last parking space'),
    timeout: int('seconds a call may stay parked (parkingtime; 0: no limit)'),
    tm_update: line('ISO 8601 time of the last change'),
  }),
);
export type ParkingLot = Out<typeof ParkingLotSchema>;

export const ParkedCallSchema = named(
  'ParkedCall',
  obj({
    parkee_unique_id: line(),
    parkee_linked_id: line(),
    parkee_channel: line(),
    parkee_channel_state: line('a string, as the spec writes it (e.g. "6")'),
    parkee_channel_state_desc: line(),
    parkee_caller_id_name: line(),
    parkee_caller_id_num: line(),
    parkee_connected_line_name: line(),
    parkee_connected_line_num: line(),
    parkee_account_code: line(),
    parkee_context: line(),
    parkee_exten: line(),
    parkee_priority: line(),
    parker_dial_string: line('dial string to call the parker back on timeout'),
    parking_duration: int('seconds parked so far'),
    parking_lot: line(),
    parking_space: line(),
    parking_timeout: int('seconds left before the call leaves the lot (0: no limit)'),
    tm_update: line('when Asterisk last reported the call; duration and timeout count on from it'),
  }),
);
export type ParkedCall = Out<typeof ParkedCallSchema>;

/** The answer of a lot's PUT, PATCH and DELETE: the reload of res_parking, and the lot as Asterisk then has it. */
export const ParkingLotEditSchema = named(
  'ParkingLotEdit',
  obj({
    reload: ReloadOutcomeSchema,
    parkinglot: nullable(ParkingLotSchema),
  }),
);
export type ParkingLotEdit = Out<typeof ParkingLotEditSchema>;

/** A lot's edit as published: which lot, with the edit's answer. */
export const ParkingLotChangeSchema = named('ParkingLotChange', obj({ name: line('the lot'), ...ParkingLotEditSchema.entries }));

// ---- res_parking.conf lot options (res/res_parking.c): each value checked before any file is touched ----

/** One option as written: `=>` when the value was given as "> value" (the spec's example), else the file's op. */
export interface LotValue {
  op?: EntryOp;
  value: string;
}

const WHO = /^(caller|callee|both|no)$/i;
const SECONDS = /^\d+$/;
const yesNoValue = (v: string) => (isYesNo(v) ? null : 'must be yes or no');
const seconds = (v: string) => (SECONDS.test(v) ? null : 'must be a whole number of seconds');
const notEmpty = (v: string) => (v !== '' ? null : 'must not be empty');
const who = (v: string) => (WHO.test(v) ? null : 'must be caller, callee, both or no');

/**
 * A lot option's value: a string, a number or a boolean (written yes/no), on one line. "> x" becomes `key => x`;
 * the rest is trimmed and must satisfy `problem` (null: fine, else what is wrong).
 */
function lotValue(problem: (value: string) => string | null, description: string) {
  return v.pipe(
    v.union([v.string(), v.pipe(v.number(), v.finite()), v.boolean()], 'must be a string, a number or a boolean'),
    v.description(description),
    v.transform((raw): string => (typeof raw === 'boolean' ? (raw ? 'yes' : 'no') : String(raw))),
    line(),
    v.transform((text): LotValue => {
      const arrow = /^>\s*/.exec(text);
      return arrow ? { op: '=>', value: text.slice(arrow[0].length).trim() } : { value: text.trim() };
    }),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const p = problem(dataset.value.value);
      if (p) addIssue({ message: `"${dataset.value.value}" ${p}` });
    }),
  );
}

const LOT_VALUES = {
  parkext: lotValue((x) => (/^[0-9A-Za-z*#_+.!-]+$/.test(x) ? null : 'must be an extension'), 'extension to dial to park a call'),
  parkext_exclusive: lotValue(yesNoValue, 'whether parkext parks only in this lot'),
  parkpos: lotValue((x) => {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(x);
    if (!m) return 'must be a range of spaces such as 701-720';
    return Number(m[1]) <= Number(m[2]) ? null : 'the first space must not be above the last';
  }, 'range of parking spaces, e.g. 701-720'),
  context: lotValue(notEmpty, 'dialplan context of the parking extensions'),
  parkinghints: lotValue(yesNoValue, 'whether hints are added for the spaces'),
  parkingtime: lotValue(seconds, 'seconds a call may stay parked'),
  comebacktoorigin: lotValue(yesNoValue, 'whether a timed-out call goes back to the parker'),
  comebackdialtime: lotValue(seconds, 'seconds the parker is rung on timeout'),
  comebackcontext: lotValue(notEmpty, 'context a timed-out call goes to when not back to the parker'),
  courtesytone: lotValue(() => null, 'sound played when a parked call is picked up'),
  parkedplay: lotValue(
    (x) => (/^(caller|callee|both|no)$/i.test(x) ? null : 'must be caller, callee, both or no'),
    'who hears the courtesy tone',
  ),
  parkedcalltransfers: lotValue(who, 'who may transfer the picked-up call'),
  parkedcallreparking: lotValue(who, 'who may park the picked-up call again'),
  parkedcallhangup: lotValue(who, 'who may hang up the picked-up call with the hangup feature'),
  parkedcallrecording: lotValue(who, 'who may record the picked-up call'),
  findslot: lotValue(
    (x) => (/^(first|next)$/i.test(x) ? null : 'must be first or next'),
    'first: the lowest free space; next: the one after the last used',
  ),
  parkedmusicclass: lotValue(notEmpty, 'music on hold class for parked calls'),
};

type LotValueSchema = ReturnType<typeof lotValue>;
const mapLot = <W>(f: (s: LotValueSchema) => W) =>
  Object.fromEntries(Object.entries(LOT_VALUES).map(([k, s]) => [k, f(s)])) as Record<keyof typeof LOT_VALUES, W>;

/** The lot options a PUT may send (null counts as not given). */
export const LOT_OPTIONS = mapLot((s) => opt(s));

/** What GET shows of a lot that is not an option (Asterisk's reading of them): accepted and ignored on PUT and PATCH. */
const LOT_READ_ONLY = {
  name: ignored(),
  start_space: ignored(),
  stop_spcae: ignored(),
  stop_space: ignored(),
  timeout: ignored(),
  tm_update: ignored(),
};

/**
 * PUT /admin/park/parkinglots/<name>: the lot's section becomes these options (values are strings; numbers and
 * booleans are written as text). What GET shows (name, spaces, timeout) is Asterisk's reading of the options, not an
 * option: accepted and ignored, so a client may send back what it read.
 */
export const ParkingLotOptionsSchema = obj({
  ...LOT_OPTIONS,
  ...LOT_READ_ONLY,
});
export type ParkingLotOptions = Out<typeof ParkingLotOptionsSchema>;

/**
 * PATCH /admin/park/parkinglots/<name>: only the options given change; null removes one from the lot's section.
 * The read-only fields of GET are accepted and ignored, as for PUT.
 */
export const ParkingLotPatchSchema = obj({
  ...mapLot((s) => v.optional(v.nullable(s))),
  ...LOT_READ_ONLY,
});
export type ParkingLotPatch = Out<typeof ParkingLotPatchSchema>;

export const events = {
  parked: event('park.parkedcall.parked', 'a call was parked', ParkedCallSchema, ADMINS),
  swapped: event(
    'park.parkedcall.swapped',
    'another channel took the place of a parked call (same lot and space)',
    ParkedCallSchema,
    ADMINS,
  ),
  unparked: event('park.parkedcall.unparked', 'a parked call was picked up', ParkedCallSchema, ADMINS),
  timeout: event('park.parkedcall.timeout', 'a parked call timed out and left the lot', ParkedCallSchema, ADMINS),
  giveup: event('park.parkedcall.giveup', 'a parked caller hung up', ParkedCallSchema, ADMINS),
  lotUpdated: event(
    'park.parkinglot.updated',
    "a lot's section of res_parking.conf was written (PUT or PATCH) and res_parking reloaded",
    ParkingLotChangeSchema,
    { like: '/admin/park/parkinglots' },
  ),
  lotDeleted: event(
    'park.parkinglot.deleted',
    'a lot was removed from res_parking.conf (DELETE) and res_parking reloaded',
    ParkingLotChangeSchema,
    { like: '/admin/park/parkinglots' },
  ),
};
