import type { Db } from './pouch.js';
import { compileValidator, type Validator } from './sandbox/validate.js';
import type { UserCtx } from './user-ctx.js';
import type { SecurityObject } from './security.js';

export interface Rejection {
  status: number;
  error: string;
  reason: string;
}

const MAX_COMPILED = 500;

/**
 * The `validate_doc_update` functions that apply to a database. Compiled
 * functions are shared by source text: a thousand user databases carrying the
 * same design document share one sandbox, as CouchDB shares its couchjs
 * processes. Compilation happens in the sandbox, never in this process.
 */
export class Validators {
  private readonly compiled = new Map<string, Validator>();
  /** Per database directory (a purge rebuild gets a new one): its validators, read once. */
  private readonly perDb = new Map<string, Promise<Validator[]>>();

  /** The validators of the database in `dir`; its design documents are read only after they change. */
  forDb(dir: string, db: Db): Promise<Validator[]> {
    let found = this.perDb.get(dir);
    if (!found) {
      found = this.read(db);
      // A failed read is not remembered: the next write tries again.
      found.catch(() => this.perDb.delete(dir));
      if (this.perDb.size >= MAX_COMPILED)
        this.perDb.delete(this.perDb.keys().next().value as string);
      this.perDb.set(dir, found);
    }
    return found;
  }

  /** A design document of the database in `dir` was written: read them again next time. */
  changed(dir: string): void {
    this.perDb.delete(dir);
  }

  private async read(db: Db): Promise<Validator[]> {
    const res = await db.allDocs({ startkey: '_design/', endkey: '_design0', include_docs: true });
    const validators: Validator[] = [];
    for (const row of res.rows as Array<{ doc?: Record<string, unknown> }>) {
      const source = row.doc?.validate_doc_update;
      if (typeof source === 'string') validators.push(this.compile(row.doc?._id as string, source));
    }
    return validators;
  }

  private compile(ddocId: string, source: string): Validator {
    const key = `${ddocId}\u0000${source}`;
    let v = this.compiled.get(key);
    if (v) {
      // Refresh its place in the LRU order.
      this.compiled.delete(key);
      this.compiled.set(key, v);
      return v;
    }
    v = compileOrRefuse(source, ddocId);
    this.compiled.set(key, v);
    if (this.compiled.size > MAX_COMPILED) {
      const oldest = this.compiled.keys().next().value as string;
      this.compiled.get(oldest)?.dispose();
      this.compiled.delete(oldest);
    }
    return v;
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

/**
 * A stored function that no longer compiles (written before design documents
 * were checked, or by an older store) refuses every write with a reason,
 * rather than failing each one with a 500.
 */
function compileOrRefuse(source: string, ddocId: string): Validator {
  try {
    return compileValidator(source, ddocId);
  } catch (err) {
    const reason = `validate_doc_update in ${ddocId} does not compile: ${err instanceof Error ? err.message : String(err)}`;
    return {
      ddocId,
      run: () => ({ status: 403, error: 'forbidden', reason }),
      dispose: () => undefined,
    };
  }
}
