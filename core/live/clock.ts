// ISO-8601 "now" for tm_update fields, formatted at most once per millisecond: AMI bursts bring thousands of
// events per second, and Date#toISOString is a measurable part of applying each one.
let lastMs = 0;
let lastIso = new Date(0).toISOString();

export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
