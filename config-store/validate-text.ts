import { parseConfigLazy, type ConfigDocument } from './document.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { strayLineProblem } from './structure-check.ts';

/**
 * Whole-file check before a PUT: throws ConfigError 400 naming the first line Asterisk would
 * refuse (unclosed `[header` or `(options`, a block comment never closed, a variable before any
 * section, a stray `--;`, an unknown template, a line over 8190 bytes), and, for a whole file,
 * also a line outside a comment that is neither a header, an assignment (`=`, `=>`, `+=`), a
 * directive nor blank: config.c skips such a line with "No '=' (equal sign) in line N", so a
 * text like `null`, `{` or a JSON document would replace the file with lines Asterisk ignores.
 * Other warnings (an unknown `#directive`) pass.
 * The count comes from the lazy parse (exact, and it reads only the lines that can be wrong);
 * only a text with errors gets the full parse that names them.
 */
export function validateText(text: string, fileName = ''): void {
  if (typeof text !== 'string') throw new TypeError('validateText: text must be a string');
  const doc = parseConfigLazy(text, fileName);
  const stray = strayLines(doc, text);
  if (doc.errorCount() === 0 && stray.length === 0) return;
  const errors = [...doc.problems().filter((p) => p.severity === 'error'), ...stray];
  const byLine = new Map<number, ConfigProblem>();
  for (const p of errors.sort((a, b) => a.line - b.line)) if (!byLine.has(p.line)) byLine.set(p.line, p);
  const all = [...byLine.values()];
  const first = all[0]!;
  const where = fileName ? `${fileName} line ${first.line}` : `line ${first.line}`;
  const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
  throw new ConfigError(400, `${where}: ${first.message}${more}`, all);
}

/**
 * The lines Asterisk would skip as neither header, assignment, directive, comment nor blank.
 * A cheap look at the raw text leaves out the lines that cannot be such a line (blank, starting
 * with `;`, `[` or `#`, or with a name and an `=` before any `;`, and no `--` that could open or
 * close a block comment); the rest get the real parse, with the block-comment depth they start in.
 */
function strayLines(doc: ConfigDocument, text: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  let pos = 0;
  const n = text.length;
  for (let i = 0; pos < n; i++) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = n;
    if (maybeStray(text, pos, end, i === 0)) {
      const p = strayLineProblem(doc.lineAt(i), i);
      if (p) out.push(p);
    }
    pos = end + 1;
  }
  return out;
}

function maybeStray(t: string, a: number, b: number, first: boolean): boolean {
  if (first) return true; // a BOM
  let i = a;
  while (i < b && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9 || t.charCodeAt(i) === 13)) i++;
  if (i === b) return false;
  const dashes = t.indexOf('--', i);
  if (dashes !== -1 && dashes < b) return true;
  const c = t.charCodeAt(i);
  if (c === 59 /* ; */ || c === 91 /* [ */ || c === 35 /* # */) return false;
  if (c === 61 /* = */ || c === 43 /* + */ || c === 92 /* \ */) return true;
  const eq = t.indexOf('=', i);
  if (eq === -1 || eq >= b) return true;
  const semi = t.indexOf(';', i);
  return semi !== -1 && semi < eq;
}
