// A full garbage collection from a test (or the soak gateway), under Node or Bun, for reading what memory is
// retained: Bun.gc(true) under Bun; under Node, V8's gc() exposed on first use (--expose-gc set at run time).
import v8 from 'node:v8';
import vm from 'node:vm';

declare const Bun: { gc(force: boolean): void } | undefined;
let gcFn: (() => void) | undefined;

export function collect(): void {
  if (typeof Bun !== 'undefined') {
    Bun.gc(true);
    return;
  }
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}
