import type { Handle } from './registry.js';
import type { UserCtx } from './auth/user-ctx.js';
import { errors, toCouchError } from './errors.js';
import { Validators, type Rejection } from './validators.js';
import { checkDocShape } from './doc-shape.js';
import { fillStubs } from './stubs.js';
import { checkDesignDoc } from './ddoc-check.js';
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
  const fns = checked.length > 0 ? await validators.forDb(h.record.dir, h.db) : [];
  if (checked.length > 0 && (fns.length > 0 || opts.prepare)) {
    const olds = await previousRevisions(h, checked, opts.newEdits);
    const userCtx = { db: h.name, name: opts.userCtx.name, roles: opts.userCtx.roles };
    for (const [i, p] of checked.entries()) {
      const id = p.doc._id as string;
      const old = olds[i] ?? null;
      if (old === 'conflict') {
        const e = errors.conflict();
        results[p.index] = { id, error: e.error, reason: e.reason };
        continue;
      }
      // A replicated revision the database already has is not validated again (CouchDB skips it too).
      if (old === 'exists') continue;
      try {
        if (opts.prepare) p.doc = await opts.prepare(p.doc, old);
      } catch (err) {
        const e = toCouchError(err);
        results[p.index] = { id, error: e.error, reason: e.reason };
        continue;
      }
      // couch_db:validate_doc_update: design documents answer to admin rights, not to the functions.
      if (id.startsWith('_design/')) continue;
      const rejection = Validators.run(fns, withStubs(p.doc), old, userCtx, opts.security);
      if (rejection) results[p.index] = { id, ...rejectionFields(rejection) };
    }
  }

  const toWrite = pending.filter((p) => results[p.index] === undefined);
  if (toWrite.length > 0) {
    const written = await h.db.bulkDocs(toWrite.map((p) => p.doc) as never, {
      new_edits: opts.newEdits,
    });
    // With new_edits=false PouchDB lists only the failures, by id: everything else was written.
    const failures = opts.newEdits ? [] : (written as Array<Record<string, unknown>>);
    toWrite.forEach((p, i) => {
      const id = p.doc._id as string;
      const r = opts.newEdits
        ? (written[i] as Record<string, unknown> | undefined)
        : failures.find((f) => f.id === id && (f.rev === undefined || f.rev === p.doc._rev));
      if (r && (r.error || r.status)) {
        const e = toCouchError(r);
        results[p.index] = { id, error: e.error, reason: e.reason };
      } else {
        results[p.index] = {
          ok: true,
          id,
          rev: ((r?.rev as string | undefined) ?? p.doc._rev) as string,
        };
      }
    });
  }
  if (results.some((r) => r && 'ok' in r)) h.changed();
  // Every design document reaches the database through here, so this keeps the validator cache true.
  if (toWrite.some((p) => (p.doc._id as string).startsWith('_design/')))
    validators.changed(h.record.dir);
  // Replicated writes name their revision: CouchDB's errors for them carry it.
  if (!opts.newEdits) {
    results.forEach((r, i) => {
      if (r && !('ok' in r) && r.rev === undefined && typeof shaped[i]?._rev === 'string') {
        results[i] = { id: r.id, rev: shaped[i]!._rev as string, error: r.error, reason: r.reason };
      }
    });
  }
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
  if (id.startsWith('_design/')) {
    const problem = checkDesignDoc(doc);
    if (problem) return problem;
  }
  if (JSON.stringify(doc).length > opts.maxDocBytes) {
    return { error: 'document_too_large', reason: id };
  }
  return null;
}

type Previous = Doc | null | 'conflict' | 'exists';

/**
 * The revision each write extends, as CouchDB passes it to validate_doc_update
 * as `oldDoc`. An interactive edit that names no current leaf (or none, for a
 * live document) is a conflict, found before validation as in
 * couch_db:prep_and_validate_update.
 */
async function previousRevisions(
  h: Handle,
  items: Pending[],
  newEdits: boolean,
): Promise<Previous[]> {
  return Promise.all(
    items.map(async (p): Promise<Previous> => {
      const id = p.doc._id as string;
      if (newEdits) {
        const leaves = (
          (await h.db.get(id, { open_revs: 'all' } as never).catch(() => [])) as unknown as Array<{
            ok?: Doc;
          }>
        )
          .map((l) => l.ok)
          .filter((d): d is Doc => d !== undefined);
        if (typeof p.doc._rev !== 'string') {
          return leaves.some((d) => d._deleted !== true) ? 'conflict' : null;
        }
        const leaf = leaves.find((d) => d._rev === p.doc._rev);
        if (!leaf) return 'conflict';
        return leaf._deleted === true ? null : leaf;
      }
      return nearestOnDisk(h, id, p.doc);
    }),
  );
}

/**
 * For a replicated revision, `oldDoc` is the nearest ancestor whose body the
 * database still has (couch_db's make_first_doc_on_disk), not just the parent:
 * a phone that edited a document three times offline sends one revision whose
 * parent the server never saw.
 */
async function nearestOnDisk(h: Handle, id: string, doc: Doc): Promise<Previous> {
  const revs = doc._revisions as { start?: number; ids?: string[] } | undefined;
  if (!revs?.ids || typeof revs.start !== 'number') return null;
  const leaves = (await h.db
    .get(id, { open_revs: 'all', revs: true } as never)
    .catch(() => [])) as unknown as Array<{ ok?: Doc }>;
  const known = new Set<string>();
  for (const l of leaves) {
    const path = l.ok?._revisions as { start: number; ids: string[] } | undefined;
    path?.ids.forEach((hash, i) => known.add(`${path.start - i}-${hash}`));
  }
  if (known.size === 0) return null;
  if (known.has(doc._rev as string)) return 'exists';
  for (let i = 1; i < revs.ids.length; i++) {
    const rev = `${revs.start - i}-${revs.ids[i]}`;
    if (!known.has(rev)) continue;
    const body = (await h.db.get(id, { rev }).catch(() => null)) as Doc | null;
    if (body) return body._deleted === true ? null : body;
  }
  return null;
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
