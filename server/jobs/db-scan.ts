import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import type { FleetScope } from '../provisioning/names.js';

/** Every user and team database of the fleet, from its key ranges of `_all_dbs`. */
export async function listPeopleDbs(nano: Nano.ServerScope, scope: FleetScope): Promise<string[]> {
  const out: string[] = [];
  for (const [startkey, endkey] of scope.ranges) {
    let res: string[];
    try {
      // nano JSON-encodes startkey and endkey itself.
      res = (await nano.request({ path: '_all_dbs', qs: { startkey, endkey } })) as string[];
    } catch (err) {
      throw cleanCouchError(err);
    }
    out.push(...res.filter(scope.has));
  }
  return out.sort();
}

/** CouchDB answers `_dbs_info` for at most this many databases a request (its default). */
const INFO_BATCH = 100;

/**
 * Each database's `update_seq` as `GET /{db}` gives it (databases deleted meanwhile are left
 * out), a hundred a request with `_dbs_info`, or one by one where that is missing.
 */
export async function updateSeqs(
  nano: Nano.ServerScope,
  dbs: readonly string[],
): Promise<Map<string, string>> {
  const seqs = new Map<string, string>();
  for (let i = 0; i < dbs.length; i += INFO_BATCH) {
    const keys = dbs.slice(i, i + INFO_BATCH);
    let rows: Array<{ key: string; info?: { update_seq?: unknown }; error?: string }>;
    try {
      rows = (await nano.request({
        path: '_dbs_info',
        method: 'POST',
        body: { keys },
      })) as typeof rows;
    } catch (err) {
      const status = couchStatus(err);
      if (status !== 404 && status !== 405 && status !== 400) throw cleanCouchError(err);
      rows = await oneByOne(nano, keys);
    }
    for (const r of rows) if (r.info) seqs.set(r.key, String(r.info.update_seq));
  }
  return seqs;
}

async function oneByOne(nano: Nano.ServerScope, keys: string[]) {
  const rows: Array<{ key: string; info?: { update_seq?: unknown } }> = [];
  for (const key of keys) {
    try {
      rows.push({ key, info: (await nano.request({ db: key })) as { update_seq?: unknown } });
    } catch (err) {
      if (couchStatus(err) !== 404) throw cleanCouchError(err);
    }
  }
  return rows;
}
