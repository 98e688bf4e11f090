import { randomBytes } from 'node:crypto';
import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';

PouchDB.plugin(MemoryAdapter);

/** The phones of `npm run bench live`: each holds a live pull and notes when a document came. */
export interface Phone {
  /** Document id → when the phone had it (performance.now()). */
  arrived: Map<string, number>;
  /** Resolves once the phone's first live `_changes` request has gone out. */
  waiting: Promise<void>;
  stop(): void;
}

export interface PhoneUser {
  token: string;
  db: string;
}

/** A stock PouchDB (memory adapter) replicating from `/sync/{db}` with `live: true, retry: true`. */
export function pouchPhone(base: string, user: PhoneUser, i: number): Phone {
  const local = new PouchDB(`fleet-phone-${i}-${Math.random().toString(36).slice(2)}`, {
    adapter: 'memory',
  });
  let wait: () => void = () => undefined;
  const waiting = new Promise<void>((r) => (wait = r));
  const remote = new PouchDB(`${base}/sync/${user.db}`, {
    fetch: (u: string | Request, opts?: RequestInit) => {
      if (String(u).includes('feed=longpoll')) wait();
      const headers = new Headers(opts?.headers);
      headers.set('authorization', `Bearer ${user.token}`);
      return PouchDB.fetch(u, { ...opts, headers });
    },
  } as never);
  const arrived = new Map<string, number>();
  const rep = local.replicate.from(remote, { live: true, retry: true });
  rep.on('error', () => undefined);
  rep.on('change', (info: { docs: Array<{ _id: string }> }) => {
    const now = performance.now();
    for (const d of info.docs) if (!arrived.has(d._id)) arrived.set(d._id, now);
  });
  return { arrived, waiting, stop: () => rep.cancel() };
}

/**
 * A phone that makes exactly the requests PouchDB's live pull makes through the gateway,
 * without a local database: the database's info and its checkpoint, then a longpoll
 * `_changes` (`style=all_docs`, `heartbeat=10000`, `limit=100`) after another; after each
 * answer with changes, `_bulk_get` (`revs=true&attachments=true`) of what changed and the
 * checkpoint written back. It starts where an already-synced phone's checkpoint would: the
 * database's current `update_seq`. Light enough to run 10,000 in one process.
 */
export function lightPhone(base: string, user: PhoneUser): Phone {
  const db = `${base}/sync/${user.db}`;
  const abort = new AbortController();
  const headers = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  const arrived = new Map<string, number>();
  const checkpoint = `_local/${randomBytes(8).toString('hex')}`;
  let checkpointRev: string | undefined;
  let wait: () => void = () => undefined;
  const waiting = new Promise<void>((r) => (wait = r));
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(db + path, { ...init, headers, signal: abort.signal });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, body };
  };

  let since: unknown = null;
  void keepSyncing(abort.signal, async () => {
    if (since === null) {
      const info = await call('/');
      if (info.status !== 200) throw new Error(`info ${info.status}`);
      const cp = await call(`/${checkpoint}`);
      if (cp.status === 200) checkpointRev = cp.body._rev as string;
      since = info.body.update_seq;
    }
    const q = new URLSearchParams({
      style: 'all_docs',
      feed: 'longpoll',
      heartbeat: '10000',
      since: seqParam(since),
      limit: '100',
    });
    const pending = call(`/_changes?${q}`);
    wait();
    const changes = await pending;
    if (changes.status !== 200) throw new Error(`changes ${changes.status}`);
    const results = changes.body.results as Array<{ id: string; changes: { rev: string }[] }>;
    if (results.length > 0) {
      const docs = results.flatMap((r) => r.changes.map((c) => ({ id: r.id, rev: c.rev })));
      const got = await call('/_bulk_get?revs=true&attachments=true', {
        method: 'POST',
        body: JSON.stringify({ docs }),
      });
      if (got.status !== 200) throw new Error(`bulk_get ${got.status}`);
      const now = performance.now();
      for (const r of results) if (!arrived.has(r.id)) arrived.set(r.id, now);
      const put = await call(`/${checkpoint}`, {
        method: 'PUT',
        body: JSON.stringify({
          _id: checkpoint,
          ...(checkpointRev ? { _rev: checkpointRev } : {}),
          last_seq: changes.body.last_seq,
          session_id: 'bench',
        }),
      });
      if (put.status === 201) checkpointRev = put.body.rev as string;
    }
    since = changes.body.last_seq;
  });
  return { arrived, waiting, stop: () => abort.abort() };
}

/**
 * A phone holding a continuous `_changes` (`style=all_docs`, `heartbeat=10000`) instead of
 * longpolls, as a client that follows a database does: each line with a change is noted as
 * arrived (no `_bulk_get`), and when the feed ends it reconnects from the `last_seq` it was
 * given. It starts at the database's current `update_seq`. With `feed` `eventsource` it
 * reads server-sent events instead (`data:` rows, `id:` lines) and reconnects as a browser's
 * EventSource does, with the last id as Last-Event-ID.
 */
export function continuousPhone(
  base: string,
  user: PhoneUser,
  feed: 'continuous' | 'eventsource' = 'continuous',
): Phone {
  const db = `${base}/sync/${user.db}`;
  const abort = new AbortController();
  const headers = { authorization: `Bearer ${user.token}` };
  const arrived = new Map<string, number>();
  let wait: () => void = () => undefined;
  const waiting = new Promise<void>((r) => (wait = r));

  async function follow(since: unknown): Promise<unknown> {
    const q = new URLSearchParams({
      style: 'all_docs',
      feed,
      heartbeat: '10000',
      since: seqParam(since),
    });
    const lastId: Record<string, string> =
      feed === 'eventsource' ? { 'last-event-id': seqParam(since) } : {};
    const res = await fetch(`${db}/_changes?${q}`, {
      headers: { ...headers, ...lastId },
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`changes ${res.status}`);
    wait();
    let rest = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += Buffer.from(chunk).toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() as string;
      for (const line of lines) {
        // A heartbeat (an empty line, or an event's `event:` and empty `data:`).
        if (feed === 'eventsource') {
          if (line.startsWith('id: ')) since = JSON.parse(line.slice(4)) as unknown;
          if (!line.startsWith('data: {')) continue;
        } else if (line === '') continue;
        const row = JSON.parse(line.replace(/^data: /, '')) as {
          id?: string;
          seq?: unknown;
          last_seq?: unknown;
        };
        if (row.id !== undefined && !arrived.has(row.id)) arrived.set(row.id, performance.now());
        since = row.last_seq ?? row.seq ?? since;
      }
    }
    return since;
  }

  let since: unknown = null;
  void keepSyncing(abort.signal, async () => {
    if (since === null) {
      const info = await fetch(`${db}/`, { headers, signal: abort.signal });
      if (info.status !== 200) throw new Error(`info ${info.status}`);
      since = ((await info.json()) as { update_seq: unknown }).update_seq;
    }
    since = await follow(since);
  });
  return { arrived, waiting, stop: () => abort.abort() };
}

/**
 * `step` again and again until `signal` aborts; after a failure it waits (1 s doubling to
 * 10 s) and tries again, as PouchDB's live replication does, resuming from what `step` kept.
 */
async function keepSyncing(signal: AbortSignal, step: () => Promise<void>): Promise<void> {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      await step();
      backoff = 1000;
    } catch {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

/** A sequence as a query parameter: CouchDB's are strings, other stores' may be numbers. */
const seqParam = (since: unknown): string =>
  typeof since === 'string' ? since : JSON.stringify(since);
