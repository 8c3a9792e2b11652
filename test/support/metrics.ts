// Reading Prometheus exposition text in tests: the value of one series, by name and labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line of the text (comments skipped). Label values are unescaped (\\, \", \n). */
export function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the series with exactly these labels, or 0 when there is none (a counter not yet counted). */
export function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const hit = samples(text).filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hit.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${hit.length} series`);
  return hit[0]?.value ?? 0;
}

/** The series of a metric (every label set). */
export function series(text: string, name: string): Sample[] {
  return samples(text).filter((s) => s.name === name);
}
