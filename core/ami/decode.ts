// UTF-8 bytes to a string, for the AMI parser: most AMI text is ASCII plus, in caller names, a few characters of
// U+0080-U+00FF (é, ö, ñ). V8 decodes such text at about 1 GB/s; latin1.wat (a 280-byte WebAssembly module,
// generated into latin1-wasm.ts) turns it into Latin-1 at about 7.8 GB/s, and the engine copies Latin-1 into a
// string faster still. Text with any other character, or malformed, is decoded by the engine as before, so the
// result is always what buf.toString('utf8') gives (test/unit/ami-decode.test.ts compares the two).
import { LATIN1_WASM } from './latin1-wasm.ts';

interface Latin1Module {
  latin1(n: number): number;
  memory: { buffer: ArrayBuffer };
  /** Where the module writes its output, which is also the most input it takes at once (see latin1.wat). */
  out: { value: number };
}

/** The part of the WebAssembly global used here (the project's type libraries do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

function instantiate(): { fn: (n: number) => number; mem: Buffer; out: number } | null {
  try {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(LATIN1_WASM, 'base64'))).exports as Latin1Module;
    // the memory never grows, so this view stays valid
    return { fn: exports.latin1, mem: Buffer.from(exports.memory.buffer), out: exports.out.value };
  } catch {
    // no WebAssembly (node --jitless) or no SIMD: the engine decodes everything
    return null;
  }
}

const wasm = instantiate();

/** Whether the WebAssembly path is in use (tests check it is, on both runtimes). */
export const latin1WasmActive = wasm !== null;
/** Input bytes the module takes at once (latin1.wat's `out`; 0 without it): longer text is decoded by the engine. */
export const WASM_MAX_BYTES = wasm?.out ?? 0;

/** buf[start, end) as UTF-8 text, the same string buf.toString('utf8', start, end) gives. */
export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (wasm !== null && n <= wasm.out) {
    buf.copy(wasm.mem, 0, start, end);
    const len = wasm.fn(n);
    if (len >= 0) return wasm.mem.toString('latin1', wasm.out, wasm.out + len);
  }
  return buf.toString('utf8', start, end);
}
