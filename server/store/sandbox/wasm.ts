import { newQuickJSWASMModule, type QuickJSWASMModule } from 'quickjs-emscripten';

/**
 * The process's one WASM module. A failure inside it (V8's stack running out mid-call) leaves
 * it unusable for every sandbox, so it is then replaced: sandboxes notice on their next use
 * and move to the new module, compiling their functions again.
 */
const engine: { module?: QuickJSWASMModule; loading?: Promise<void> } = {};

/** Loads the WASM module once; call it at start-up, after which sandboxes are created synchronously. */
export function loadEngine(): Promise<void> {
  engine.loading ??= newQuickJSWASMModule().then(
    (module) => {
      engine.module = module;
    },
    (err: unknown) => {
      engine.loading = undefined;
      throw err;
    },
  );
  return engine.loading;
}

export function replaceEngine(broken: QuickJSWASMModule): void {
  if (engine.module !== broken) return;
  engine.module = undefined;
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
