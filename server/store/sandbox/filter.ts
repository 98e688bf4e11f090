import type { Sandbox, SandboxOptions } from './engine.js';
import { compileOwned } from './compile.js';
import { FilterError, SandboxLimitError, SandboxThrow, describeThrown } from './errors.js';

export interface FilterOptions extends SandboxOptions {
  /** a sandbox to compile into (e.g. one per design doc); by default the filter owns one */
  sandbox?: Sandbox;
}

/** `true` sends the document down the `_changes` feed. Throws FilterError when the filter fails. */
export type FilterFunction = ((doc: unknown, req: unknown) => boolean) & {
  readonly label: string;
  dispose(): void;
};

/**
 * A `_changes` filter, `function (doc, req)`; a truthy return includes the document. CouchDB
 * fails the whole request when a filter throws rather than guessing about the document, so the
 * FilterError carries the body CouchDB would send (status 500) and the caller decides.
 */
export function compileFilter(
  source: string,
  label: string,
  opts: FilterOptions = {},
): FilterFunction {
  const { sandbox, fn, dispose } = compileOwned(source, label, opts);
  const filter = (doc: unknown, req: unknown): boolean => {
    try {
      return Boolean(sandbox.call(fn, [doc, req]));
    } catch (err) {
      throw asFilterError(err);
    }
  };
  return Object.assign(filter, { label, dispose });
}

/** The `{error, reason}` CouchDB's query server reports for what a function threw. */
function asFilterError(err: unknown): FilterError {
  if (err instanceof SandboxLimitError)
    return new FilterError('os_process_error', err.message, { cause: err });
  if (!(err instanceof SandboxThrow)) {
    return new FilterError('os_process_error', err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  }
  const thrown = err.value as unknown;
  // couchjs's own conventions: ["error", id, reason], {error, reason}, then an Error's name.
  if (Array.isArray(thrown) && thrown[0] === 'error' && typeof thrown[1] === 'string') {
    return new FilterError(thrown[1], describeThrown(thrown[2]), { cause: err });
  }
  if (typeof thrown === 'object' && thrown !== null) {
    const { error, reason, name, message } = thrown as Record<string, unknown>;
    if (typeof error === 'string' && reason !== undefined) {
      return new FilterError(error, describeThrown(reason), { cause: err });
    }
    if (typeof name === 'string' && name !== '') {
      return new FilterError(name, typeof message === 'string' ? message : describeThrown(thrown), {
        cause: err,
      });
    }
  }
  return new FilterError('unnamed_error', describeThrown(thrown), { cause: err });
}
