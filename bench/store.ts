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
  /** the faster of the tries */
  storeMs: number;
  inProcessMs: number;
  /** every try, in the order run */
  storeTries: number[];
  inProcessTries: number[];
  /** store throughput as a share of in-process throughput */
  ratio: number;
}

const N = 10_000;
const BATCH = 500;
/** Each figure is the faster of this many tries, store and in-process taking turns. */
const TRIES = 2;
const WARM_UP_DOCS = 1_000;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

type Target = (name: string) => Promise<Database>;

/** The work of one figure against one target: its name and a fresh timed run. */
interface Work {
  name: string;
  run(target: Target, tag: string): Promise<number>;
}

/**
 * The embedded store against an in-process PouchDB LevelDB database doing the same work:
 * `_bulk_docs` writes, then a PouchDB phone pushing and pulling 10,000 documents. The
 * in-process figure is the ceiling the HTTP layer is measured against.
 *
 * Like for like on a shared machine: both sides first do the same work on 1,000 documents
 * (the store is a long-running server; a cold process spent its first figure compiling),
 * and each figure is the faster of two tries, store and in-process taking turns, so a burst
 * of load from another process does not decide a ratio. Every try is reported.
 */
export async function run(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-store-'));
  const store = await spawnStore(join(dir, 'store'));
  const auth = store.auth;
  const agent = new Agent({ keepAlive: true });
  const remote: Target = async (name) => {
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
  const local: Target = async (name) => new PouchDB(join(dir, name));
  const figures: Figure[] = [];
  try {
    const warm = works(farmerRecords(WARM_UP_DOCS));
    for (const w of warm) {
      await w.run(remote, 'warm');
      await w.run(local, 'warm');
    }
    for (const w of works(farmerRecords(N))) {
      const storeTries: number[] = [];
      const inProcessTries: number[] = [];
      for (let i = 0; i < TRIES; i++) {
        storeTries.push(await w.run(remote, `s${i}`));
        inProcessTries.push(await w.run(local, `l${i}`));
      }
      figures.push(figure(w.name, N, storeTries, inProcessTries));
    }
  } finally {
    await store.stop();
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

/** `_bulk_docs` in batches of 500, then push and pull with PouchDB's default batch of 100 and 500. */
function works(docs: Record<string, unknown>[]): Work[] {
  const phone = new PouchDB(`phone-${Math.random()}`, { adapter: 'memory' });
  const filled = (async () => {
    for (let i = 0; i < docs.length; i += BATCH)
      await phone.bulkDocs(docs.slice(i, i + BATCH).map((d) => ({ ...d })));
  })();
  const fresh = () => new PouchDB(`pull-${Math.random()}`, { adapter: 'memory' });
  const list: Work[] = [
    {
      name: '_bulk_docs write',
      run: async (target, tag) => {
        const db = await target(`bulk-${tag}`);
        return timed(async () => {
          for (let i = 0; i < docs.length; i += BATCH)
            await db.bulkDocs(docs.slice(i, i + BATCH).map((d) => ({ ...d })));
        });
      },
    },
  ];
  for (const batch of [100, 500]) {
    list.push(
      {
        name: `push ${docs.length / 1000}k, batches of ${batch}`,
        run: async (target, tag) => {
          await filled;
          const db = await target(`push-${batch}-${tag}`);
          return timed(() => phone.replicate.to(db, { batch_size: batch }));
        },
      },
      {
        name: `pull ${docs.length / 1000}k, batches of ${batch}`,
        run: async (target, tag) => {
          // Pulls what the push of the same try wrote.
          const db = await target(`push-${batch}-${tag}`);
          return timed(() => fresh().replicate.from(db, { batch_size: batch }));
        },
      },
    );
  }
  return list;
}

function figure(name: string, docs: number, storeTries: number[], inProcessTries: number[]) {
  const storeMs = Math.round(Math.min(...storeTries));
  const inProcessMs = Math.round(Math.min(...inProcessTries));
  return {
    name,
    docs,
    storeMs,
    inProcessMs,
    storeTries: storeTries.map(Math.round),
    inProcessTries: inProcessTries.map(Math.round),
    ratio: Number((inProcessMs / storeMs).toFixed(2)),
  };
}

export function report(figures: Figure[]): string {
  const lines = [
    `Fastest of ${TRIES} tries each (store and in-process taking turns; every try in brackets), after a ${WARM_UP_DOCS}-document warm-up of both.`,
    '',
    '| work | docs | store ms | store docs/s | in-process ms | in-process docs/s | store / in-process |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.name} | ${f.docs} | ${f.storeMs} (${f.storeTries.join(', ')}) | ${Math.round((f.docs / f.storeMs) * 1000)} | ${f.inProcessMs} (${f.inProcessTries.join(', ')}) | ${Math.round((f.docs / f.inProcessMs) * 1000)} | ${Math.round(f.ratio * 100)}% |`,
    );
  }
  return lines.join('\n');
}
