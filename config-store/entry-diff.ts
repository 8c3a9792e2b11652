/**
 * Longest-common-subsequence diff of two short sequences (the entries of one section).
 * Common head and tail are trimmed first; the quadratic table only covers the changed middle,
 * and past a size cap the middle is treated as all-changed (correct, just less minimal).
 */
export type DiffStep = { t: 'keep'; a: number; b: number } | { t: 'del'; a: number } | { t: 'ins'; b: number };

const MAX_CELLS = 4_000_000;

export function diffSequences<A, B>(a: readonly A[], b: readonly B[], same: (x: A, y: B) => boolean): DiffStep[] {
  let head = 0;
  while (head < a.length && head < b.length && same(a[head]!, b[head]!)) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail]!, b[b.length - 1 - tail]!)) tail++;
  const steps: DiffStep[] = [];
  for (let i = 0; i < head; i++) steps.push({ t: 'keep', a: i, b: i });
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if (n > 0 && m > 0 && n * m <= MAX_CELLS) middleLcs(a, b, head, n, m, same, steps);
  else {
    for (let i = 0; i < n; i++) steps.push({ t: 'del', a: head + i });
    for (let j = 0; j < m; j++) steps.push({ t: 'ins', b: head + j });
  }
  for (let k = 0; k < tail; k++) steps.push({ t: 'keep', a: head + n + k, b: head + m + k });
  return steps;
}

function middleLcs<A, B>(
  a: readonly A[],
  b: readonly B[],
  off: number,
  n: number,
  m: number,
  same: (x: A, y: B) => boolean,
  steps: DiffStep[],
): void {
  // len[i][j] = LCS length of a[off+i..] and b[off+j..], stored row-major in one typed array.
  const w = m + 1;
  const len = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i * w + j] = same(a[off + i]!, b[off + j]!)
        ? len[(i + 1) * w + j + 1]! + 1
        : Math.max(len[(i + 1) * w + j]!, len[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(a[off + i]!, b[off + j]!)) {
      steps.push({ t: 'keep', a: off + i, b: off + j });
      i++;
      j++;
    } else if (len[(i + 1) * w + j]! >= len[i * w + j + 1]!) {
      steps.push({ t: 'del', a: off + i });
      i++;
    } else {
      steps.push({ t: 'ins', b: off + j });
      j++;
    }
  }
  for (; i < n; i++) steps.push({ t: 'del', a: off + i });
  for (; j < m; j++) steps.push({ t: 'ins', b: off + j });
}
