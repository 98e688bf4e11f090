import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Nano from 'nano';
import { aggregate } from '../server/jobs/aggregate/index.js';
import { userDbName } from '../server/provisioning/names.js';
import { fleetDbs } from '../server/provisioning/fleet-dbs.js';
import { loadConfig } from '../server/config.js';
import { spawnStore } from './spawn-store.js';

/**
 * The aggregator over many user databases of which few changed: what a run costs after the
 * first. The store runs in its own process behind a counting proxy, so "databases read" is
 * what CouchDB would see: requests per database path.
 */

export interface AggregateFigure {
  run: string;
  ms: number;
  /** User databases that received at least one request. */
  dbsRead: number;
  /** Requests to user databases. */
  userDbRequests: number;
  /** Requests to the reporting and jobs databases and the server (`_db_updates`, `_all_dbs`). */
  otherRequests: number;
  changes: number;
  buckets: number;
}

const DBS = 1000;
const CHANGED = 10;
const DOCS_PER_DB = 6;

/** A proxy that forwards everything to `target` and counts requests by first path segment. */
function countingProxy(
  target: string,
): Promise<{ url: string; counts: Map<string, number>; server: Server }> {
  const counts = new Map<string, number>();
  const t = new URL(target);
  const server = createServer((req, res) => {
    const first = decodeURIComponent((req.url ?? '/').split('?')[0]!.split('/')[1] ?? '');
    counts.set(first, (counts.get(first) ?? 0) + 1);
    const up = httpRequest(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, counts, server });
    }),
  );
}

const day = (i: number) => `2024-05-${String((i % 28) + 1).padStart(2, '0')}`;

function docsFor(user: string, i: number) {
  const at = `${day(i)}T09:00:00+03:00`;
  const base = { owner: user, created_at: at, updated_at: at };
  return [
    { _id: 'f1', type: 'farmer', ...base, name: 'A', village: 'V', district: `D${i % 20}` },
    ...Array.from({ length: DOCS_PER_DB - 2 }, (_, k) => ({
      _id: `v${k}`,
      type: 'visit',
      ...base,
      farmer_id: 'f1',
      visited_at: at,
      activity: k % 2 ? 'training' : 'survey',
    })),
    {
      _id: 'p1',
      type: 'payment_request',
      ...base,
      farmer_id: 'f1',
      msisdn: '+255712345678',
      amount: 1000 + i,
      provider: 'mpesa',
      reason: 'r',
    },
  ];
}

export async function run(): Promise<AggregateFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-agg-'));
  const store = await spawnStore(join(dir, 'store'));
  const proxy = await countingProxy(store.url);
  const withAuth = (base: string) => {
    const u = new URL(base);
    u.username = 'admin';
    u.password = 'bench-admin-password';
    return u.toString();
  };
  const direct = Nano(withAuth(store.url));
  const counted = Nano(withAuth(proxy.url));
  const names = Array.from({ length: DBS }, (_, i) => userDbName(`bench-user-${i}`));
  const figures: AggregateFigure[] = [];
  try {
    for (let i = 0; i < DBS; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (db, k) => {
          await direct.db.create(db);
          await direct.use(db).bulk({ docs: docsFor(db, i + k) });
        }),
      );
    }
    const measure = async (label: string) => {
      proxy.counts.clear();
      const t0 = performance.now();
      const res = await aggregate({
        nano: counted,
        aggregatesDb: 'sawa-aggregates',
        fleet: fleetDbs(loadConfig({})),
        batchSize: 500,
        concurrency: 4,
      });
      const ms = performance.now() - t0;
      let dbsRead = 0;
      let userDbRequests = 0;
      let otherRequests = 0;
      for (const [seg, n] of proxy.counts) {
        if (seg.startsWith('userdb-')) {
          dbsRead++;
          userDbRequests += n;
        } else otherRequests += n;
      }
      figures.push({
        run: label,
        ms: Math.round(ms),
        dbsRead,
        userDbRequests,
        otherRequests,
        changes: res.changes,
        buckets: res.buckets,
      });
    };
    await measure(`first run (${DBS} new databases)`);
    for (const [i, db] of names.slice(0, CHANGED).entries()) {
      const at = `${day(i)}T15:00:00+03:00`;
      const late = { _id: 'late-visit', type: 'visit', owner: db, created_at: at, updated_at: at };
      await direct
        .use(db)
        .insert({ ...late, farmer_id: 'f1', visited_at: at, activity: 'follow-up' } as never);
    }
    await measure(`${CHANGED} of ${DBS} changed`);
    await measure('nothing changed');
  } finally {
    proxy.server.close();
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: AggregateFigure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.run} | ${f.ms} | ${f.dbsRead} | ${f.userDbRequests} | ${f.otherRequests} | ${f.changes} | ${f.buckets} |`,
  );
  return [
    '| run | ms | user dbs read | user db requests | other requests | changes | buckets written |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

// `npx tsx bench/aggregate.ts`: this benchmark alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(report(await run()) + '\n');
}
