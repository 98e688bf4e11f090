import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnStore } from './spawn-store.js';

interface Figure {
  leaves: number;
  bulkGetMs: number;
}

/**
 * One document with N conflicting leaves, all asked for in one
 * `_bulk_get?latest=true&revs=true` (what PouchDB's replicator sends): the
 * time should grow with N, not N². Issue 9 measured 122 s for N = 200.
 */
export async function run(sizes = [50, 100, 200, 400]): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-conflicts-'));
  const store = await spawnStore(join(dir, 'store'));
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${store.url}${path}`, {
      method,
      headers: { authorization: store.auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json());
  const figures: Figure[] = [];
  try {
    await call('PUT', '/conflicts');
    for (const n of sizes) {
      const id = `doc-${n}`;
      const revs = Array.from({ length: n }, (_, i) => `2-${String(i).padStart(32, '0')}`);
      await call('POST', '/conflicts/_bulk_docs', {
        new_edits: false,
        docs: revs.map((rev, i) => ({
          _id: id,
          _rev: rev,
          _revisions: { start: 2, ids: [rev.slice(2), 'root'] },
          n: i,
        })),
      });
      const started = performance.now();
      await call('POST', '/conflicts/_bulk_get?latest=true&revs=true', {
        docs: revs.map((rev) => ({ id, rev })),
      });
      figures.push({ leaves: n, bulkGetMs: Math.round(performance.now() - started) });
    }
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: Figure[]): string {
  const lines = ['| leaves | _bulk_get ms | ms per leaf |', '|---|---|---|'];
  for (const f of figures) {
    lines.push(`| ${f.leaves} | ${f.bulkGetMs} | ${(f.bulkGetMs / f.leaves).toFixed(2)} |`);
  }
  return lines.join('\n');
}
