/**
 * A unified diff (`diff -u` form, 3 lines of context) of two texts, for dry runs: what a write would change.
 * Lines are compared with their end-of-line, so a CRLF turned LF shows; a last line without one is marked
 * `\ No newline at end of file` as diff does. Uses entry-diff's LCS (past its size cap the changed middle is
 * shown as all removed, then all added: still a correct diff, just not the smallest).
 */
import { diffSequences } from './entry-diff.ts';

interface Line {
  text: string;
  eol: string;
}

function splitLines(s: string): Line[] {
  const out: Line[] = [];
  let pos = 0;
  while (pos < s.length) {
    const nl = s.indexOf('\n', pos);
    if (nl === -1) {
      out.push({ text: s.slice(pos), eol: '' });
      break;
    }
    const cr = nl > pos && s.charCodeAt(nl - 1) === 13;
    out.push({ text: s.slice(pos, cr ? nl - 1 : nl), eol: cr ? '\r\n' : '\n' });
    pos = nl + 1;
  }
  return out;
}

/** '' when the texts are equal. `name` labels both sides (`--- a/<name>`, `+++ b/<name>`); `before` null: a new file. */
export function unifiedDiff(before: string | null, after: string, name: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after);
  const steps = diffSequences(a, b, (x, y) => x.text === y.text && x.eol === y.eol);
  // lines of each side before each step
  const aPos: number[] = [];
  const bPos: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const s of steps) {
    aPos.push(ai);
    bPos.push(bi);
    if (s.t !== 'ins') ai++;
    if (s.t !== 'del') bi++;
  }
  const out: string[] = [`--- ${before === null ? '/dev/null' : `a/${name}`}\n`, `+++ b/${name}\n`];
  const changed: number[] = [];
  steps.forEach((s, i) => {
    if (s.t !== 'keep') changed.push(i);
  });
  let k = 0;
  while (k < changed.length) {
    // one hunk: changes at most 2 * context unchanged lines apart share it
    let last = k;
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * context + 1) last++;
    const from = Math.max(0, changed[k]! - context);
    const to = Math.min(steps.length, changed[last]! + context + 1);
    const body: string[] = [];
    let aLen = 0;
    let bLen = 0;
    for (let i = from; i < to; i++) {
      const s = steps[i]!;
      const l = s.t === 'ins' ? b[s.b]! : a[s.a]!;
      if (s.t !== 'ins') aLen++;
      if (s.t !== 'del') bLen++;
      body.push(`${s.t === 'keep' ? ' ' : s.t === 'del' ? '-' : '+'}${l.text}${l.eol === '\r\n' ? '\r\n' : '\n'}`);
      if (l.eol === '') body.push('\\ No newline at end of file\n');
    }
    // diff's convention: a side with no line in the hunk starts at the line before it (0 for none)
    const aFrom = aLen ? aPos[from]! + 1 : aPos[from]!;
    const bFrom = bLen ? bPos[from]! + 1 : bPos[from]!;
    out.push(`@@ -${range(aFrom, aLen)} +${range(bFrom, bLen)} @@\n`, ...body);
    k = last + 1;
  }
  return out.join('');
}

/** `start,len`, or just `start` for one line (as diff writes it). */
function range(start: number, len: number): string {
  return len === 1 ? String(start) : `${start},${len}`;
}
