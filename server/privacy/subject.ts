import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
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

export async function findSubjectDocs(
  nano: Nano.ServerScope,
  rules: RuleSet,
  name: string,
  opts: { attachments: boolean; aggregatesDb: string; archiveDb: string },
): Promise<SubjectDocs> {
  const databases: Record<string, Doc[]> = {};
  const own = userDbName(name);
  const ownDocs: Doc[] = [];
  for await (const doc of allDocs(nano, own, opts)) {
    // The server's purge instructions hold ids only: not the person's data.
    if (doc.type !== 'sawa_purge') ownDocs.push(doc);
  }
  if (ownDocs.length) databases[own] = ownDocs;
  for (const db of await teamDbs(nano)) {
    const mine: Doc[] = [];
    for await (const doc of allDocs(nano, db, opts)) {
      if (ownerOf(rules, doc) === name) mine.push(doc);
    }
    if (mine.length) databases[db] = mine;
  }
  const conflict_archive: Doc[] = [];
  for await (const doc of allDocs(nano, opts.archiveDb, opts)) {
    const archived = doc.doc as Record<string, unknown> | undefined;
    const ownsDoc = (databases[doc.db as string] ?? []).some((d) => d._id === doc.doc_id);
    if (doc.user === name || ownsDoc || (archived && ownerOf(rules, archived) === name)) {
      conflict_archive.push(doc);
    }
  }
  const aggregate_contributions: Doc[] = [];
  for (const [db, docs] of Object.entries(databases)) {
    const ids = new Set(docs.map((d) => contributionId(db, d._id)));
    const prefix = contributionId(db, '');
    for await (const c of allDocs(nano, opts.aggregatesDb, {
      startkey: prefix,
      endkey: `${prefix}\ufff0`,
    })) {
      if (ids.has(c._id)) aggregate_contributions.push(c);
    }
  }
  return { databases, conflict_archive, aggregate_contributions };
}
