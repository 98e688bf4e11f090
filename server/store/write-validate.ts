import type { Handle } from './registry.js';
import { errors, toCouchError } from './errors.js';
import { Validators } from './validators.js';
import { checkDesignDoc } from './ddoc-check.js';
import { previousRevisions } from './write-base.js';
import type { Doc, WriteOptions } from './write-types.js';

export type Failure = { error: string; reason: string };

/** Refusals that need no database read: design-doc rights and shape, document size. */
export function precheck(doc: Doc, id: string, opts: WriteOptions): Failure | null {
  // couch_db:check_is_admin: anonymous callers are asked to log in, named ones refused.
  if (id.startsWith('_design/') && !opts.dbAdmin) {
    const e = errors.notDbAdmin();
    return { error: opts.userCtx.name === null ? 'unauthorized' : 'forbidden', reason: e.reason };
  }
  if (id.startsWith('_design/')) {
    const problem = checkDesignDoc(doc);
    if (problem) return problem;
  }
  if (JSON.stringify(doc).length > opts.maxDocBytes) {
    return { error: 'document_too_large', reason: id };
  }
  return null;
}

/** A document on its way through one write, and what became of it so far. */
export interface Pending {
  doc: Doc;
  failed?: Failure;
}

/**
 * Every `validate_doc_update` of the database, and the `_users` rules, against the revision
 * each write builds on. Fills `failed` of the writes refused; may replace `doc` (`_users`
 * hashes passwords).
 */
export async function validateWrites(
  h: Handle,
  validators: Validators,
  items: Pending[],
  opts: WriteOptions,
): Promise<void> {
  const checked = items.filter((p) => !p.failed && !(p.doc._id as string).startsWith('_local/'));
  if (checked.length === 0) return;
  const fns = await validators.forDb(h.record.dir, h.db);
  if (fns.length === 0 && !opts.prepare) return;
  const olds = await previousRevisions(
    h,
    checked.map((p) => p.doc),
    opts.newEdits,
  );
  const userCtx = { db: h.name, name: opts.userCtx.name, roles: opts.userCtx.roles };
  for (const [i, p] of checked.entries()) {
    const id = p.doc._id as string;
    const old = olds[i] ?? null;
    if (old === 'conflict') {
      p.failed = errors.conflict().toJSON();
      continue;
    }
    // A replicated revision the database already has is not validated again (CouchDB skips it too).
    if (old === 'exists') continue;
    try {
      if (opts.prepare) p.doc = await opts.prepare(p.doc, old);
    } catch (err) {
      p.failed = toCouchError(err).toJSON();
      continue;
    }
    // couch_db:validate_doc_update: design documents answer to admin rights, not to the functions.
    if (id.startsWith('_design/')) continue;
    const rejection = Validators.run(fns, withStubs(p.doc), old, userCtx, opts.security);
    if (rejection) p.failed = { error: rejection.error, reason: rejection.reason };
  }
}

/** Validation functions see attachment stubs, as in CouchDB, never the base64 bodies. */
function withStubs(doc: Doc): Doc {
  const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!atts) return doc;
  const stubs: Record<string, unknown> = {};
  for (const [name, att] of Object.entries(atts)) {
    const { data: _data, ...rest } = att;
    Object.defineProperty(stubs, name, {
      value: { ...rest, stub: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { ...doc, _attachments: stubs };
}
