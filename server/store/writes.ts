import { setImmediate as yieldToOthers } from 'node:timers/promises';
import type { Handle } from './registry.js';
import { toCouchError } from './errors.js';
import type { Validators } from './validators.js';
import { checkDocShape } from './doc-shape.js';
import { fillStubs } from './stubs.js';
import type { Doc, WriteOptions, WriteResult } from './write-types.js';
import { precheck, validateWrites, type Pending } from './write-validate.js';

export type { Doc, WriteOptions, WriteResult } from './write-types.js';

/**
 * Documents handed to PouchDB at once. Its LevelDB adapter concatenates each document's
 * operations onto one growing batch, so one call's cost grows with the square of its size
 * (20,000 documents: 33 s); a chunk at a time keeps it linear, and between chunks other
 * requests get the event loop.
 */
export const WRITE_CHUNK = 250;

/**
 * The one write path of the store: every PUT, POST, DELETE, `_bulk_docs` and replicated
 * write passes here, so design-doc permissions, document size and every
 * `validate_doc_update` apply to all of them, `new_edits=false` included.
 */
export async function writeDocs(
  h: Handle,
  validators: Validators,
  docs: Doc[],
  opts: WriteOptions,
  nextId: () => string,
): Promise<WriteResult[]> {
  // A document CouchDB could not parse fails the whole request before anything is written.
  const shaped = docs.map((d) => checkDocShape(d, opts.newEdits));
  for (const doc of shaped) if (doc._id === undefined || doc._id === '') doc._id = nextId();
  const results: WriteResult[] = [];
  for (let from = 0; from < shaped.length; from += WRITE_CHUNK) {
    if (from > 0) await yieldToOthers();
    results.push(
      ...(await writeChunk(h, validators, shaped.slice(from, from + WRITE_CHUNK), opts)),
    );
  }
  // Every design document reaches the database through here, so this keeps the validator cache true.
  if (results.some((r, i) => 'ok' in r && (shaped[i]?._id as string).startsWith('_design/')))
    validators.changed(h.record.dir);
  return opts.newEdits ? results : results.map((r, i) => withRev(r, shaped[i] as Doc));
}

async function writeChunk(
  h: Handle,
  validators: Validators,
  docs: Doc[],
  opts: WriteOptions,
): Promise<WriteResult[]> {
  const items: Pending[] = docs.map((doc) => {
    const failed = precheck(doc, doc._id as string, opts);
    return failed ? { doc, failed } : { doc };
  });
  if (opts.newEdits) {
    for (const p of items) {
      if (p.failed) continue;
      const failed = await fillStubs(h.db, p.doc);
      if (failed) p.failed = failed;
    }
  }
  await validateWrites(h, validators, items, opts);
  const toWrite = items.filter((p) => !p.failed);
  const written = await store(h, toWrite, opts.newEdits);
  // As CouchDB's: a write only of `_local` documents (a checkpoint) moves no sequence and is
  // not news on `_db_updates`; announcing it woke every phone that had just written one.
  const announced = written.some(
    (r, i) => 'ok' in r && !String(toWrite[i]?.doc._id).startsWith('_local/'),
  );
  if (announced) h.changed();
  const byItem = new Map(toWrite.map((p, i) => [p, written[i] as WriteResult]));
  return items.map((p) =>
    p.failed ? { id: p.doc._id as string, ...p.failed } : (byItem.get(p) as WriteResult),
  );
}

/** One PouchDB `bulkDocs` for the writes that passed every check; their results, in order. */
async function store(h: Handle, items: Pending[], newEdits: boolean): Promise<WriteResult[]> {
  if (items.length === 0) return [];
  const written = await h.db.bulkDocs(items.map((p) => p.doc) as never, { new_edits: newEdits });
  // With new_edits=false PouchDB lists only the failures, by id: everything else was written.
  const failures = newEdits ? [] : (written as Array<Record<string, unknown>>);
  return items.map((p, i) => {
    const id = p.doc._id as string;
    const r = newEdits
      ? (written[i] as Record<string, unknown> | undefined)
      : failures.find((f) => f.id === id && (f.rev === undefined || f.rev === p.doc._rev));
    if (r && (r.error || r.status)) {
      const e = toCouchError(r);
      return { id, error: e.error, reason: e.reason };
    }
    return { ok: true, id, rev: ((r?.rev as string | undefined) ?? p.doc._rev) as string };
  });
}

/** Replicated writes name their revision: CouchDB's errors for them carry it. */
function withRev(r: WriteResult, doc: Doc): WriteResult {
  if ('ok' in r || r.rev !== undefined || typeof doc._rev !== 'string') return r;
  return { id: r.id, rev: doc._rev, error: r.error, reason: r.reason };
}
