import type { Handle } from './registry.js';
import type { UserCtx } from './auth/user-ctx.js';
import { errors, toCouchError } from './errors.js';
import { Validators, type Rejection } from './validators.js';
import { checkDocShape } from './doc-shape.js';
import { fillStubs } from './stubs.js';
import type { SecurityObject } from './security.js';

export type WriteResult =
  | { ok: true; id: string; rev: string }
  | { id: string; rev?: string; error: string; reason: string };

export type Doc = Record<string, unknown>;

export interface WriteOptions {
  newEdits: boolean;
  userCtx: UserCtx;
  dbAdmin: boolean;
  maxDocBytes: number;
  security: SecurityObject;
  /** Hook for databases with rules of their own (`_users`): may rewrite the doc or throw a CouchError. */
  prepare?: (doc: Doc, oldDoc: Doc | null) => Promise<Doc>;
}

interface Pending {
  index: number;
  doc: Doc;
}

/**
 * The one write path of the store: every PUT, POST, DELETE, `_bulk_docs` and
 * replicated write passes here, so design-doc permissions, document size and
 * every `validate_doc_update` apply to all of them, `new_edits=false` included.
 */
export async function writeDocs(
  h: Handle,
  validators: Validators,
  docs: Doc[],
  opts: WriteOptions,
  nextId: () => string,
): Promise<WriteResult[]> {
  const results: (WriteResult | undefined)[] = new Array(docs.length);
  const pending: Pending[] = [];
  // A document CouchDB could not parse fails the whole request before anything is written.
  const shaped = docs.map((d) => checkDocShape(d, opts.newEdits));
  shaped.forEach((doc, index) => {
    if (doc._id === undefined || doc._id === '') doc._id = nextId();
    const id = doc._id as string;
    const refused = precheck(doc, id, opts);
    if (refused) results[index] = { id, ...refused };
    else pending.push({ index, doc });
  });

  if (opts.newEdits) {
    for (const p of pending) {
      const failed = await fillStubs(h.db, p.doc);
      if (failed) results[p.index] = { id: p.doc._id as string, ...failed };
    }
  }
  const checked = pending.filter(
    (p) => results[p.index] === undefined && !(p.doc._id as string).startsWith('_local/'),
  );
  const fns = await validators.forDb(h.name, h.db);
  if (checked.length > 0 && (fns.length > 0 || opts.prepare)) {
    const olds = await previousRevisions(h, checked, opts.newEdits);
    const userCtx = { db: h.name, name: opts.userCtx.name, roles: opts.userCtx.roles };
    for (const [i, p] of checked.entries()) {
      const id = p.doc._id as string;
      try {
        if (opts.prepare) p.doc = await opts.prepare(p.doc, olds[i] ?? null);
      } catch (err) {
        const e = toCouchError(err);
        results[p.index] = { id, error: e.error, reason: e.reason };
        continue;
      }
      const rejection = Validators.run(
        fns,
        withStubs(p.doc),
        olds[i] ?? null,
        userCtx,
        opts.security,
      );
      if (rejection) results[p.index] = { id, ...rejectionFields(rejection) };
    }
  }

  const toWrite = pending.filter((p) => results[p.index] === undefined);
  if (toWrite.length > 0) {
    const written = await h.db.bulkDocs(toWrite.map((p) => p.doc) as never, {
      new_edits: opts.newEdits,
    });
    written.forEach((r, i) => {
      const p = toWrite[i] as Pending;
      const id = p.doc._id as string;
      const res = r as {
        ok?: boolean;
        rev?: string;
        error?: unknown;
        name?: string;
        status?: number;
        message?: string;
        reason?: string;
      };
      if (res.error || res.status) {
        const e = toCouchError(res);
        results[p.index] = { id, error: e.error, reason: e.reason };
      } else {
        results[p.index] = { ok: true, id, rev: (res.rev ?? p.doc._rev) as string };
      }
    });
  }
  if (results.some((r) => r && 'ok' in r)) h.changed();
  return results as WriteResult[];
}

function rejectionFields(r: Rejection): { error: string; reason: string } {
  return { error: r.error, reason: r.reason };
}

function precheck(
  doc: Doc,
  id: string,
  opts: WriteOptions,
): { error: string; reason: string } | null {
  // couch_db:check_is_admin: anonymous callers are asked to log in, named ones refused.
  if (id.startsWith('_design/') && !opts.dbAdmin) {
    const e = errors.notDbAdmin();
    return { error: opts.userCtx.name === null ? 'unauthorized' : 'forbidden', reason: e.reason };
  }
  if (JSON.stringify(doc).length > opts.maxDocBytes) {
    return { error: 'document_too_large', reason: id };
  }
  return null;
}

/** The revision each write extends, as CouchDB passes it to validate_doc_update as `oldDoc`. */
async function previousRevisions(
  h: Handle,
  items: Pending[],
  newEdits: boolean,
): Promise<(Doc | null)[]> {
  const wanted = items.map((p) => {
    const id = p.doc._id as string;
    if (newEdits) return typeof p.doc._rev === 'string' ? { id, rev: p.doc._rev } : { id };
    const revs = p.doc._revisions as { start?: number; ids?: string[] } | undefined;
    const parent = revs?.ids?.[1];
    return parent && typeof revs?.start === 'number'
      ? { id, rev: `${revs.start - 1}-${parent}` }
      : null;
  });
  const query = wanted.filter((w): w is { id: string; rev?: string } => w !== null);
  if (query.length === 0) return items.map(() => null);
  const res = await h.db.bulkGet({ docs: query as never, revs: false });
  let k = 0;
  return wanted.map((w) => {
    if (!w) return null;
    const found = res.results[k++]?.docs[0];
    const doc = found && 'ok' in found ? (found.ok as Doc) : null;
    return doc && !doc._deleted ? doc : null;
  });
}

/** Validation functions see attachment stubs, as in CouchDB, never the base64 bodies. */
function withStubs(doc: Doc): Doc {
  const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!atts) return doc;
  const stubs: Record<string, unknown> = {};
  for (const [name, att] of Object.entries(atts)) {
    const { data: _data, ...rest } = att;
    stubs[name] = { ...rest, stub: true };
  }
  return { ...doc, _attachments: stubs };
}
