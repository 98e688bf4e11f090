import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB, { type Database } from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { Agent } from 'node:http';
import { spawnStore } from './spawn-store.js';
import { farmerRecords } from './records.js';

PouchDB.plugin(MemoryAdapter);

export interface Figure {
  name: string;
  docs: number;
  storeMs: number;
  inProcessMs: number;
  /** store throughput as a share of in-process throughput */
  ratio: number;
}

const N = 10_000;
const BATCH = 500;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * The embedded store against an in-process PouchDB LevelDB database doing the
 * same work: `_bulk_docs` writes, then a PouchDB phone pushing and pulling
 * 10,000 documents. The in-process figure is the ceiling the HTTP layer is
 * measured against.
 */
export async function run(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-store-'));
  const store = await spawnStore(join(dir, 'store'));
  const auth = store.auth;
  const agent = new Agent({ keepAlive: true });
  const remoteDb = async (name: string): Promise<Database> => {
    await fetch(`${store.url}/${name}`, { method: 'PUT', headers: { authorization: auth } });
    return new PouchDB(`${store.url}/${name}`, {
      skip_setup: true,
      fetch: (u: string | Request, o: RequestInit = {}) => {
        const h = new Headers(o.headers);
        h.set('authorization', auth);
        return PouchDB.fetch(u, { ...o, headers: h, agent } as RequestInit);
      },
    });
  };
  const local = (name: string) => new PouchDB(join(dir, name));
  const docs = farmerRecords(N);
  const figures: Figure[] = [];
  try {
    const bulk = async (db: Database) => {
      for (let i = 0; i < docs.length; i += BATCH)
        await db.bulkDocs(docs.slice(i, i + BATCH).map((d) => ({ ...d })));
    };
    const bulkStore = await timed(() => remoteDb('bulk').then(bulk));
    const bulkLocal = await timed(() => bulk(local('bulk')));
    figures.push(figure('_bulk_docs write', N, bulkStore, bulkLocal));

    const phone = new PouchDB(`phone-${Date.now()}`, { adapter: 'memory' });
    await phone.bulkDocs(docs.map((d) => ({ ...d })));
    // PouchDB's default batch of 100, and 500 as a client on a slow link would choose.
    for (const batch of [100, 500]) {
      const pushStore = await timed(async () =>
        phone.replicate.to(await remoteDb(`push-${batch}`), { batch_size: batch }),
      );
      const pushLocal = await timed(() =>
        phone.replicate.to(local(`push-${batch}`), { batch_size: batch }),
      );
      figures.push(figure(`push 10k, batches of ${batch}`, N, pushStore, pushLocal));
      const pullStore = await timed(async () =>
        new PouchDB(`pull-a-${batch}-${Date.now()}`, { adapter: 'memory' }).replicate.from(
          await remoteDb(`push-${batch}`),
          { batch_size: batch },
        ),
      );
      const pullLocal = await timed(() =>
        new PouchDB(`pull-b-${batch}-${Date.now()}`, { adapter: 'memory' }).replicate.from(
          local(`push-${batch}`),
          { batch_size: batch },
        ),
      );
      figures.push(figure(`pull 10k, batches of ${batch}`, N, pullStore, pullLocal));
    }
  } finally {
    await store.stop();
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

function figure(name: string, docs: number, storeMs: number, inProcessMs: number): Figure {
  return {
    name,
    docs,
    storeMs: Math.round(storeMs),
    inProcessMs: Math.round(inProcessMs),
    ratio: Number((inProcessMs / storeMs).toFixed(2)),
  };
}

export function report(figures: Figure[]): string {
  const lines = [
    '| work | docs | store ms | store docs/s | in-process ms | in-process docs/s | store / in-process |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.name} | ${f.docs} | ${f.storeMs} | ${Math.round((f.docs / f.storeMs) * 1000)} | ${f.inProcessMs} | ${Math.round((f.docs / f.inProcessMs) * 1000)} | ${Math.round(f.ratio * 100)}% |`,
    );
  }
  return lines.join('\n');
}
