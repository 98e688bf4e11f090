import type Nano from 'nano';
import { getUserView } from '../accounts/admin.js';
import type { AccountsContext } from '../accounts/context.js';
import type { UserView } from '../accounts/views.js';
import type { RuleSet } from '../rules/load.js';
import type { AuditLog } from '../audit/audit.js';
import { walkSubject, type Found } from './subject.js';

/** The account, or null when there is none (deleted, or never existed). */
export async function accountOf(ctx: AccountsContext, name: string): Promise<UserView | null> {
  try {
    return await getUserView(ctx, name);
  } catch (err) {
    if ((err as { code?: string }).code === 'SAWA_USER_NOT_FOUND') return null;
    throw err;
  }
}

export interface ExportCounts extends Record<string, number> {
  documents: number;
  databases: number;
  conflict_archive: number;
  aggregate_contributions: number;
}

/**
 * Everything Sawa holds about one person (docs/data-protection.md, "Access") as JSON text,
 * piece by piece: the same object an export always was (`subject`, `generated_at`,
 * `account`, `databases`, `conflict_archive`, `aggregate_contributions`, `audit`), written
 * while it is read, so memory holds a page of documents, not the person's whole data.
 * `done` runs with the counts before the closing brace: if it throws (the audit entry could
 * not be written), the text stays unfinished, so no reader takes it for a whole export.
 * An error anywhere does the same: the caller ends the answer without its last chunk.
 */
export async function* exportSubject(deps: {
  nano: Nano.ServerScope;
  rules: RuleSet;
  audit: AuditLog;
  aggregatesDb: string;
  archiveDb: string;
  name: string;
  account: UserView | null;
  done: (counts: ExportCounts) => Promise<void>;
}): AsyncGenerator<string> {
  const j = JSON.stringify;
  yield `{"subject":${j(deps.name)},"generated_at":${j(new Date().toISOString())},"account":${j(deps.account)},"databases":{`;
  const counts: ExportCounts = {
    documents: 0,
    databases: 0,
    conflict_archive: 0,
    aggregate_contributions: 0,
  };
  let section: Found['section'] = 'databases';
  let db: string | null = null;
  let first = true;
  for await (const found of walkSubject(deps.nano, deps.rules, deps.name, {
    attachments: true,
    aggregatesDb: deps.aggregatesDb,
    archiveDb: deps.archiveDb,
  })) {
    let head = '';
    if (found.section === 'databases' && found.db !== db) {
      head = `${db === null ? '' : '],'}${j(found.db)}:[`;
      db = found.db;
      counts.databases++;
      first = true;
    }
    if (found.section !== section) {
      head = `${closeSection(section, db)}${j(found.section)}:[`;
      section = found.section;
      first = true;
    }
    if (found.section === 'databases') counts.documents++;
    else counts[found.section]++;
    yield `${head}${first ? '' : ','}${j(found.doc)}`;
    first = false;
  }
  // The sections nothing was found for, empty.
  for (const next of ['conflict_archive', 'aggregate_contributions'] as const) {
    if (SECTIONS.indexOf(next) <= SECTIONS.indexOf(section)) continue;
    yield `${closeSection(section, db)}${j(next)}:[`;
    section = next;
  }
  yield `${closeSection(section, db)}"audit":[`;
  let cursor: string | undefined;
  first = true;
  do {
    const page = await deps.audit.list({ subject: deps.name }, 500, cursor);
    for (const entry of page.entries) {
      yield `${first ? '' : ','}${j(entry)}`;
      first = false;
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  await deps.done(counts);
  yield ']}';
}

const SECTIONS: Array<Found['section']> = [
  'databases',
  'conflict_archive',
  'aggregate_contributions',
];

/** What ends a section: the database's list and the object for `databases`, the list otherwise. */
function closeSection(section: Found['section'], db: string | null): string {
  if (section === 'databases') return db === null ? '},' : ']},';
  return '],';
}
