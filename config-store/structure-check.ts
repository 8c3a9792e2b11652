/**
 * Problems that need more than one line to see: a variable before any section, a block comment
 * never closed, and `[x](tmpl)` / `[x](+)` naming a section that does not exist yet.
 */
import type { ConfigProblem } from './errors.ts';
import type { ConfigLine } from './line-parser.ts';

const INCLUDING = new Set(['include', 'tryinclude', 'exec']);

/**
 * The header / entry / include checks, fed lines in file order. Only sections, directives and
 * the entries before the first section can produce or change anything, so a caller that knows
 * the other lines (lazy documents) may leave them out.
 */
export class StructureCheck {
  readonly out: ConfigProblem[] = [];
  // Asterisk looks names up case-insensitively here (ast_category_get).
  private readonly defined = new Set<string>();
  private inSection = false;
  // After an include we cannot know what it defined, so reference checks stop there.
  private sawInclude = false;

  get pastFirstSection(): boolean {
    return this.inSection;
  }

  add(i: number, l: ConfigLine): void {
    if (l.kind === 'section') {
      const h = l.header!;
      if (!this.sawInclude) {
        if (h.isAppend && !this.defined.has(h.name.toLowerCase())) {
          this.out.push({ line: i + 1, severity: 'error', message: `[${h.name}](+) appends to a section that does not exist before it` });
        }
        for (const t of h.templates) {
          if (!this.defined.has(t.toLowerCase())) {
            this.out.push({ line: i + 1, severity: 'error', message: `[${h.name}] inherits from '${t}', which is not defined before it` });
          }
        }
      }
      this.defined.add(h.name.toLowerCase());
      this.inSection = true;
    } else if (l.kind === 'entry' && !this.inSection) {
      this.out.push({ line: i + 1, severity: 'error', message: 'variable line before any [section]' });
    } else if (l.kind === 'directive' && INCLUDING.has(l.directive!.name)) {
      this.sawInclude = true;
    }
  }
}

/** `openedAt`: 0-based line where the block comment still open at the end of the file began. */
export function unclosedCommentProblem(openedAt: number): ConfigProblem {
  return { line: openedAt + 1, severity: 'error', message: 'block comment (;--) is never closed (--;)' };
}

export function structuralProblems(lines: readonly ConfigLine[]): ConfigProblem[] {
  const check = new StructureCheck();
  let openedAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.depthOut > 0 && (l.depthIn === 0 || openedAt === -1)) openedAt = i;
    check.add(i, l);
  }
  const out = check.out;
  const last = lines[lines.length - 1];
  if (last && last.depthOut > 0) out.push(unclosedCommentProblem(openedAt));
  return out;
}

/**
 * A line config.c would skip with a warning because it is neither a header, an assignment, a
 * directive, a comment nor blank ("No '=' (equal sign) in line N"): refused in a whole file
 * (validate-text.ts), where it can only be a mistake (`null`, `{`, JSON sent as text). Existing
 * files keep such lines as the warnings they are. `i` is the 0-based line index.
 */
export function strayLineProblem(l: ConfigLine, i: number): ConfigProblem | null {
  if (l.kind !== 'other' || l.problem?.severity === 'error') return null;
  const what = l.problem?.message.startsWith('no variable name') ? 'no variable name before the operator' : "No '=' (equal sign)";
  return {
    line: i + 1,
    severity: 'error',
    message: `${what} in line ${i + 1}: not a [section], an assignment (=, =>, +=), a #directive or a comment; Asterisk would skip it`,
  };
}
