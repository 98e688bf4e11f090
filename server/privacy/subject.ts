import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { allDocs, type Doc } from '../couch/purge.js';
import { contributionId } from '../jobs/aggregate/aggregates-db.js';
import { TEAM_DB_PREFIX, userDbName } from '../provisioning/names.js';
import type { RuleSet } from '../rules/load.js';

/**
 * Where Sawa holds one person's data, found the same way for an export and an erasure:
 *
 * - their own database (`userdb-…`): every document;
 * - every team database: the documents whose owner field (the type's rule's `ownerField`)
 *   names them;
 * - the conflict archive: revisions and resolutions of their database, or of documents
 *   they own;
 * - the aggregates: the contribution records of the documents above.
 */

export interface SubjectDocs {
  /** Database name → the person's documents there (with attachments, base64). */
  databases: Record<string, Doc[]>;
  conflict_archive: Doc[];
  aggregate_contributions: Doc[];
}

export async function teamDbs(nano: Nano.ServerScope): Promise<string[]> {
  try {
    return (await nano.db.list()).filter((d) => d.startsWith(TEAM_DB_PREFIX));
  } catch (err) {
    throw cleanCouchError(err);
  }
}

/** The user a document belongs to, by its type's rule (`owner` for unknown types). */
export function ownerOf(rules: RuleSet, doc: Record<string, unknown>): unknown {
  const rule = typeof doc.type === 'string' ? rules.rule(doc.type) : undefined;
  return doc[rule?.ownerField ?? 'owner'];
}

/** One of the person's documents, where it was found. */
export type Found =
  | { section: 'databases'; db: string; doc: Doc }
  | { section: 'conflict_archive' | 'aggregate_contributions'; doc: Doc };

/**
 * The person's documents one at a time, database by database, then the archive, then the
 * contributions: what an export streams and an erasure collects. Only ids are remembered
 * along the way (the archive and contributions are matched by them), never bodies, so a
 * streamed export holds one page of documents at a time. With `attachments`, a document that
 * has any is read again alone with them inline: one document's attachments in memory at once.
 */
export async function* walkSubject(
  nano: Nano.ServerScope,
  rules: RuleSet,
  name: string,
  opts: { attachments: boolean; aggregatesDb: string; archiveDb: string },
): AsyncGenerator<Found> {
  const own = userDbName(name);
  const held = new Map<string, Set<string>>();
  const hold = (db: string, id: string) => {
    const ids = held.get(db) ?? new Set<string>();
    held.set(db, ids.add(id));
  };
  const withAttachments = async (db: string, doc: Doc) =>
    opts.attachments && doc._attachments ? ((await docWithAttachments(nano, db, doc)) ?? doc) : doc;
  for await (const doc of allDocs(nano, own)) {
    // The server's purge instructions hold ids only: not the person's data.
    if (doc.type === 'sawa_purge') continue;
    hold(own, doc._id);
    yield { section: 'databases', db: own, doc: await withAttachments(own, doc) };
  }
  for (const db of await teamDbs(nano)) {
    for await (const doc of allDocs(nano, db)) {
      if (ownerOf(rules, doc) !== name) continue;
      hold(db, doc._id);
      yield { section: 'databases', db, doc: await withAttachments(db, doc) };
    }
  }
  for await (const doc of allDocs(nano, opts.archiveDb)) {
    const archived = doc.doc as Record<string, unknown> | undefined;
    const ownsDoc = held.get(doc.db as string)?.has(doc.doc_id as string) ?? false;
    if (doc.user === name || ownsDoc || (archived && ownerOf(rules, archived) === name)) {
      yield { section: 'conflict_archive', doc };
    }
  }
  for (const [db, docs] of held) {
    const ids = new Set([...docs].map((id) => contributionId(db, id)));
    const prefix = contributionId(db, '');
    for await (const c of allDocs(nano, opts.aggregatesDb, {
      startkey: prefix,
      endkey: `${prefix}\ufff0`,
    })) {
      if (ids.has(c._id)) yield { section: 'aggregate_contributions', doc: c };
    }
  }
}

/** The document at the revision listed, attachments inline; null when it went meanwhile. */
async function docWithAttachments(
  nano: Nano.ServerScope,
  db: string,
  doc: Doc,
): Promise<Doc | null> {
  try {
    return (await nano.request({
      db,
      doc: doc._id,
      qs: { rev: doc._rev, attachments: true },
      headers: { accept: 'application/json' },
    })) as Doc;
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

/** Every document of the person, collected (an erasure: ids and revisions, no attachments). */
export async function findSubjectDocs(
  nano: Nano.ServerScope,
  rules: RuleSet,
  name: string,
  opts: { attachments: boolean; aggregatesDb: string; archiveDb: string },
): Promise<SubjectDocs> {
  const out: SubjectDocs = { databases: {}, conflict_archive: [], aggregate_contributions: [] };
  for await (const found of walkSubject(nano, rules, name, opts)) {
    if (found.section === 'databases') (out.databases[found.db] ??= []).push(found.doc);
    else out[found.section].push(found.doc);
  }
  return out;
}
