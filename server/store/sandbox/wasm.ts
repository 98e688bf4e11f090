import {
  newQuickJSWASMModule,
  newVariant,
  RELEASE_SYNC,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';

/**
 * The process's one WASM module. A failure inside it (V8's stack running out mid-call) leaves
 * it unusable for every sandbox, so it is then replaced: sandboxes notice on their next use
 * and move to the new module, compiling their functions again.
 */
const engine: { module?: QuickJSWASMModule; loading?: Promise<void>; memory?: WasmHeap } = {};

/**
 * Asked before the module's memory grows while a design function runs; false refuses the
 * growth, so the allocation that needed it fails and QuickJS throws "out of memory".
 */
export type GrowthCheck = (bytesAfter: number) => boolean;

/**
 * The module's memory, which we make (Emscripten would make the same one: 16 MiB, growing up
 * to 2 GiB) so that its growth passes through `check` first.
 *
 * Why: QuickJS's own memory limit does not work under Emscripten. It counts each allocation
 * as `malloc_usable_size(ptr) + 8`, and its Emscripten build has no `malloc_usable_size` (it
 * counts 0), so a runtime's limit only refuses a single allocation larger than the limit and
 * otherwise counts 8 bytes per block: a function keeping 100 KB strings never reaches 32 MiB
 * by QuickJS's count. Nor does the time limit stop it soon: QuickJS asks the interrupt handler
 * once per 10,000 jumps and calls, and a builtin that runs long (joining a 100,000-slot array)
 * is one call, so that function ran ~30 s, growing the process's heap, before it was asked.
 * Growth is the one point such a function must pass through, whatever it runs.
 */
class WasmHeap {
  readonly memory = new WebAssembly.Memory({ initial: 256, maximum: 32768 });
  check: GrowthCheck | undefined;

  constructor() {
    const grow = this.memory.grow.bind(this.memory);
    // The Emscripten glue grows the heap through this method (emscripten_resize_heap); a
    // throw makes it report the growth as failed, and the allocation returns NULL.
    Object.defineProperty(this.memory, 'grow', {
      value: (pages: number) => {
        const after = this.memory.buffer.byteLength + pages * 65536;
        if (this.check && !this.check(after)) throw new RangeError('sandbox memory refused');
        return grow(pages);
      },
    });
  }
}

/** Loads the WASM module once; call it at start-up, after which sandboxes are created synchronously. */
export function loadEngine(): Promise<void> {
  engine.loading ??= load().then(
    ({ module, heap }) => {
      engine.module = module;
      engine.memory = heap;
    },
    (err: unknown) => {
      engine.loading = undefined;
      throw err;
    },
  );
  return engine.loading;
}

async function load(): Promise<{ module: QuickJSWASMModule; heap: WasmHeap }> {
  const heap = new WasmHeap();
  const module = await newQuickJSWASMModule(newVariant(RELEASE_SYNC, { wasmMemory: heap.memory }));
  return { module, heap };
}

/**
 * Runs `op` (one entry into a VM of `module`) with `check` asked before the heap grows. The
 * current heap size is passed first, so the check can measure growth from there.
 */
export function withGrowthCheck<T>(
  module: QuickJSWASMModule,
  check: (heapBytes: number) => GrowthCheck,
  op: () => T,
): T {
  const heap = engine.module === module ? engine.memory : undefined;
  if (!heap) return op();
  heap.check = check(heap.memory.buffer.byteLength);
  try {
    return op();
  } finally {
    heap.check = undefined;
  }
}

/** The bytes of the module's memory (it grows, never shrinks), 0 before it is loaded. */
export function engineHeapBytes(): number {
  return engine.memory?.memory.buffer.byteLength ?? 0;
}

export function replaceEngine(broken: QuickJSWASMModule): void {
  if (engine.module !== broken) return;
  engine.module = undefined;
  engine.memory = undefined;
  engine.loading = undefined;
  // Nobody awaits this reload; if it fails, the next loadEngine() call tries again.
  loadEngine().catch(() => {});
}

export function isCurrentModule(module: QuickJSWASMModule): boolean {
  return engine.module === module;
}

export function currentModule(): QuickJSWASMModule {
  if (engine.module) return engine.module;
  throw new Error(
    engine.loading
      ? 'the sandbox engine is restarting after a failure; try again shortly'
      : 'the sandbox engine is not loaded: await loadEngine() at start-up',
  );
}
