import type { GrowthCheck } from './wasm.js';

/**
 * How far one call into a sandbox may grow the WASM heap (wasm.ts checks every growth): by
 * `memoryBytes` at most, and not at all once its deadline has passed (`inTime` false; `late`
 * is told, so the caller reports a timeout rather than running out of memory). After the
 * first refusal the call may grow by 1 MiB more, once: with the heap full, QuickJS could not
 * even build the "out of memory" error (or the reply of a function that caught it) and would
 * throw null instead.
 */
export function growthPolicy(
  memoryBytes: number,
  inTime: () => boolean,
  late: () => void,
): (heapBytes: number) => GrowthCheck {
  return (start) => {
    let allowed = memoryBytes;
    const refuse = () => {
      if (allowed === memoryBytes) allowed += 1024 * 1024;
      return false;
    };
    return (after) => {
      if (after - start > allowed) return refuse();
      if (allowed > memoryBytes || inTime()) return true;
      late();
      return refuse();
    };
  };
}
