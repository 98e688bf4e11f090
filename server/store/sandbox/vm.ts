import {
  Scope,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { PRELUDE } from './protocol.js';

/** One QuickJS runtime (its own heap and limits) with one context, booted with the prelude. */
export interface Vm {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  /** the prelude's `define(fn)`, which wraps a function in the call protocol */
  define: QuickJSHandle;
}

export interface VmLimits {
  memoryBytes: number;
  maxStackBytes: number;
}

export interface VmHooks {
  log: (message: string) => void;
  /** asked regularly while code runs; true stops it with an uncatchable error */
  interrupt: () => boolean;
}

export function bootVm(module: QuickJSWASMModule, limits: VmLimits, hooks: VmHooks): Vm {
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(limits.memoryBytes);
  runtime.setMaxStackSize(limits.maxStackBytes);
  runtime.setInterruptHandler(hooks.interrupt);
  const context = runtime.newContext();
  try {
    // Every handle made while booting is freed before the context can be, even on failure.
    const define = Scope.withScope((scope) => {
      const hostLog = scope.manage(
        context.newFunction('log', (message) => {
          try {
            hooks.log(context.getString(message));
          } catch {
            // The owner's logger failing is no reason to fail the design function.
          }
        }),
      );
      const prelude = scope.manage(
        context.unwrapResult(context.evalCode(PRELUDE, 'sawa:prelude', { type: 'global' })),
      );
      return context.unwrapResult(context.callFunction(prelude, context.undefined, hostLog));
    });
    return { runtime, context, define };
  } catch (err) {
    context.dispose();
    runtime.dispose();
    throw err;
  }
}

/** QuickJS asserts that no object outlives its runtime: every other handle must be gone first. */
export function freeVm(vm: Vm): void {
  vm.define.dispose();
  vm.context.dispose();
  vm.runtime.dispose();
}
