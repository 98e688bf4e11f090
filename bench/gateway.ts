import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB, { type Database } from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { proxyAuthHeaders } from '../server/couch/proxy-auth.js';
import { fieldRecords, type IdStyle } from './gateway-records.js';
import { Meter } from './gateway-meter.js';
import { startStack } from './gateway-stack.js';
import { measureHop, reportHop, type HopFigure } from './gateway-hop.js';

PouchDB.plugin(MemoryAdapter);

/**
 * The sync gateway under a field agent's first sync: 10,000 farmer and visit records pulled
 * to a fresh phone, then an incremental sync with nothing new. Four ways in:
 *   - direct: a stock PouchDB against the store as the same user (proxy authentication),
 *     no compression, default batches of 100: the baseline for `gateway`;
 *   - gateway: the same PouchDB through the gateway with DESIGN.md's fetch wrapper (Bearer
 *     only; node-fetch asks for gzip);
 *   - direct 500: as direct with `batch_size: 500`, the baseline for `gateway lean`;
 *   - gateway lean: the client we recommend in docs/gateway.md: batches of 500, asks for
 *     brotli, gzips request bodies (PouchDB's `_bulk_get` requests list every id and rev).
 * Two record sets: random UUID ids and time-ordered ids (see gateway-records.ts). The store
 * and the service run in their own processes; the phone is this process. Then one request on
 * its own (a checkpoint read), direct and through the gateway: what the hop adds to each.
 */

export type Path = 'direct' | 'gateway' | 'direct 500' | 'gateway lean';

export interface SyncFigure {
  ids: IdStyle;
  path: Path;
  sync: 'first' | 'incremental';
  docs: number;
  ms: number;
  docsPerSec: number;
  /** Bytes on the wire, both ways, headers included, counted at the phone's sockets. */
  wireBytes: number;
  bytesPerDoc: number;
  /** wireBytes over the raw JSON of the records synced (first sync). */
  shareOfRaw: number;
  roundTrips: number;
}

export interface GatewayBench {
  records: number;
  /** JSON of the records as the phone stores them (`_id`, `_rev` and fields), per id style. */
  rawJsonBytes: Record<IdStyle, number>;
  figures: SyncFigure[];
  /** one request on its own, direct and through the gateway */
  hop: HopFigure[];
}

const SEED_BATCH = 1000;
/** Each path syncs this many times, the paths taking turns; the fastest first sync counts. */
const TRIES = 2;
const ID_STYLES: IdStyle[] = ['uuid', 'ordered'];

export async function run(opts: { records?: number } = {}): Promise<GatewayBench> {
  const n = opts.records ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-gateway-'));
  // The rate limit is the gateway's, but a first sync of 10,000 records at LAN speed is not
  // what it is tuned for; lifted so the figure is the proxy's cost. Jobs off: the service's
  // jobs (reconciler, aggregator) read the seeded database while the syncs ran, loading the
  // store (and the service) under whichever path they happened to overlap.
  const stack = await startStack(dir, { SYNC_RATE_LIMIT_PER_MIN: '1000000', JOBS_ENABLED: 'none' });
  const figures: SyncFigure[] = [];
  const rawJsonBytes = {} as Record<IdStyle, number>;
  let hop: HopFigure[] = [];
  try {
    for (const ids of ID_STYLES) {
      const user = `agent-${ids}`;
      const auth = await signup(stack.service, user);
      await seed(stack.store, stack.adminAuth, auth.db, fieldRecords(n, user, ids));
      const bearer = { authorization: `Bearer ${auth.token}` };
      const asUser = proxyAuthHeaders({ name: user, roles: ['agent'], secret: stack.proxySecret });
      const direct = `${stack.store}/${auth.db}`;
      const gateway = `${stack.service}/sync/${auth.db}`;
      const lean = { ...bearer, 'accept-encoding': 'br, gzip' };
      const ways: Way[] = [
        { path: 'direct', url: direct, headers: asUser, gzip: false, batch: 100 },
        { path: 'gateway', url: gateway, headers: bearer, gzip: false, batch: 100 },
        { path: 'direct 500', url: direct, headers: asUser, gzip: false, batch: 500 },
        { path: 'gateway lean', url: gateway, headers: lean, gzip: true, batch: 500 },
      ];
      // Warm the store and the gateway once so no path pays for a cold LevelDB or a process
      // still compiling (only the store used to be warmed: the first path through the
      // gateway paid the service's warm-up, the direct one nothing).
      await syncTwice(ways[0] as Way);
      await syncTwice(ways[1] as Way);
      const best = new Map<Path, Awaited<ReturnType<typeof syncTwice>>>();
      for (let i = 0; i < TRIES; i++) {
        for (const w of ways) {
          const got = await syncTwice(w);
          const kept = best.get(w.path);
          if (!kept || got.first.ms < kept.first.ms) best.set(w.path, got);
        }
      }
      for (const w of ways) {
        const { first, incremental, phone } = best.get(w.path)!;
        rawJsonBytes[ids] ??= await rawJson(phone);
        figures.push(
          figure(ids, w.path, 'first', first, rawJsonBytes[ids]),
          figure(ids, w.path, 'incremental', incremental, rawJsonBytes[ids]),
        );
      }
      if (ids === 'uuid') {
        const checkpoint = `_local/bench-hop`;
        await fetch(`${direct}/${checkpoint}`, {
          method: 'PUT',
          headers: { ...asUser, 'content-type': 'application/json' },
          body: '{"last_seq":"0"}',
        });
        hop = await measureHop(
          [
            { name: 'direct', url: `${direct}/${checkpoint}`, headers: asUser },
            {
              name: 'gateway',
              url: `${gateway}/${checkpoint}`,
              headers: { ...bearer, 'accept-encoding': 'identity' },
            },
          ],
          stack.pids,
        );
      }
    }
    return { records: n, rawJsonBytes, figures, hop };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Way {
  path: Path;
  url: string;
  headers: Record<string, string>;
  /** gzip request bodies */
  gzip: boolean;
  batch: number;
}

interface Measured {
  docs: number;
  ms: number;
  bytes: number;
  requests: number;
}

/** A fresh phone's first pull, then a pull with nothing new, each on fresh connections. */
async function syncTwice(w: Way) {
  const phone = new PouchDB(`bench-phone-${Math.random().toString(36).slice(2)}`, {
    adapter: 'memory',
  });
  const once = async (): Promise<Measured> => {
    const meter = new Meter();
    const t0 = performance.now();
    const result = await phone.replicate.from(meter.db(w.url, w.headers, w.gzip), {
      batch_size: w.batch,
    });
    const ms = performance.now() - t0;
    await meter.close();
    if (!result.ok || result.doc_write_failures)
      throw new Error(`sync failed: ${JSON.stringify(result.errors)}`);
    return { docs: result.docs_written, ms, bytes: meter.bytes, requests: meter.requests };
  };
  const first = await once();
  const incremental = await once();
  return { first, incremental, phone };
}

function figure(
  ids: IdStyle,
  path: Path,
  sync: SyncFigure['sync'],
  m: Measured,
  raw: number,
): SyncFigure {
  return {
    ids,
    path,
    sync,
    docs: m.docs,
    ms: Math.round(m.ms),
    docsPerSec: m.docs ? Math.round(m.docs / (m.ms / 1000)) : 0,
    wireBytes: m.bytes,
    bytesPerDoc: m.docs ? Math.round(m.bytes / m.docs) : 0,
    shareOfRaw: sync === 'first' ? m.bytes / raw : 0,
    roundTrips: m.requests,
  };
}

export async function signup(
  service: string,
  username: string,
): Promise<{ token: string; db: string }> {
  const res = await fetch(`${service}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'bench-password-123' }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { access_token: string; dbs: { user: string } };
  return { token: body.access_token, db: body.dbs.user };
}

export async function seed(
  store: string,
  adminAuth: string,
  db: string,
  docs: Record<string, unknown>[],
) {
  for (let i = 0; i < docs.length; i += SEED_BATCH) {
    const res = await fetch(`${store}/${db}/_bulk_docs`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ docs: docs.slice(i, i + SEED_BATCH) }),
    });
    const out = (await res.json()) as { error?: string }[];
    const failed = out.filter((r) => r.error);
    if (res.status !== 201 || failed.length)
      throw new Error(`seed: ${res.status} ${JSON.stringify(failed[0])}`);
  }
}

/** The records as the phone holds them: JSON of each document, design documents aside. */
async function rawJson(phone: Database): Promise<number> {
  const all = await phone.allDocs({ include_docs: true });
  return all.rows
    .filter((r) => !String(r.id).startsWith('_design/'))
    .reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r.doc)), 0);
}

export function report(b: GatewayBench): string {
  const kb = (x: number) => (x / 1024).toFixed(1);
  const get = (ids: IdStyle, path: Path, sync: SyncFigure['sync']) =>
    b.figures.find((f) => f.ids === ids && f.path === path && f.sync === sync) as SyncFigure;
  const lines = [
    `${b.records} records; raw JSON ${ID_STYLES.map((s) => `${s} ids ${kb(b.rawJsonBytes[s])} KiB (${Math.round(b.rawJsonBytes[s] / b.records)} B/record)`).join(', ')}`,
    '',
    '| ids | path | sync | docs | ms | docs/s | wire KiB | bytes/doc | of raw JSON | round trips |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...b.figures.map(
      (f) =>
        `| ${f.ids} | ${f.path} | ${f.sync} | ${f.docs} | ${f.ms} | ${f.docsPerSec} | ${kb(f.wireBytes)} | ${f.bytesPerDoc || '—'} | ${f.sync === 'first' ? (f.shareOfRaw * 100).toFixed(1) + ' %' : '—'} | ${f.roundTrips} |`,
    ),
    '',
    `Each path synced ${TRIES} times, the paths taking turns; the fastest first sync is shown.`,
    '',
    ...reportHop(b.hop),
    '',
    'Targets (first sync ≤ 40 % of raw JSON on the wire; gateway time ≤ 1.1× direct; incremental < 2 KB):',
  ];
  for (const ids of ID_STYLES) {
    for (const [path, base] of [
      ['gateway', 'direct'],
      ['gateway lean', 'direct 500'],
    ] as const) {
      const first = get(ids, path, 'first');
      lines.push(
        `- ${ids} ids, ${path}: ${(first.shareOfRaw * 100).toFixed(1)} % of raw, ` +
          `${(first.ms / get(ids, base, 'first').ms).toFixed(2)}× ${base} time, ` +
          `incremental ${get(ids, path, 'incremental').wireBytes} B`,
      );
    }
  }
  return lines.join('\n');
}

// `npx tsx bench/gateway.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(report(await run()) + '\n');
}
