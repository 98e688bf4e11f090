import type Nano from 'nano';
import { cleanCouchError } from '../errors.js';

/** How often a creation that lost a design-document conflict asks again. */
const ATTEMPTS = 5;

/**
 * Creates Mango indexes unless they exist (CouchDB then answers `exists`), one after the
 * other. CouchDB 3.5 keeps the indexes of one `ddoc` in one design document, so two
 * creations at once (two indexes of the same ddoc, or two instances starting together)
 * can meet: the loser gets `error_saving_ddoc` ("Encountered a conflict while saving the
 * design document") and simply asks again, when the winner's index is there.
 */
export async function ensureMangoIndexes(
  db: Pick<Nano.DocumentScope<unknown>, 'createIndex'>,
  indexes: readonly Nano.CreateIndexRequest[],
): Promise<void> {
  for (const index of indexes) {
    for (let attempt = 1; ; attempt++) {
      try {
        await db.createIndex(index);
        break;
      } catch (err) {
        const lost = (err as { error?: unknown } | null)?.error === 'error_saving_ddoc';
        if (!lost || attempt >= ATTEMPTS) throw cleanCouchError(err);
      }
    }
  }
}
