/**
 * Every error the design-function sandbox raises, in one list. Callers map them to
 * CouchDB-shaped responses; none of them ever carries a Node stack to a client.
 */

/** Which limit a design function overran. `stack` means the host's own stack ran out inside the engine. */
export type LimitKind = 'timeout' | 'memory' | 'stack';

/** The source is not a single JavaScript function (syntax error, empty, or some other value). */
export class SandboxCompileError extends Error {
  override readonly name = 'SandboxCompileError';
  constructor(
    readonly label: string,
    readonly detail: string,
    /** CouchDB's error id: an unknown `_builtin` reduce is a bad design doc, anything else failed to compile. */
    readonly couchError: 'compilation_error' | 'invalid_design_doc' = 'compilation_error',
  ) {
    super(`${label}: ${detail}`);
  }
}

/** The design function threw; `value` is what it threw, as JSON (an Error becomes `{name, message, stack}`). */
export class SandboxThrow extends Error {
  override readonly name = 'SandboxThrow';
  constructor(
    readonly label: string,
    readonly value: unknown,
  ) {
    super(`${label} threw ${describeThrown(value)}`);
  }
}

/** The design function ran out of time, memory or stack; the sandbox has already thrown its VM away. */
export class SandboxLimitError extends Error {
  override readonly name = 'SandboxLimitError';
  constructor(
    readonly kind: LimitKind,
    readonly label: string,
    /** ms for `timeout`, bytes for `memory` and `stack` */
    readonly limit: number,
  ) {
    super(`${label} ${limitPhrase(kind, limit)}`);
  }
}

/** A `_changes` filter failed; `error`/`reason` are what CouchDB would put in its error body (status 500). */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  constructor(
    readonly error: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${error}: ${reason}`, options);
  }
}

/** A built-in reduce refused its input; CouchDB answers `{error: 'invalid_value', reason}` with status 500. */
export class BuiltinReduceError extends Error {
  override readonly name = 'BuiltinReduceError';
  readonly error = 'invalid_value';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function limitPhrase(kind: LimitKind, limit: number): string {
  const mib = `${Math.round((limit / 1024 / 1024) * 10) / 10} MiB`;
  if (kind === 'timeout') return `ran longer than its ${limit} ms time limit`;
  if (kind === 'memory') return `used more than its ${mib} memory limit`;
  return `ran out of stack (limit ${Math.round(limit / 1024)} KiB)`;
}

/** One line a person can read: `TypeError: x is undefined`, the thrown string, or the thrown JSON. */
export function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isErrorLike(value)) return value.name ? `${value.name}: ${value.message}` : value.message;
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 500 ? `${json.slice(0, 500)}…` : json;
}

/** What the VM sends back for a thrown Error instance. */
export function isErrorLike(
  value: unknown,
): value is { name?: string; message: string; stack?: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string' &&
    typeof (value as { stack?: unknown }).stack === 'string'
  );
}
