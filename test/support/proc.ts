// A process's resident set size, read from /proc (Linux): what the soak test, the binary's smoke suite and the
// WebSocket fan-out benchmark report for the gateway process they run.
import { readFileSync } from 'node:fs';

/** VmRSS of process `pid`, in MiB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
