import vm from 'node:vm';
import type { DatabaseKind, SyncRule } from '../../sync-rules/types.js';
import type { RuleSet } from './load.js';
import { generateValidateDocUpdate } from './validate-doc-update.js';

/**
 * The gateway's write check. It does not re-implement the rules: it runs the generated
 * validate_doc_update, compiled once per kind of database in an isolated context, so a
 * document the gateway lets through is one CouchDB accepts, and a refusal carries the reason
 * CouchDB would give, word for word.
 */

/** CouchDB's user context, as validate_doc_update receives it. */
export interface UserCtx {
  name: string | null;
  roles: readonly string[];
  db?: string;
}

/** A refusal, shaped like CouchDB's per-document error (`{ error, reason }`) plus its status. */
export interface WriteRejection {
  status: 401 | 403 | 500;
  error: 'unauthorized' | 'forbidden' | 'internal_server_error';
  reason: string;
}

export interface WriteChecker {
  /**
   * null when CouchDB would accept `newDoc` over `oldDoc` (null for a new document); else why
   * not. `secObj` is the database's _security object, as CouchDB passes it.
   */
  checkWrite(
    newDoc: Record<string, unknown>,
    oldDoc: Record<string, unknown> | null,
    userCtx: UserCtx,
    dbKind: DatabaseKind,
    secObj?: Record<string, unknown>,
  ): WriteRejection | null;
  /** The generated validate_doc_update source for a kind of database. */
  source(dbKind: DatabaseKind): string;
  /** The parts of `type`'s rule a caller needs to tell what a write is; undefined if none. */
  rule(type: unknown): Pick<SyncRule, 'ownerField' | 'immutable'> | undefined;
}

// Arguments cross into the context as JSON, as they reach CouchDB's JavaScript: the function
// sees plain data of its own realm and cannot touch the caller's objects. The outcome crosses
// back as JSON too.
const HARNESS = `(function (vdu) {
  return function (newDoc, oldDoc, userCtx, secObj) {
    try {
      vdu(JSON.parse(newDoc), JSON.parse(oldDoc), JSON.parse(userCtx), JSON.parse(secObj));
      return null;
    } catch (e) {
      if (e && typeof e.forbidden === 'string') return JSON.stringify({ forbidden: e.forbidden });
      if (e && typeof e.unauthorized === 'string') return JSON.stringify({ unauthorized: e.unauthorized });
      return JSON.stringify({ crashed: String(e && e.message || e) });
    }
  };
})`;

type Run = (newDoc: string, oldDoc: string, userCtx: string, secObj: string) => string | null;

export function createWriteChecker(ruleSet: RuleSet): WriteChecker {
  const sources = new Map<DatabaseKind, string>();
  const runs = new Map<DatabaseKind, Run>();
  const source = (kind: DatabaseKind) => {
    let src = sources.get(kind);
    if (!src) sources.set(kind, (src = generateValidateDocUpdate(ruleSet, kind)));
    return src;
  };
  const run = (kind: DatabaseKind) => {
    let fn = runs.get(kind);
    if (!fn) {
      const context = vm.createContext(Object.create(null));
      fn = vm.runInContext(`${HARNESS}(${source(kind)})`, context, {
        filename: `validate_doc_update.${kind}.js`,
      }) as Run;
      runs.set(kind, fn);
    }
    return fn;
  };

  return {
    source,
    rule: (type) => (typeof type === 'string' ? ruleSet.rule(type) : undefined),
    checkWrite(newDoc, oldDoc, userCtx, dbKind, secObj = {}) {
      const ctx = { db: userCtx.db ?? null, name: userCtx.name, roles: [...userCtx.roles] };
      const outcome = run(dbKind)(
        JSON.stringify(newDoc),
        JSON.stringify(oldDoc ?? null),
        JSON.stringify(ctx),
        JSON.stringify(secObj),
      );
      if (outcome === null) return null;
      const thrown = JSON.parse(outcome) as Record<string, string>;
      if (thrown.forbidden !== undefined) {
        return { status: 403, error: 'forbidden', reason: thrown.forbidden };
      }
      if (thrown.unauthorized !== undefined) {
        return { status: 401, error: 'unauthorized', reason: thrown.unauthorized };
      }
      // A bug in the rules' code, not bad input; CouchDB would fail the write too.
      return {
        status: 500,
        error: 'internal_server_error',
        reason: `validate_doc_update failed: ${thrown.crashed}`,
      };
    },
  };
}
