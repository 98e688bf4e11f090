import type { Db } from './pouch.js';
import { compileValidator } from './sandbox/validate.js';
import type { UserCtx } from './auth/user-ctx.js';
import type { SecurityObject } from './security.js';

export interface Rejection {
  status: number;
  error: string;
  reason: string;
}

type Validator = ReturnType<typeof compileValidator>;

interface Entry {
  /** `_rev`s of the design docs the validators were compiled from. */
  key: string;
  validators: Validator[];
}

/**
 * Compiled `validate_doc_update` functions per database, rebuilt when any design
 * document changes. Compilation happens in the sandbox, never in this process.
 */
export class Validators {
  private readonly cache = new Map<string, Entry>();

  async forDb(name: string, db: Db): Promise<Validator[]> {
    const res = await db.allDocs({ startkey: '_design/', endkey: '_design0', include_docs: true });
    const ddocs = res.rows
      .map((r) => r.doc as Record<string, unknown> | undefined)
      .filter((d): d is Record<string, unknown> => typeof d?.validate_doc_update === 'string');
    const key = ddocs.map((d) => `${d._id as string}@${d._rev as string}`).join(',');
    const cached = this.cache.get(name);
    if (cached && cached.key === key) return cached.validators;
    cached?.validators.forEach((v) => disposeQuietly(v));
    const validators = ddocs.map((d) => compileValidator(d.validate_doc_update as string, d._id as string));
    this.cache.set(name, { key, validators });
    return validators;
  }

  forget(name: string): void {
    this.cache.get(name)?.validators.forEach((v) => disposeQuietly(v));
    this.cache.delete(name);
  }

  static run(
    validators: Validator[],
    newDoc: Record<string, unknown>,
    oldDoc: Record<string, unknown> | null,
    userCtx: UserCtx & { db: string },
    secObj: SecurityObject,
  ): Rejection | null {
    for (const v of validators) {
      const failure = v.run(newDoc, oldDoc, userCtx, secObj);
      if (failure) return failure;
    }
    return null;
  }
}

function disposeQuietly(v: Validator): void {
  const d = (v as { dispose?: () => void }).dispose;
  if (typeof d === 'function') d.call(v);
}
