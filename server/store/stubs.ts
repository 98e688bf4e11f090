import type { Db } from './pouch.js';
import { own } from './own.js';

type Doc = Record<string, unknown>;
type Att = Record<string, unknown>;

export interface StubFailure {
  error: 'missing_stub';
  reason: string;
}

/**
 * couch_doc:merge_stubs: an attachment sent as `{"stub": true}` keeps the
 * attachment of that name from the revision being edited. PouchDB wants the
 * digest, so stubs without one are completed here from the previous revision;
 * a stub with nothing behind it fails that document with `missing_stub` (412).
 */
export async function fillStubs(db: Db, doc: Doc): Promise<StubFailure | null> {
  const atts = doc._attachments as Record<string, Att> | undefined;
  if (!atts) return null;
  const bare = Object.entries(atts).filter(
    ([, a]) => a?.stub === true && typeof a.digest !== 'string',
  );
  if (bare.length === 0) return null;
  const id = String(doc._id);
  const previous =
    typeof doc._rev === 'string'
      ? ((await db.get(id, { rev: doc._rev }).catch(() => null)) as Doc | null)
      : null;
  const known = (previous?._attachments ?? {}) as Record<string, Att>;
  for (const [name] of bare) {
    const old = own(known, name);
    if (!old)
      return { error: 'missing_stub', reason: `Invalid attachment stub in ${id} for ${name}` };
    atts[name] = { ...old, stub: true };
  }
  return null;
}
