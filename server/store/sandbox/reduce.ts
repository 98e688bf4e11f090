import { count, stats, sum } from './builtins.js';
import type { Sandbox, SandboxOptions } from './engine.js';
import { compileOwned } from './compile.js';
import { BuiltinReduceError, SandboxCompileError, SandboxThrow } from './errors.js';
import { DistinctSketch } from './hll.js';
import { isFatal } from './map.js';

export interface ReduceOptions extends SandboxOptions {
  /** a sandbox to compile a JavaScript reduce into; by default the reduce function owns one */
  sandbox?: Sandbox;
  /** told when a JavaScript reduce throws; CouchDB then logs it and uses null as the value */
  onError?: (err: SandboxThrow) => void;
}

/**
 * `keys` are CouchDB's `[key, docId]` pairs (null on rereduce); typed loosely because view
 * engines hand them over untyped, and checked where a built-in needs them. Throws BuiltinReduceError when a built-in
 * refuses its input (except `_sum`, which returns CouchDB's error object as the value).
 */
export type ReduceFunction = ((
  keys: unknown,
  values: readonly unknown[],
  rereduce: boolean,
) => unknown) & {
  readonly label: string;
  /** The value to send to a client: only `_approx_count_distinct` keeps something else in between. */
  finalize(value: unknown): unknown;
  dispose(): void;
};

type Reducer = (keys: unknown, values: readonly unknown[], rereduce: boolean) => unknown;

/** CouchDB matches built-ins by prefix (`_sum` also accepts `_sum\n`); any other `_name` is refused. */
const BUILTINS: ReadonlyArray<readonly [string, Reducer]> = [
  ['_sum', (_keys, values) => sum(values)],
  ['_count', (_keys, values, rereduce) => count(values, rereduce)],
  ['_stats', (_keys, values) => stats(values)],
  ['_approx_count_distinct', approxCountDistinct],
];

/** A view's reduce: one of CouchDB's built-ins, run natively, or a JavaScript function run in the sandbox. */
export function compileReduce(
  source: string,
  label: string,
  opts: ReduceOptions = {},
): ReduceFunction {
  if (source.startsWith('_')) {
    const builtin = BUILTINS.find(([prefix]) => source.startsWith(prefix));
    if (!builtin) {
      throw new SandboxCompileError(
        label,
        `\`${source}\` is not a supported reduce function.`,
        'invalid_design_doc',
      );
    }
    const run = builtin[1];
    const reduce: Reducer = (keys, values, rereduce) => run(keys, values, rereduce);
    return Object.assign(reduce, {
      label,
      finalize: (value: unknown) => (value instanceof DistinctSketch ? value.estimate() : value),
      dispose: () => {},
    });
  }
  return compileJsReduce(source, label, opts);
}

function compileJsReduce(source: string, label: string, opts: ReduceOptions): ReduceFunction {
  const { sandbox, fn, dispose } = compileOwned(source, label, opts);
  const reduce: Reducer = (keys, values, rereduce) => {
    try {
      return sandbox.call(fn, [keys, values, rereduce]) ?? null;
    } catch (err) {
      // As in CouchDB's views.js: a throwing reduce gives null unless it asks to stop everything.
      if (!(err instanceof SandboxThrow) || isFatal(err.value)) throw err;
      opts.onError?.(err);
      return null;
    }
  };
  return Object.assign(reduce, { label, finalize: (value: unknown) => value, dispose });
}

function approxCountDistinct(
  keys: unknown,
  values: readonly unknown[],
  rereduce: boolean,
): DistinctSketch {
  const sketch = new DistinctSketch();
  if (rereduce) {
    for (const value of values) {
      if (!(value instanceof DistinctSketch)) {
        throw new BuiltinReduceError('_approx_count_distinct can only rereduce its own reductions');
      }
      sketch.merge(value);
    }
    return sketch;
  }
  if (!Array.isArray(keys) || !keys.every(Array.isArray)) {
    throw new BuiltinReduceError(
      '_approx_count_distinct needs the [key, docid] pairs of the rows it reduces',
    );
  }
  for (const [key] of keys as unknown[][]) sketch.add(key);
  return sketch;
}
