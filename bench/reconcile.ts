import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Nano from 'nano';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { loadConfig } from '../server/config.js';
import { userDbName } from '../server/provisioning/names.js';
import { loadSyncRules } from '../server/rules/index.js';
import { reconcile } from '../server/jobs/reconcile/index.js';
import type { JobResult } from '../server/jobs/types.js';
import { farmerRecords } from './records.js';
import { spawnStore } from './spawn-store.js';

/**
 * The reconciler over a fleet of 1,000 user databases of which 10 changed since its last
 * run, each of those with one conflicted farmer. Every HTTP request the reconciler makes
 * is counted by database (nano's request log), so the figure to look at is how many of the
 * 990 unchanged databases it touched: the target is none.
 */

export interface Figures {
  databases: number;
  changed: number;
  /** The first run ever, which reads every database once. */
  firstRunMs: number;
  firstRunDatabasesRead: number;
  ms: number;
  requests: number;
  /** Requests to server-level endpoints and Sawa's own databases (jobs, archive). */
  ownRequests: number;
  userDatabasesRead: number;
  unchangedDatabasesRead: number;
  maxRequestsPerChangedDb: number;
  result: JobResult;
}

const DATABASES = 1000;
const CHANGED = 10;
const DOCS_PER_DB = 20;

export async function run(): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-reconcile-'));
  const store = await spawnStore(join(dir, 'store'));
  const perDb = new Map<string, number>();
  const url = new URL(store.url);
  url.username = 'admin';
  url.password = 'bench-admin-password';
  const nano = Nano({
    url: url.toString(),
    // nano reports every request it sends, credentials scrubbed: count them by database.
    log: (entry: unknown) => {
      const u = (entry as { url?: string }).url;
      if (!u) return;
      const first = decodeURIComponent(new URL(u).pathname.split('/')[1] ?? '');
      perDb.set(first, (perDb.get(first) ?? 0) + 1);
    },
  });
  const setup = Nano(url.toString());
  const ctx = {
    nano,
    config: loadConfig({ NODE_ENV: 'production' }),
    rules: loadSyncRules(),
    log: pino({ level: 'silent' }) as unknown as FastifyBaseLogger,
    signal: new AbortController().signal,
  };
  try {
    const names = Array.from({ length: DATABASES }, (_, i) =>
      userDbName(`agent-${String(i).padStart(4, '0')}`),
    );
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (db, j) => {
          await setup.db.create(db);
          await setup.use(db).bulk({ docs: farmerRecords(DOCS_PER_DB, `agent-${i + j}`) });
        }),
      );
    }
    let t0 = performance.now();
    await reconcile(ctx);
    const firstRunMs = performance.now() - t0;
    const firstRunDatabasesRead = [...perDb.keys()].filter((k) => k.startsWith('userdb-')).length;

    // Ten agents sync: a few ordinary edits and one conflicted farmer each.
    const changed = names.filter((_, i) => i % (DATABASES / CHANGED) === 7);
    for (const db of changed) await conflictAndEdits(setup.use(db));
    perDb.clear();
    t0 = performance.now();
    const result = await reconcile(ctx);
    const ms = performance.now() - t0;

    const userDbs = [...perDb.entries()].filter(([k]) => k.startsWith('userdb-'));
    const changedSet = new Set(changed);
    return {
      databases: DATABASES,
      changed: CHANGED,
      firstRunMs: Math.round(firstRunMs),
      firstRunDatabasesRead,
      ms: Math.round(ms),
      requests: [...perDb.values()].reduce((a, b) => a + b, 0),
      ownRequests: [...perDb.entries()]
        .filter(([k]) => !k.startsWith('userdb-'))
        .reduce((a, [, n]) => a + n, 0),
      userDatabasesRead: userDbs.length,
      unchangedDatabasesRead: userDbs.filter(([k]) => !changedSet.has(k)).length,
      maxRequestsPerChangedDb: Math.max(0, ...userDbs.map(([, n]) => n)),
      result,
    };
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Two offline branches of one farmer, as replication leaves them, plus three plain edits. */
async function conflictAndEdits(db: Nano.DocumentScope<unknown>): Promise<void> {
  const base = (await db.get('farmer-000000')) as unknown as Record<string, unknown> & {
    _rev: string;
  };
  const [, hash] = base._rev.split('-');
  const branch = (suffix: string, edit: Record<string, unknown>) => ({
    ...base,
    ...edit,
    _rev: `2-${suffix.repeat(32)}`,
    _revisions: { start: 2, ids: [suffix.repeat(32), hash] },
  });
  await db.bulk({
    docs: [
      branch('a', { village: 'Kilosa', updated_at: '2026-02-01T08:00:00Z' }),
      branch('b', { name: 'Mkulima Mpya', updated_at: '2026-02-01T09:00:00Z' }),
    ],
    new_edits: false,
  });
  for (const id of ['farmer-000002', 'farmer-000004', 'farmer-000006']) {
    const doc = (await db.get(id)) as unknown as Record<string, unknown>;
    await db.insert({
      ...doc,
      land_acres: 7,
      updated_at: '2026-02-01T10:00:00Z',
    } as Nano.MaybeDocument);
  }
}

export function report(f: Figures): string {
  return [
    '| databases | changed | first run (reads all) | run with 10 changed | requests | of which Sawa/server | user dbs read | unchanged dbs read | max requests per changed db | resolved |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| ${f.databases} | ${f.changed} | ${f.firstRunMs} ms, ${f.firstRunDatabasesRead} dbs | ${f.ms} ms | ${f.requests} | ${f.ownRequests} | ${f.userDatabasesRead} | ${f.unchangedDatabasesRead} | ${f.maxRequestsPerChangedDb} | ${f.result.resolved} |`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write('## Conflict reconciler: 1,000 user databases, 10 changed\n\n');
  process.stdout.write(report(await run()) + '\n');
}
