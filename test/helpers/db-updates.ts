import type Nano from 'nano';
import { couchStatus } from '../../server/errors.js';

/**
 * Waits until `_db_updates` lists every write made before the call. CouchDB's
 * `_global_changes` lists a write 200-500 ms after it is acknowledged (the embedded store
 * does the same with STORE_DB_UPDATES_DELAY_MS), so a job run that must see what a test just
 * wrote waits for this first. A write to `marker` (a database of the test's own, made here)
 * goes into the same batches as the writes before it: once it is listed, so are they.
 * Without `_global_changes` (404) there is nothing to wait for.
 */
export async function dbUpdatesSettled(
  nano: Nano.ServerScope,
  marker: string,
  timeoutMs = 10_000,
): Promise<void> {
  let since: string;
  try {
    const now = (await nano.request({ path: '_db_updates', qs: { since: 'now' } })) as {
      last_seq: unknown;
    };
    since = String(now.last_seq);
  } catch (err) {
    if (couchStatus(err) === 404) return;
    throw err;
  }
  await nano.db.create(marker).catch((err: unknown) => {
    if (couchStatus(err) !== 412) throw err;
  });
  await nano.use(marker).insert({ at: Date.now() } as never);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const res = (await nano.request({ path: '_db_updates', qs: { since, feed: 'normal' } })) as {
      results: Array<{ db_name: string }>;
    };
    if (res.results.some((r) => r.db_name === marker)) return;
    if (Date.now() > end) throw new Error(`_db_updates did not list ${marker} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
