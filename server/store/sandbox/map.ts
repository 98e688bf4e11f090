import type { Sandbox, SandboxOptions } from './engine.js';
import { compileOwned } from './compile.js';
import { SandboxThrow } from './errors.js';

export interface MapOptions extends SandboxOptions {
  /** a sandbox to compile into (e.g. one per design doc); by default the map function owns one */
  sandbox?: Sandbox;
  /** told when the function throws for a document, which then has no rows in this view */
  onError?: (err: SandboxThrow, doc: unknown) => void;
}

/** Every `emit(key, value)` of one call, as JSON copies taken at emit time; `emit(k)` gives value null. */
export type MapFunction = ((doc: unknown) => Array<[unknown, unknown]>) & {
  readonly label: string;
  dispose(): void;
};

/**
 * A view's map function. As in CouchDB, a function that throws for one document only loses that
 * document's rows (and the error is logged), unless it throws `'fatal_error'` or `['fatal', ...]`,
 * CouchDB's way for a function to stop the whole index build. Limit errors stop it too: in CouchDB
 * the couchjs process is killed and the view request fails.
 */
export function compileMap(source: string, label: string, opts: MapOptions = {}): MapFunction {
  const { sandbox, fn, dispose } = compileOwned(source, label, opts);
  const map = (doc: unknown): Array<[unknown, unknown]> => {
    try {
      return sandbox.callForEmits(fn, [doc]);
    } catch (err) {
      if (!(err instanceof SandboxThrow) || isFatal(err.value)) throw err;
      opts.onError?.(err, doc);
      return [];
    }
  };
  return Object.assign(map, { label, dispose });
}

export function isFatal(thrown: unknown): boolean {
  return thrown === 'fatal_error' || (Array.isArray(thrown) && thrown[0] === 'fatal');
}
