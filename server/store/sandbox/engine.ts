import {
  newQuickJSWASMModule,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { SandboxCompileError, SandboxLimitError, SandboxThrow, type LimitKind } from './errors.js';
import { PRELUDE } from './prelude.js';
import { asExpression, syntaxErrorDetail, withoutTrailingSemicolons } from './source.js';

/**
 * Design documents are code written by whoever can write a design doc, run on every write and
 * every view build. Like CouchDB, which hands them to a separate couchjs process, we never run
 * them in Node's own engine: each Sandbox is a QuickJS runtime (its own heap, memory limit and
 * interrupt handler) inside one WebAssembly module shared by the process.
 */
export const SANDBOX_DEFAULTS = {
  memoryBytes: 32 * 1024 * 1024,
  timeoutMs: 1_000,
  /**
   * QuickJS checks its stack against the WASM shadow stack, but WASM frames also live on V8's
   * native stack, which is what really overflows. Measured on Node 20, the worst case (the
   * parser on deeply nested brackets) uses about 26 bytes of V8 stack per byte QuickJS counts:
   * at 24 KiB a function still nests calls about 120 deep and JSON about 1,400 deep, and the
   * engine stays inside V8's ~984 KiB even when the caller has used 400 KiB of it already.
   */
  maxStackBytes: 24 * 1024,
};

export interface SandboxOptions {
  memoryBytes?: number;
  timeoutMs?: number;
  maxStackBytes?: number;
  /** receives every `log(x)` of the design code (CouchDB's query-server log), default none */
  log?: (message: string) => void;
}

/** A compiled design function, usable only with the Sandbox that compiled it. */
export interface SandboxFunction {
  readonly label: string;
}

let engine: QuickJSWASMModule | undefined;
let loading: Promise<void> | undefined;

/** Loads the WASM module once; call it at start-up, after which sandboxes are created synchronously. */
export function loadEngine(): Promise<void> {
  loading ??= newQuickJSWASMModule().then(
    (module) => {
      engine = module;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

interface Vm {
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  /** the prelude's `define(fn)`, which wraps a function in the call protocol */
  define: QuickJSHandle;
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
 * After a limit error the sandbox frees its VM and, on next use, boots a fresh one and compiles
 * every function again, so it is always usable and no half-finished state (a global a timed-out
 * function was filling, say) leaks into the next call. This is what CouchDB does when it kills
 * and restarts a couchjs process.
 */
export class Sandbox {
  readonly memoryBytes: number;
  readonly timeoutMs: number;
  readonly maxStackBytes: number;
  readonly #module: QuickJSWASMModule;
  readonly #log: (message: string) => void;
  readonly #functions: CompiledFunction[] = [];
  #vm: Vm | undefined;
  #deadline = Infinity;
  #interrupted = false;
  #needsReset = false;
  #disposed = false;

  static create(opts: SandboxOptions = {}): Sandbox {
    if (!engine) throw new Error('the sandbox engine is not loaded: await loadEngine() at start-up');
    return new Sandbox(engine, opts);
  }

  private constructor(module: QuickJSWASMModule, opts: SandboxOptions) {
    this.#module = module;
    this.memoryBytes = opts.memoryBytes ?? SANDBOX_DEFAULTS.memoryBytes;
    this.timeoutMs = opts.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs;
    this.maxStackBytes = opts.maxStackBytes ?? SANDBOX_DEFAULTS.maxStackBytes;
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
      return decode(reply, compiled.label);
    } finally {
      if (this.#needsReset) this.#teardown();
    }
  }

  #boot(): Vm {
    const runtime = this.#module.newRuntime();
    runtime.setMemoryLimit(this.memoryBytes);
    runtime.setMaxStackSize(this.maxStackBytes);
    runtime.setInterruptHandler(() => {
      if (performance.now() <= this.#deadline) return false;
      this.#interrupted = true;
      return true;
    });
    const context = runtime.newContext();
    try {
      const hostLog = context.newFunction('log', (message) => {
        try {
          this.#log(context.getString(message));
        } catch {
          // The owner's logger failing is no reason to fail the design function.
        }
      });
      const prelude = context.unwrapResult(context.evalCode(PRELUDE, 'sawa:prelude', { type: 'global' }));
      const define = context.unwrapResult(context.callFunction(prelude, context.undefined, hostLog));
      prelude.dispose();
      hostLog.dispose();
      return { runtime, context, define };
    } catch (err) {
      context.dispose();
      runtime.dispose();
      throw err;
    }
  }

  /** The VM to use now: a fresh one (with every function compiled again) after a limit error. */
  #live(): Vm {
    if (this.#disposed) throw new Error('the sandbox has been disposed');
    if (this.#vm) return this.#vm;
    const vm = this.#boot();
    this.#vm = vm;
    for (const fn of this.#functions) {
      const again = this.#define(vm, fn.expression, fn.label);
      if (!('invoker' in again)) throw new SandboxCompileError(fn.label, again.detail);
      fn.invoker = again.invoker;
    }
    return vm;
  }

  #define(vm: Vm, expression: string, label: string): Defined {
    const { context } = vm;
    const evaluated = this.#guard(label, () => context.evalCode(expression, label, { type: 'global' }));
    if (evaluated.error) {
      const dumped = this.#failure(vm, evaluated.error, label);
      const syntax = (dumped as { name?: unknown } | null)?.name === 'SyntaxError';
      return { detail: syntaxErrorDetail(dumped, label), syntax };
    }
    const value = evaluated.value;
    try {
      const type = context.typeof(value);
      if (type !== 'function') return { detail: `expression does not evaluate to a function (got ${type})`, syntax: false };
      const defined = this.#guard(label, () => context.callFunction(vm.define, context.undefined, value));
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

  /** Runs one entry into the VM under the time limit. */
  #guard<T>(label: string, op: () => T): T {
    this.#interrupted = false;
    this.#deadline = performance.now() + this.timeoutMs;
    try {
      return op();
    } catch (err) {
      // QuickJS reports script errors as values, so an exception here means the engine itself
      // failed mid-call (V8's stack ran out inside WASM): its state can be neither trusted nor
      // freed, so the VM is dropped as it is and a fresh one is booted on next use.
      this.#abandon();
      if (err instanceof RangeError) throw new SandboxLimitError('stack', label, this.maxStackBytes);
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
    return new SandboxLimitError(kind, label, kind === 'timeout' ? this.timeoutMs : this.memoryBytes);
  }

  #release(vm: Vm, handle: QuickJSHandle): void {
    if (this.#vm === vm && handle.alive) handle.dispose();
  }

  /** Frees the VM; QuickJS asserts that no handle outlives its context, so every handle goes first. */
  #teardown(): void {
    const vm = this.#vm;
    this.#vm = undefined;
    this.#needsReset = false;
    for (const fn of this.#functions) {
      fn.invoker?.dispose();
      fn.invoker = undefined;
    }
    if (!vm) return;
    vm.define.dispose();
    vm.context.dispose();
    vm.runtime.dispose();
  }

  #abandon(): void {
    this.#vm = undefined;
    this.#needsReset = false;
    for (const fn of this.#functions) fn.invoker = undefined;
  }
}

function isOutOfMemory(dumped: unknown): boolean {
  if (typeof dumped !== 'object' || dumped === null) return false;
  const { name, message } = dumped as { name?: unknown; message?: unknown };
  return name === 'InternalError' && message === 'out of memory';
}

function decode(reply: string, label: string): unknown {
  const body = reply.slice(1);
  switch (reply[0]) {
    case 'R':
      return JSON.parse(body);
    case 'U':
      return undefined;
    case 'T':
      throw new SandboxThrow(label, JSON.parse(body));
    default:
      throw new Error(`${label}: unexpected reply from the sandbox`);
  }
}
