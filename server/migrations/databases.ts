import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';
import type { FleetScope } from '../provisioning/names.js';

/** Names per `_all_dbs` request: a fleet of 100,000 is 100 small responses, not one huge one. */
export const LIST_PAGE_SIZE = 1000;

/**
 * The names of every user and team database of the fleet (FLEET_NAME_PREFIX), sorted, after `startAfter` when given (to resume
 * a rollout). Only the `team-…` and `userdb-…` parts of `_all_dbs` are read, a page at a
 * time; the names themselves are small enough to hold (40 bytes each), which gives the
 * progress bar its total before any work starts.
 */
export async function listFleet(
  nano: Nano.ServerScope,
  scope: FleetScope,
  opts: { startAfter?: string | null; pageSize?: number } = {},
): Promise<string[]> {
  const pageSize = opts.pageSize ?? LIST_PAGE_SIZE;
  const after = opts.startAfter ?? '';
  const names: string[] = [];
  for (const [lo, hi] of scope.ranges) {
    if (after >= hi) continue;
    let cursor = after > lo ? after : lo;
    for (;;) {
      const page = await allDbs(nano, cursor, hi, pageSize + 1);
      // startkey is inclusive: the cursor itself (already listed, or `startAfter`) is dropped.
      // (the range starts alone are not fleet names, so dropping them loses nothing.)
      names.push(...page.filter((n) => n > cursor && scope.has(n)));
      if (page.length < pageSize + 1) break;
      cursor = page[page.length - 1] as string;
    }
  }
  return names;
}

async function allDbs(
  nano: Nano.ServerScope,
  startkey: string,
  endkey: string,
  limit: number,
): Promise<string[]> {
  try {
    return (await nano.request({ path: '_all_dbs', qs: { startkey, endkey, limit } })) as string[];
  } catch (err) {
    throw cleanCouchError(err);
  }
}
