import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB, { type Database } from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { proxyAuthHeaders } from '../server/couch/proxy-auth.js';
import { fieldRecords } from './gateway-records.js';
import { Meter } from './gateway-meter.js';
import { startStack } from './gateway-stack.js';

PouchDB.plugin(MemoryAdapter);

/**
 * The sync gateway under a field agent's first sync: 10,000 farmer and visit records pulled
 * to a fresh phone, then an incremental sync with nothing new, through the gateway (gzip,
 * as a stock PouchDB on Node asks, and brotli, as a phone that asks for it gets) and
 * directly against the store as the same user (proxy authentication, no compression). The
 * store and the service run in their own processes; the phone is a stock PouchDB here.
 */

export interface SyncFigure {
  path: 'direct' | 'gateway gzip' | 'gateway br';
  sync: 'first' | 'incremental';
  docs: number;
  ms: number;
  docsPerSec: number;
  /** Bytes on the wire, both ways, headers included, counted at the phone's sockets. */
  wireBytes: number;
  bytesPerDoc: number;
  /** wireBytes over the raw JSON of the records synced. */
  shareOfRaw: number;
  roundTrips: number;
}

export interface GatewayBench {
  records: number;
  /** JSON of the records as the phone stores them (`_id`, `_rev` and fields). */
  rawJsonBytes: number;
  figures: SyncFigure[];
  targets: { firstSyncShare: number; timeRatio: number; incrementalBytes: number };
}

const USER = 'agent-bench';
const SEED_BATCH = 1000;

export async function run(opts: { records?: number } = {}): Promise<GatewayBench> {
  const n = opts.records ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-gateway-'));
  // The rate limit is the gateway's, but a first sync of 10,000 records at full LAN speed is
  // not what it is tuned for; lifted so the figure is the proxy's cost.
  const stack = await startStack(dir, { SYNC_RATE_LIMIT_PER_MIN: '100000' });
  try {
    const signup = await fetch(`${stack.service}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: USER, password: 'bench-password-123' }),
    });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
    const auth = (await signup.json()) as { access_token: string; dbs: { user: string } };
    const db = auth.dbs.user;
    await seed(stack.store, stack.adminAuth, db, fieldRecords(n, USER));

    const bearer = { authorization: `Bearer ${auth.access_token}` };
    const asUser = proxyAuthHeaders({ name: USER, roles: ['agent'], secret: stack.proxySecret });
    const paths: { path: SyncFigure['path']; url: string; headers: Record<string, string> }[] = [
      { path: 'direct', url: `${stack.store}/${db}`, headers: asUser },
      { path: 'gateway gzip', url: `${stack.service}/sync/${db}`, headers: bearer },
      { path: 'gateway br', url: `${stack.service}/sync/${db}`, headers: { ...bearer, 'accept-encoding': 'br, gzip' } },
    ];

    // Warm the store's caches once so neither path pays for a cold LevelDB.
    await syncTwice(paths[0]!.url, paths[0]!.headers);
    const figures: SyncFigure[] = [];
    let rawJsonBytes = 0;
    for (const p of paths) {
      const { first, incremental, phone } = await syncTwice(p.url, p.headers);
      if (!rawJsonBytes) rawJsonBytes = await rawJson(phone);
      figures.push(figure(p.path, 'first', first, rawJsonBytes), figure(p.path, 'incremental', incremental, rawJsonBytes));
    }
    const by = (path: SyncFigure['path'], sync: SyncFigure['sync']) =>
      figures.find((f) => f.path === path && f.sync === sync) as SyncFigure;
    return {
      records: n,
      rawJsonBytes,
      figures,
      targets: {
        firstSyncShare: by('gateway gzip', 'first').shareOfRaw,
        timeRatio: by('gateway gzip', 'first').ms / by('direct', 'first').ms,
        incrementalBytes: by('gateway gzip', 'incremental').wireBytes,
      },
    };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Measured {
  docs: number;
  ms: number;
  bytes: number;
  requests: number;
}

/** A fresh phone's first pull, then a pull with nothing new, each on a fresh connection. */
async function syncTwice(url: string, headers: Record<string, string>) {
  const phone = new PouchDB(`bench-phone-${Math.random().toString(36).slice(2)}`, { adapter: 'memory' });
  const once = async (): Promise<Measured> => {
    const meter = new Meter();
    const remote = meter.db(url, () => headers);
    const t0 = performance.now();
    const result = await phone.replicate.from(remote);
    const ms = performance.now() - t0;
    meter.close();
    if (!result.ok || result.doc_write_failures) throw new Error(`sync failed: ${JSON.stringify(result.errors)}`);
    return { docs: result.docs_written, ms, bytes: meter.bytes, requests: meter.requests };
  };
  const first = await once();
  const incremental = await once();
  return { first, incremental, phone };
}

function figure(path: SyncFigure['path'], sync: SyncFigure['sync'], m: Measured, raw: number): SyncFigure {
  return {
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

async function seed(store: string, adminAuth: string, db: string, docs: Record<string, unknown>[]) {
  for (let i = 0; i < docs.length; i += SEED_BATCH) {
    const res = await fetch(`${store}/${db}/_bulk_docs`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ docs: docs.slice(i, i + SEED_BATCH) }),
    });
    const out = (await res.json()) as { error?: string }[];
    const failed = out.filter((r) => r.error);
    if (res.status !== 201 || failed.length) throw new Error(`seed: ${res.status} ${JSON.stringify(failed[0])}`);
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
  const rows = b.figures.map(
    (f) =>
      `| ${f.path} | ${f.sync} | ${f.docs} | ${f.ms} | ${f.docsPerSec} | ${kb(f.wireBytes)} | ${f.bytesPerDoc || '—'} | ${f.sync === 'first' ? (f.shareOfRaw * 100).toFixed(1) + ' %' : '—'} | ${f.roundTrips} |`,
  );
  const t = b.targets;
  return [
    `${b.records} records, ${kb(b.rawJsonBytes)} KiB of raw JSON (${Math.round(b.rawJsonBytes / b.records)} bytes each)`,
    '',
    '| path | sync | docs | ms | docs/s | wire KiB | bytes/doc | of raw JSON | round trips |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- first sync on the wire (gzip): ${(t.firstSyncShare * 100).toFixed(1)} % of raw JSON (target ≤ 40 %)`,
    `- gateway time / direct time: ${t.timeRatio.toFixed(2)}× (target ≤ 1.25×)`,
    `- incremental sync with nothing new: ${t.incrementalBytes} bytes (target < 2048)`,
  ].join('\n');
}

// `npx tsx bench/gateway.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(report(await run()) + '\n');
}
