/**
 * Problems that need more than one line to see: a variable before any section, a block comment
 * never closed, and `[x](tmpl)` / `[x](+)` naming a section that does not exist yet.
 */
import type { ConfigProblem } from './errors.ts';
import type { ConfigLine } from './line-parser.ts';

const INCLUDING = new Set(['include', 'tryinclude', 'exec']);

export function structuralProblems(lines: readonly ConfigLine[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  // Asterisk looks names up case-insensitively here (ast_category_get).
  const defined = new Set<string>();
  let inSection = false;
  // After an include we cannot know what it defined, so reference checks stop there.
  let sawInclude = false;
  let openedAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.depthOut > 0 && (l.depthIn === 0 || openedAt === -1)) openedAt = i;
    if (l.kind === 'section') {
      const h = l.header!;
      if (!sawInclude) {
        if (h.isAppend && !defined.has(h.name.toLowerCase())) {
          out.push({ line: i + 1, severity: 'error', message: `[${h.name}](+) appends to a section that does not exist before it` });
        }
        for (const t of h.templates) {
          if (!defined.has(t.toLowerCase())) {
            out.push({ line: i + 1, severity: 'error', message: `[${h.name}] inherits from '${t}', which is not defined before it` });
          }
        }
      }
      defined.add(h.name.toLowerCase());
      inSection = true;
    } else if (l.kind === 'entry' && !inSection) {
      out.push({ line: i + 1, severity: 'error', message: 'variable line before any [section]' });
    } else if (l.kind === 'directive' && INCLUDING.has(l.directive!.name)) {
      sawInclude = true;
    }
  }
  const last = lines[lines.length - 1];
  if (last && last.depthOut > 0) {
    out.push({ line: openedAt + 1, severity: 'error', message: 'block comment (;--) is never closed (--;)' });
  }
  return out;
}
