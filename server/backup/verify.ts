import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { liveListing, summarize } from './listing.js';
import type { Manifest } from './manifest.js';
import { sameSecurityMeaning } from './security.js';
import { matchesPatterns } from './scope.js';

export interface DbCheck {
  db: string;
  ok: boolean;
  problems: string[];
}

/**
 * Compares each database of a backup set with the live one: document counts (CouchDB's
 * doc_count and doc_del_count), the checksum of the canonical listing, and `_security`. A
 * database whose backup skipped documents (unreadable when it was made) is never reported
 * complete: each skipped document is a problem, named with its reason.
 */
export async function verify(
  nano: Nano.ServerScope,
  set: Manifest,
  /** Names, or prefixes ending in `*`; default every database of the set. */
  only?: string[],
  /** Where each database was restored to, when not under its own name. */
  rename?: (db: string) => string,
): Promise<DbCheck[]> {
  const checks: DbCheck[] = [];
  for (const [name, want] of Object.entries(set.databases)) {
    if (only && !matchesPatterns(only, name)) continue;
    const db = rename?.(name) ?? name;
    const problems: string[] = [];
    let info: { doc_count: number; doc_del_count: number };
    try {
      info = (await nano.request({ db })) as typeof info;
    } catch (err) {
      if (couchStatus(err) === 404) {
        checks.push({ db, ok: false, problems: ['missing'] });
        continue;
      }
      throw cleanCouchError(err);
    }
    const live = summarize(await liveListing(nano, db));
    const security = (await nano.request({ db, path: '_security' }).catch((err: unknown) => {
      throw cleanCouchError(err);
    })) as Record<string, unknown>;
    if (info.doc_count !== want.docs)
      problems.push(`doc_count ${info.doc_count}, backup ${want.docs}`);
    if (info.doc_del_count !== want.deleted) {
      problems.push(`doc_del_count ${info.doc_del_count}, backup ${want.deleted}`);
    }
    if (live.leaves !== want.leaves)
      problems.push(`leaf revisions ${live.leaves}, backup ${want.leaves}`);
    if (live.checksum !== want.checksum)
      problems.push(`checksum ${live.checksum}, backup ${want.checksum}`);
    if (!sameSecurityMeaning(security, want.security)) problems.push('_security differs');
    for (const s of want.skipped ?? []) {
      problems.push(`document ${JSON.stringify(s.id)} is not in the backup: ${s.reason}`);
    }
    checks.push({ db, ok: problems.length === 0, problems });
  }
  return checks;
}
