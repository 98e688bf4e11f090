import type Nano from 'nano';
import { withRequestSignal } from '../util/request-signal.js';

export interface ChangeRow {
  id: string;
  deleted?: boolean;
  /** The document as the feed read it (`includeDocs`). */
  doc?: unknown;
}

export interface FollowHandlers {
  /** Documents changed since the last batch, in the feed's order (a batch may repeat ids). */
  changes(rows: ChangeRow[]): void;
  /**
   * The follower lost the feed (an error, a restart): whatever was derived from it may be
   * stale until `live` is true again.
   */
  gap(): void;
}

export interface Follower {
  /** True while the feed is known to be current: the last request answered and the next is out. */
  readonly live: boolean;
  stop(): void;
}

interface ChangesAnswer {
  results: ChangeRow[];
  last_seq: string | number;
}

const LONGPOLL_MS = 55_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * One `_changes` follower for a database, shared by whatever in the process needs to hear
 * about its writes (the user cache above all). It starts at the database's current end
 * (`since=now`), then holds one longpoll at a time from the last `last_seq`
 * it saw, so no change between two requests is missed. After a failure it reports a gap,
 * waits (1 s doubling to 30 s), catches up from the same sequence and is live again.
 */
export function followChanges(
  nano: Nano.ServerScope,
  db: string,
  handlers: FollowHandlers,
  log: { warn(obj: object, msg: string): void },
  opts: { includeDocs?: boolean } = {},
): Follower {
  const abort = new AbortController();
  let live = false;
  let since: string | number | null = null;
  let backoff = 1000;

  const ask = (qs: Record<string, string | number | boolean>) =>
    withRequestSignal(
      abort.signal,
      (signal) =>
        nano.request({ db, path: '_changes', qs, signal } as never) as Promise<ChangesAnswer>,
    );

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        if (since === null) {
          // `since=now`: the documented way to the end of a clustered database's feed
          // (`descending=true&limit=1` is not a strict reverse across shards).
          const end = await ask({ since: 'now' });
          since = end.last_seq;
          live = true;
        } else {
          const docs: Record<string, boolean> = opts.includeDocs ? { include_docs: true } : {};
          const res = await ask(
            live ? { feed: 'longpoll', since, timeout: LONGPOLL_MS, ...docs } : { since, ...docs },
          );
          if (res.results.length) handlers.changes(res.results);
          since = res.last_seq;
          live = true;
        }
        backoff = 1000;
      } catch (err) {
        if (abort.signal.aborted) return;
        if (live) log.warn({ db, err: String(err) }, 'lost the changes feed; retrying');
        live = false;
        handlers.gap();
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
  void loop();
  return {
    get live() {
      return live && !abort.signal.aborted;
    },
    stop() {
      live = false;
      abort.abort();
      handlers.gap();
    },
  };
}
