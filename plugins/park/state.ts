// Live state of the park plugin: parking lots (Parkinglots) and parked calls (ParkedCalls), kept current from
// ParkedCall, UnParkedCall, ParkedCallTimeOut, ParkedCallGiveUp and ParkedCallSwap.
//
// A parked call keeps the ParkingTimeout / ParkingDuration Asterisk last reported and when that was (tm_update);
// the API counts both on from there at render time, so they tick without events.
import { type AmiMessage, own } from '../../core/ami/message.ts';
import { num } from '../../core/ami/channel-block.ts';
import { LiveTable } from '../../core/live/table.ts';
import { clockMs, isoNow } from '../../core/live/clock.ts';
import type { ParkedCall as ParkedCallView, ParkingLot } from './schemas.ts';

/** A parked call as kept: timeout and duration as Asterisk last reported them, and when (`at`); the answer counts on. */
export type ParkedCall = Omit<ParkedCallView, 'parking_duration' | 'parking_timeout'> & {
  /** seconds left / seconds parked as of `at` */
  timeout: number;
  duration: number;
  /** ms since epoch of the report (tm_update) */
  at: number;
};

const now = isoNow;

export function renderParkedCall(p: ParkedCall, nowMs = clockMs()): ParkedCallView {
  const elapsed = Math.max(0, Math.floor((nowMs - p.at) / 1000));
  return {
    parkee_unique_id: p.parkee_unique_id,
    parkee_linked_id: p.parkee_linked_id,
    parkee_channel: p.parkee_channel,
    parkee_channel_state: p.parkee_channel_state,
    parkee_channel_state_desc: p.parkee_channel_state_desc,
    parkee_caller_id_name: p.parkee_caller_id_name,
    parkee_caller_id_num: p.parkee_caller_id_num,
    parkee_connected_line_name: p.parkee_connected_line_name,
    parkee_connected_line_num: p.parkee_connected_line_num,
    parkee_account_code: p.parkee_account_code,
    parkee_context: p.parkee_context,
    parkee_exten: p.parkee_exten,
    parkee_priority: p.parkee_priority,
    parker_dial_string: p.parker_dial_string,
    parking_duration: p.duration + elapsed,
    parking_lot: p.parking_lot,
    parking_space: p.parking_space,
    // A lot with parkingtime 0 never times out: Asterisk reports 0 left then, and so do we.
    parking_timeout: Math.max(0, p.timeout - elapsed),
    tm_update: p.tm_update,
  };
}

export function lotFrom(m: AmiMessage, t = now()): ParkingLot {
  const f = m.fields;
  return {
    name: f.Name ?? '',
    start_space: f.StartSpace ?? '',
    stop_spcae: f.StopSpace ?? '',
    stop_space: f.StopSpace ?? '',
    timeout: num(f.Timeout),
    tm_update: t,
  };
}

export function parkedCallFrom(m: AmiMessage, nowMs = clockMs(), t = now()): ParkedCall {
  const f = m.fields;
  // own() copies: a parked call is kept (and published into the bus's resume ring), and a bare event value would pin
  // the whole piece of text its event was decoded from (see own())
  // (the keys as literals: a key built at run time, `Parkee${k}`, costs a concatenation and a lookup by name each)
  return {
    parkee_unique_id: own(f.ParkeeUniqueid ?? ''),
    parkee_linked_id: own(f.ParkeeLinkedid ?? ''),
    parkee_channel: own(f.ParkeeChannel ?? ''),
    parkee_channel_state: own(f.ParkeeChannelState ?? ''),
    parkee_channel_state_desc: own(f.ParkeeChannelStateDesc ?? ''),
    parkee_caller_id_name: own(f.ParkeeCallerIDName ?? ''),
    parkee_caller_id_num: own(f.ParkeeCallerIDNum ?? ''),
    parkee_connected_line_name: own(f.ParkeeConnectedLineName ?? ''),
    parkee_connected_line_num: own(f.ParkeeConnectedLineNum ?? ''),
    parkee_account_code: own(f.ParkeeAccountCode ?? ''),
    parkee_context: own(f.ParkeeContext ?? ''),
    parkee_exten: own(f.ParkeeExten ?? ''),
    parkee_priority: own(f.ParkeePriority ?? ''),
    parker_dial_string: own(f.ParkerDialString ?? ''),
    parking_lot: own(f.Parkinglot ?? ''),
    parking_space: own(f.ParkingSpace ?? ''),
    timeout: num(f.ParkingTimeout),
    duration: num(f.ParkingDuration),
    at: nowMs,
    tm_update: t,
  };
}

export class ParkState {
  readonly lots = new LiveTable<ParkingLot>();
  readonly calls = new LiveTable<ParkedCall>();

  reset(): void {
    this.lots.clear();
    this.calls.clear();
  }

  loadLots(events: AmiMessage[]): void {
    const t = now();
    this.lots.replaceAll(
      events.filter((m) => m.fields.Event === 'Parkinglot' && m.fields.Name).map((m) => [m.fields.Name!, lotFrom(m, t)]),
    );
  }

  loadCalls(events: AmiMessage[]): void {
    const nowMs = Date.now();
    this.calls.replaceAll(
      events
        .filter((m) => m.fields.Event === 'ParkedCall' && m.fields.ParkeeUniqueid)
        .map((m) => [m.fields.ParkeeUniqueid!, parkedCallFrom(m, nowMs)]),
    );
  }

  /** ParkedCall: a call was parked (or re-parked). Returns whether its lot is known. */
  parked(m: AmiMessage): { call: ParkedCall | undefined; lotKnown: boolean } {
    const uid = m.fields.ParkeeUniqueid;
    if (!uid) return { call: undefined, lotKnown: true };
    const call = parkedCallFrom(m);
    this.vacate(call.parking_lot, call.parking_space, uid);
    this.calls.set(uid, call);
    return { call, lotKnown: !call.parking_lot || this.lots.has(call.parking_lot) };
  }

  /** UnParkedCall, ParkedCallTimeOut, ParkedCallGiveUp: the call left its space. */
  left(m: AmiMessage): ParkedCall | undefined {
    const uid = m.fields.ParkeeUniqueid ?? '';
    const call = this.calls.get(uid);
    if (!call) return undefined;
    this.calls.delete(uid);
    return call;
  }

  /** ParkedCallSwap: another channel took the place of the parked one (same lot and space, new parkee). */
  swapped(m: AmiMessage): ParkedCall | undefined {
    return this.parked(m).call;
  }

  /** Nobody else can hold a space the event gives to `uid`: drop whoever we still had there. */
  private vacate(lot: string, space: string, uid: string): void {
    if (!lot || !space) return;
    for (const c of this.calls.values()) {
      if (c.parking_lot === lot && c.parking_space === space && c.parkee_unique_id !== uid) {
        this.calls.delete(c.parkee_unique_id);
        return;
      }
    }
  }
}
