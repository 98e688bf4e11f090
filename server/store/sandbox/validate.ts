import type { Sandbox, SandboxOptions } from './engine.js';
import { compileOwned } from './compile.js';
import {
  SandboxLimitError,
  SandboxThrow,
  describeThrown,
  isErrorLike,
  limitPhrase,
} from './errors.js';

export interface ValidationFailure {
  status: 401 | 403;
  error: 'unauthorized' | 'forbidden';
  reason: string;
}

export interface ValidateUserCtx {
  db: string;
  name: string | null;
  roles: readonly string[];
}

export interface ValidatorOptions extends SandboxOptions {
  /** a sandbox to compile into (e.g. one per design doc); by default the validator owns one */
  sandbox?: Sandbox;
  /** told about every refusal the function did not mean (a bug, a limit), for the log */
  onError?: (err: Error) => void;
}

export interface Validator {
  readonly ddocId: string;
  /** null accepts the write; anything else refuses it, as CouchDB would answer. */
  run(
    newDoc: object,
    oldDoc: object | null,
    userCtx: ValidateUserCtx,
    secObj: object,
  ): ValidationFailure | null;
  dispose(): void;
}

/**
 * A design doc's `validate_doc_update`. It runs for every written document, so it never throws:
 * whatever goes wrong inside it refuses the write (CouchDB answers 500 for a thrown Error; a
 * write that could not be validated must not be stored either way, and 403 says so to a client).
 */
export function compileValidator(
  source: string,
  ddocId: string,
  opts: ValidatorOptions = {},
): Validator {
  const {
    sandbox,
    fn: compiled,
    dispose,
  } = compileOwned(source, `${ddocId}/validate_doc_update`, opts);
  return {
    ddocId,
    run(newDoc, oldDoc, userCtx, secObj) {
      try {
        sandbox.call(compiled, [newDoc, oldDoc, userCtx, secObj]);
        return null;
      } catch (err) {
        const failure = refusal(err, ddocId);
        if (!(err instanceof SandboxThrow && isDeliberate(err.value))) opts.onError?.(err as Error);
        return failure;
      }
    },
    dispose,
  };
}

function refusal(err: unknown, ddocId: string): ValidationFailure {
  if (err instanceof SandboxThrow) {
    const thrown = err.value;
    if (isObject(thrown) && 'forbidden' in thrown) return forbidden(asReason(thrown.forbidden));
    if (isObject(thrown) && 'unauthorized' in thrown) {
      return { status: 401, error: 'unauthorized', reason: asReason(thrown.unauthorized) };
    }
    if (typeof thrown === 'string') return forbidden(thrown);
    const where = `in ${ddocId} validate_doc_update`;
    if (isErrorLike(thrown)) return forbidden(`${describeThrown(thrown)} (${where})`);
    return forbidden(`validate_doc_update threw ${describeThrown(thrown)} (${where})`);
  }
  if (err instanceof SandboxLimitError) {
    return forbidden(`validate_doc_update in ${ddocId} ${limitPhrase(err.kind, err.limit)}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return forbidden(`validate_doc_update in ${ddocId} could not run: ${message}`);
}

/** `throw({forbidden: ...})`, `throw({unauthorized: ...})` and `throw 'message'` are how functions refuse on purpose. */
function isDeliberate(thrown: unknown): boolean {
  return (
    typeof thrown === 'string' ||
    (isObject(thrown) && ('forbidden' in thrown || 'unauthorized' in thrown))
  );
}

function forbidden(reason: string): ValidationFailure {
  return { status: 403, error: 'forbidden', reason };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** CouchDB passes any JSON as the reason; ours is a string, so non-strings are sent as JSON text. */
function asReason(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}
