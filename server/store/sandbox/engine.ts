import type { QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten';
import { SandboxCompileError, SandboxLimitError, SandboxThrow, type LimitKind } from './errors.js';
import { decodeReply, isOutOfMemory } from './protocol.js';
import { asExpression, syntaxErrorDetail, withoutTrailingSemicolons } from './source.js';
import { checked, type SandboxOptions } from './options.js';
import { bootVm, freeVm, type Vm } from './vm.js';
import { currentModule, isCurrentModule, replaceEngine, withGrowthCheck } from './wasm.js';
import { growthPolicy } from './growth.js';

export { loadEngine } from './wasm.js';
export { SANDBOX_DEFAULTS, type SandboxOptions } from './options.js';

/** A compiled design function, usable only with the Sandbox that compiled it. */
export interface SandboxFunction {
  readonly label: string;
}

type Defined = { invoker: QuickJSHandle } | { detail: string; syntax: boolean };

class CompiledFunction implements SandboxFunction {
  invoker: QuickJSHandle | undefined;
  constructor(
    readonly label: string,
    /** the expression that compiled, kept so a fresh VM can compile it again */
    readonly expression: string,
    readonly owner: Sandbox,
  ) {}
}

/**
 * One QuickJS runtime and context holding any number of compiled functions.
 *
 * Design documents are code written by whoever can write a design doc, run on every write and
 * every view build. Like CouchDB, which hands them to a separate couchjs process, we never run
 * them in Node's own engine: each Sandbox is a QuickJS runtime (its own heap, memory limit and
 * interrupt handler) inside one WebAssembly module shared by the process.
 *
 * After a limit error the sandbox frees its VM and, on next use, boots a fresh one and compiles
 * every function again, so it is always usable and no half-finished state (a global a timed-out
 * function was filling, say) leaks into the next call. This is what CouchDB does when it kills
 * and restarts a couchjs process.
 */
export class Sandbox {
  readonly memoryBytes: number;
  readonly timeoutMs: number;
  readonly maxStackBytes: number;
  #module: QuickJSWASMModule;
  readonly #log: (message: string) => void;
  readonly #functions: CompiledFunction[] = [];
  #vm: Vm | undefined;
  #deadline = Infinity;
  #interrupted = false;
  #needsReset = false;
  #disposed = false;

  static create(opts: SandboxOptions = {}): Sandbox {
    return new Sandbox(currentModule(), opts);
  }

  private constructor(module: QuickJSWASMModule, opts: SandboxOptions) {
    this.#module = module;
    this.memoryBytes = checked('memoryBytes', opts.memoryBytes, 1024 * 1024, Infinity);
    this.timeoutMs = checked('timeoutMs', opts.timeoutMs, 1, Infinity);
    this.maxStackBytes = checked('maxStackBytes', opts.maxStackBytes, 8 * 1024, 1024 * 1024);
    this.#log = opts.log ?? (() => {});
    this.#vm = this.#boot();
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Compiles `function (...) {...}` source; `label` names it in errors and stack traces. */
  compile(source: string, label: string): SandboxFunction {
    if (source.trim() === '') throw new SandboxCompileError(label, 'missing function');
    try {
      const vm = this.#live();
      const first = this.#define(vm, asExpression(source), label);
      if ('invoker' in first) return this.#keep(label, asExpression(source), first.invoker);
      if (first.syntax) {
        for (const variant of withoutTrailingSemicolons(source)) {
          const retry = this.#define(vm, asExpression(variant), label);
          if ('invoker' in retry) return this.#keep(label, asExpression(variant), retry.invoker);
        }
      }
      throw new SandboxCompileError(label, first.detail);
    } finally {
      if (this.#needsReset) this.#teardown();
    }
  }

  /** Calls a compiled function with JSON arguments and returns its JSON result. */
  call(fn: SandboxFunction, args: readonly unknown[]): unknown {
    return this.#run(fn, args, false);
  }

  /** Calls a map function and returns every `emit(key, value)` it made, in order. */
  callForEmits(fn: SandboxFunction, args: readonly unknown[]): Array<[unknown, unknown]> {
    return this.#run(fn, args, true) as Array<[unknown, unknown]>;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#teardown();
    this.#functions.length = 0;
    this.#disposed = true;
  }

  #run(fn: SandboxFunction, args: readonly unknown[], collect: boolean): unknown {
    const compiled = this.#own(fn);
    const json = JSON.stringify(args);
    try {
      const vm = this.#live();
      const { context } = vm;
      const invoker = compiled.invoker as QuickJSHandle;
      const argsHandle = context.newString(json);
      const collectHandle = collect ? context.true : context.false;
      let result;
      try {
        result = this.#guard(compiled.label, () =>
          context.callFunction(invoker, context.undefined, argsHandle, collectHandle),
        );
      } finally {
        this.#release(vm, argsHandle);
      }
      if (result.error) {
        // Only limits get past the prelude's catch; anything else is reported as a throw.
        throw new SandboxThrow(compiled.label, this.#failure(vm, result.error, compiled.label));
      }
      const reply = context.getString(result.value);
      result.value.dispose();
      return decodeReply(reply, compiled.label);
    } finally {
      if (this.#needsReset) this.#teardown();
    }
  }

  #boot(): Vm {
    return bootVm(this.#module, this, {
      log: this.#log,
      interrupt: () => {
        if (performance.now() <= this.#deadline) return false;
        this.#interrupted = true;
        return true;
      },
    });
  }

  /** The VM to use now: a fresh one (with every function compiled again) after a limit error. */
  #live(): Vm {
    if (this.#disposed) throw new Error('the sandbox has been disposed');
    if (!isCurrentModule(this.#module)) {
      this.#abandon();
      this.#module = currentModule();
    }
    if (this.#vm) return this.#vm;
    const vm = this.#boot();
    this.#vm = vm;
    try {
      for (const fn of this.#functions) {
        const again = this.#define(vm, fn.expression, fn.label);
        if (!('invoker' in again)) throw new SandboxCompileError(fn.label, again.detail);
        fn.invoker = again.invoker;
      }
    } catch (err) {
      // A VM missing some of its functions is no use: the caller's finally frees it.
      this.#needsReset = true;
      throw err;
    }
    return vm;
  }

  #define(vm: Vm, expression: string, label: string): Defined {
    const { context } = vm;
    const evaluated = this.#guard(label, () =>
      context.evalCode(expression, label, { type: 'global' }),
    );
    if (evaluated.error) {
      const dumped = this.#failure(vm, evaluated.error, label);
      const syntax = (dumped as { name?: unknown } | null)?.name === 'SyntaxError';
      return { detail: syntaxErrorDetail(dumped, label), syntax };
    }
    const value = evaluated.value;
    try {
      const type = context.typeof(value);
      if (type !== 'function')
        return {
          detail: `expression does not evaluate to a function (got ${type})`,
          syntax: false,
        };
      const defined = this.#guard(label, () =>
        context.callFunction(vm.define, context.undefined, value),
      );
      if (defined.error) throw new SandboxThrow(label, this.#failure(vm, defined.error, label));
      return { invoker: defined.value };
    } finally {
      this.#release(vm, value);
    }
  }

  #keep(label: string, expression: string, invoker: QuickJSHandle): SandboxFunction {
    const fn = new CompiledFunction(label, expression, this);
    fn.invoker = invoker;
    this.#functions.push(fn);
    return fn;
  }

  #own(fn: SandboxFunction): CompiledFunction {
    if (!(fn instanceof CompiledFunction) || fn.owner !== this) {
      throw new Error(`${fn.label} was not compiled by this sandbox`);
    }
    return fn;
  }

  /**
   * Runs one entry into the VM under the limits: the interrupt handler stops it after the
   * deadline, and the heap may grow by `memoryBytes` at most, and not at all once the deadline
   * has passed (wasm.ts says why QuickJS's own checks are not enough).
   */
  #guard<T>(label: string, op: () => T): T {
    this.#interrupted = false;
    this.#deadline = performance.now() + this.timeoutMs;
    const growth = growthPolicy(
      this.memoryBytes,
      () => performance.now() <= this.#deadline,
      () => (this.#interrupted = true),
    );
    try {
      return withGrowthCheck(this.#module, growth, op);
    } catch (err) {
      // QuickJS reports script errors as values, so an exception here means the engine itself
      // failed mid-call (V8's stack ran out inside WASM): its state can be neither trusted nor
      // freed, and the whole module may be damaged: drop the VM as it is and replace the module.
      this.#abandon();
      replaceEngine(this.#module);
      if (err instanceof RangeError)
        throw new SandboxLimitError('stack', label, this.maxStackBytes);
      throw err;
    } finally {
      this.#deadline = Infinity;
    }
  }

  /** Reads and frees an error that escaped into the host; throws if it was a limit. */
  #failure(vm: Vm, error: QuickJSHandle, label: string): unknown {
    const interrupted = this.#interrupted;
    let dumped: unknown = null;
    try {
      dumped = vm.context.dump(error);
    } catch {
      // Reading the error needs memory too; an unreadable error is treated as running out of it.
    } finally {
      error.dispose();
    }
    if (interrupted) throw this.#limit('timeout', label);
    if (dumped === null || isOutOfMemory(dumped)) throw this.#limit('memory', label);
    return dumped;
  }

  #limit(kind: LimitKind, label: string): SandboxLimitError {
    this.#needsReset = true;
    return new SandboxLimitError(
      kind,
      label,
      kind === 'timeout' ? this.timeoutMs : this.memoryBytes,
    );
  }

  #release(vm: Vm, handle: QuickJSHandle): void {
    if (this.#vm === vm && handle.alive) handle.dispose();
  }

  /** Frees the VM; QuickJS asserts that no handle outlives its context, so every handle goes first. */
  #teardown(): void {
    const vm = this.#vm;
    if (!vm || !isCurrentModule(this.#module)) return this.#abandon();
    this.#vm = undefined;
    this.#needsReset = false;
    try {
      for (const fn of this.#functions) {
        fn.invoker?.dispose();
        fn.invoker = undefined;
      }
      freeVm(vm);
    } catch (err) {
      // QuickJS aborts the whole module if a runtime is freed with objects still alive.
      this.#abandon();
      replaceEngine(this.#module);
      throw err;
    }
  }

  #abandon(): void {
    this.#vm = undefined;
    this.#needsReset = false;
    for (const fn of this.#functions) fn.invoker = undefined;
  }
}
