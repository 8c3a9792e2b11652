// Unsolicited AMI events that Asterisk sends in volume and that only matter if a plugin handles them. None of these
// names is ever used for a list action's items, so dropping one unparsed can never starve a pending list.
const IGNORABLE = [
  'TestEvent', // Debian's build emits these on every channel step
  'SoftHangupRequest',
  'HangupRequest',
  'LocalBridge',
  'LocalOptimizationBegin',
  'LocalOptimizationEnd',
  'DialBegin',
  'DialState',
  'DialEnd',
  'NewAccountCode',
  'RTCPSent',
  'RTCPReceived',
  'MusicOnHoldStart',
  'MusicOnHoldStop',
  'Cdr',
  'CEL',
];

/** The ignorable events that no enabled plugin handles. */
export function ignorableEvents(handled: ReadonlySet<string>): Set<string> {
  return new Set(IGNORABLE.filter((name) => !handled.has(name)));
}
