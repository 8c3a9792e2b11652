// The docs page's files (Swagger UI, from the swagger-ui-dist package), served by the gateway itself: PBX hosts are
// often offline, so the page loads nothing from the internet. Node reads them from node_modules; Bun imports them as
// files, which `bun build --compile` embeds in the single binary.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const DOCS_FILES = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
} as const;
export type DocsFile = keyof typeof DOCS_FILES;

/**
 * The docs page's files: where each one is, checked at start-up (a missing file stops it), and read on first request
 * and kept (1.9 MB that a gateway whose docs page is never opened does not hold).
 */
export async function loadDocsFiles(): Promise<(file: DocsFile) => Uint8Array> {
  let paths: Record<string, string>;
  if (process.versions.bun) {
    paths = (await import('./assets-bun.ts')).default;
  } else {
    const require = createRequire(import.meta.url);
    paths = Object.fromEntries(Object.keys(DOCS_FILES).map((f) => [f, require.resolve(`swagger-ui-dist/${f}`)]));
  }
  for (const f of Object.keys(DOCS_FILES) as DocsFile[]) {
    const p = paths[f];
    if (!p || !existsSync(p)) throw new Error(`docs page: ${f} is missing`);
  }
  const read = new Map<DocsFile, Uint8Array>();
  return (f) => {
    let bytes = read.get(f);
    if (bytes === undefined) {
      bytes = readFileSync(paths[f]!);
      read.set(f, bytes);
    }
    return bytes;
  };
}
