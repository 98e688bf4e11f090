import type Nano from 'nano';
import { getUserView } from '../accounts/admin.js';
import type { AccountsContext } from '../accounts/context.js';
import type { UserView } from '../accounts/views.js';
import type { RuleSet } from '../rules/load.js';
import type { AuditLog, StoredEntry } from '../audit/audit.js';
import { findSubjectDocs, type SubjectDocs } from './subject.js';

export interface SubjectExport extends SubjectDocs {
  subject: string;
  generated_at: string;
  /** The user record without secrets (no password hash, no tokens); null when none is left. */
  account: UserView | null;
  /** Staff access to this person's data, and the privacy actions about them. */
  audit: StoredEntry[];
}

/** The account, or null when there is none (deleted, or never existed). */
export async function accountOf(ctx: AccountsContext, name: string): Promise<UserView | null> {
  try {
    return await getUserView(ctx, name);
  } catch (err) {
    if ((err as { code?: string }).code === 'SAWA_USER_NOT_FOUND') return null;
    throw err;
  }
}

/** Everything Sawa holds about one person (docs/data-protection.md, "Access"). */
export async function exportSubject(deps: {
  nano: Nano.ServerScope;
  rules: RuleSet;
  audit: AuditLog;
  aggregatesDb: string;
  archiveDb: string;
  name: string;
  account: UserView | null;
}): Promise<SubjectExport> {
  const docs = await findSubjectDocs(deps.nano, deps.rules, deps.name, {
    attachments: true,
    aggregatesDb: deps.aggregatesDb,
    archiveDb: deps.archiveDb,
  });
  const audit: StoredEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.audit.list({ subject: deps.name }, 500, cursor);
    audit.push(...page.entries);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return {
    subject: deps.name,
    generated_at: new Date().toISOString(),
    account: deps.account,
    ...docs,
    audit,
  };
}

export function countOf(data: SubjectDocs): Record<string, number> {
  return {
    documents: Object.values(data.databases).reduce((n, d) => n + d.length, 0),
    databases: Object.keys(data.databases).length,
    conflict_archive: data.conflict_archive.length,
    aggregate_contributions: data.aggregate_contributions.length,
  };
}
