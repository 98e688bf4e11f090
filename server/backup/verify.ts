import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { liveListing, summarize } from './listing.js';
import type { Manifest } from './manifest.js';

export interface DbCheck {
  db: string;
  ok: boolean;
  problems: string[];
}

/**
 * Compares each database of a backup set with the live one: document counts (CouchDB's
 * doc_count and doc_del_count), the checksum of the canonical listing, and `_security`.
 */
export async function verify(
  nano: Nano.ServerScope,
  set: Manifest,
  only?: string[],
): Promise<DbCheck[]> {
  const checks: DbCheck[] = [];
  for (const [db, want] of Object.entries(set.databases)) {
    if (only && !only.includes(db)) continue;
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
    if (canonicalJson(security) !== canonicalJson(want.security))
      problems.push('_security differs');
    checks.push({ db, ok: problems.length === 0, problems });
  }
  return checks;
}

/** JSON with object keys sorted, so two equal objects compare equal as text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
