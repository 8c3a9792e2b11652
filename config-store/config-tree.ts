/**
 * Loads a config file with the files it `#include`s / `#tryinclude`s, as Asterisk would, and
 * says which file holds each section, so an edit goes to the right file. Targets resolve
 * against the config directory; `*` and `?` match within one directory; nothing outside the
 * config directory is ever read (that target is skipped with a warning). `#exec` is recorded,
 * never run.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, type ConfigDocument, type Section, type SectionEntry } from './document.ts';
import { decodeConfigBytes, type TextEncodingName } from './encoding.ts';
import { badConfig, configNotFound } from './errors.ts';
import { globToRegExp, hasGlob, isInside, isReallyInside } from './path-guard.ts';

export interface TreeOptions {
  /** Include nesting limit; the root file is level 1 (Asterisk: 10). */
  maxDepth?: number;
}

export interface TreeFile {
  /** Path relative to the config directory, '/'-separated. */
  file: string;
  doc: ConfigDocument;
  encoding: TextEncodingName;
  depth: number;
  includedFrom: { file: string; line: number } | null;
}

export interface TreeSection extends Section {
  /** The file holding the header (relative to the config directory). */
  file: string;
  /** nth occurrence of this name across the whole tree, in load order. */
  treeIndex: number;
}

/** Variables at the top of an included file, which continue the includer's current section. */
export interface TreeContinuation {
  file: string;
  line: number;
  into: { file: string; name: string; index: number } | null;
  entries: SectionEntry[];
}

export interface ConfigTree {
  root: string;
  files: TreeFile[];
  /** Every section in the order Asterisk loads them (includes expanded where they appear). */
  sections: TreeSection[];
  continuations: TreeContinuation[];
  warnings: string[];
}

export async function loadConfigTree(configDir: string, fileName: string, options: TreeOptions = {}): Promise<ConfigTree> {
  const maxDepth = options.maxDepth ?? 10;
  const dir = path.resolve(configDir);
  const rootAbs = path.resolve(dir, fileName);
  if (!isInside(dir, rootAbs)) throw badConfig(`${fileName} is outside the config directory`);
  if (!(await exists(rootAbs))) throw configNotFound(`config file ${fileName} not found`);
  if (!(await isReallyInside(dir, rootAbs))) throw badConfig(`${fileName} resolves outside the config directory`);
  const tree: ConfigTree = { root: relName(dir, rootAbs), files: [], sections: [], continuations: [], warnings: [] };
  const seen = new Map<string, number>();
  await walk(rootAbs, 1, null, null, []);
  return tree;

  async function walk(
    abs: string,
    depth: number,
    inherited: TreeSection | null,
    from: TreeFile['includedFrom'],
    stack: string[],
  ): Promise<void> {
    const file = relName(dir, abs);
    const { text, encoding } = decodeConfigBytes(await readFile(abs));
    const doc = parseConfig(text, file);
    tree.files.push({ file, doc, encoding, depth, includedFrom: from });
    const byHeader = new Map(doc.sections().map((s) => [s.startLine, s]));
    let current = inherited;
    let ownSection = false;
    let continuation: TreeContinuation | null = null;
    const lines = doc.lines;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.kind === 'section') {
        const s = byHeader.get(i + 1)!;
        const treeIndex = seen.get(s.name) ?? 0;
        seen.set(s.name, treeIndex + 1);
        current = { ...s, file, treeIndex };
        ownSection = true;
        tree.sections.push(current);
      } else if (l.kind === 'entry' && !ownSection) {
        if (!continuation) {
          const into = current ? { file: current.file, name: current.name, index: current.index } : null;
          continuation = { file, line: i + 1, into, entries: [] };
          tree.continuations.push(continuation);
          if (!into) tree.warnings.push(`${file}:${i + 1}: variable before any section`);
        }
        const e = l.entry!;
        continuation.entries.push({ key: e.key, op: e.op, value: e.value });
      } else if (l.kind === 'directive' && l.directive!.target !== null) {
        const { name, target } = l.directive!;
        const where = `${file}:${i + 1}`;
        if (name === 'exec') tree.warnings.push(`${where}: #exec ${target} is not run`);
        else if (name === 'include' || name === 'tryinclude') {
          for (const child of await expand(target!, name === 'tryinclude', where)) {
            if (depth >= maxDepth)
              tree.warnings.push(`${where}: #${name} ${target} exceeds the include depth limit (${maxDepth}); skipped`);
            else if (stack.includes(child) || child === abs) tree.warnings.push(`${where}: #${name} ${target} includes itself; skipped`);
            // Asterisk keeps the includer's current section after the include returns.
            else await walk(child, depth + 1, current, { file, line: i + 1 }, [...stack, abs]);
          }
        }
      }
    }
  }

  /** Files a target names, checked to lie inside the config directory. */
  async function expand(target: string, optional: boolean, where: string): Promise<string[]> {
    const abs = path.isAbsolute(target) ? path.normalize(target) : path.resolve(dir, target);
    if (!isInside(dir, abs)) {
      tree.warnings.push(`${where}: ${target} is outside the config directory; skipped`);
      return [];
    }
    let candidates = [abs];
    const base = path.basename(abs);
    const parent = path.dirname(abs);
    if (hasGlob(path.relative(dir, parent))) {
      tree.warnings.push(`${where}: ${target}: wildcards are only supported in the file name; skipped`);
      return [];
    }
    if (hasGlob(base)) {
      const re = globToRegExp(base);
      let names: string[] = [];
      try {
        names = (await readdir(parent)).filter((n) => re.test(n)).sort();
      } catch {
        names = [];
      }
      candidates = names.map((n) => path.join(parent, n));
    }
    const out: string[] = [];
    let skipped = 0;
    for (const c of candidates) {
      if (!(await exists(c))) continue;
      skipped++;
      if (!(await isReallyInside(dir, c)))
        tree.warnings.push(`${where}: ${relName(dir, c)} resolves outside the config directory; skipped`);
      else if (!(await stat(c)).isFile()) tree.warnings.push(`${where}: ${relName(dir, c)} is not a file; skipped`);
      else {
        skipped--;
        out.push(c);
      }
    }
    if (out.length === 0 && skipped === 0 && !optional) {
      tree.warnings.push(`${where}: #include ${target}: no such file (Asterisk refuses the whole file)`);
    }
    return out;
  }
}

function relName(dir: string, abs: string): string {
  return path.relative(dir, abs).split(path.sep).join('/');
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The section as loaded (`occurrence` counts across the tree), with the file that holds it. */
export function findTreeSection(tree: ConfigTree, name: string, occurrence = 0): TreeSection | undefined {
  return tree.sections.find((s) => s.name === name && s.treeIndex === occurrence);
}
