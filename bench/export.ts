import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Nano from 'nano';
import { createAuditLog } from '../server/audit/audit.js';
import { exportSubject } from '../server/privacy/export.js';
import { walkSubject, type Found } from '../server/privacy/subject.js';
import { userDbName } from '../server/provisioning/names.js';
import { loadSyncRules } from '../server/rules/index.js';
import { spawnStore } from './spawn-store.js';

/**
 * A person's export (GET /me/export) for a person with many documents, each with a photo:
 * the streamed export against the way it was built before (every document read, then one
 * JSON.stringify). The store runs in its own process; this process runs the export and
 * discards what it writes, sampling its own memory every 250 ms (`NODE_OPTIONS=--expose-gc` collects garbage first). Flat means the peak does
 * not grow with the person's data.
 */
export interface ExportFigure {
  how: 'streamed' | 'built in memory';
  docs: number;
  mib: number;
  ms: number;
  /** Peak RSS and heap over the run, less what they were before it, MiB. */
  rssPeak: number;
  heapPeak: number;
}

const PHOTO = 64 * 1024;
const SIZES = (process.env.BENCH_EXPORT_DOCS ?? '200,800').split(',').map(Number);

async function fill(nano: Nano.ServerScope, name: string, docs: number): Promise<void> {
  const db = userDbName(name);
  await nano.db.create(db);
  const photo = Buffer.alloc((PHOTO * 3) / 4, 7).toString('base64');
  for (let i = 0; i < docs; i += 50) {
    const batch = Array.from({ length: Math.min(50, docs - i) }, (_, k) => ({
      _id: `visit-${String(i + k).padStart(6, '0')}`,
      type: 'visit',
      owner: name,
      visited_at: '2026-05-01T08:00:00.000Z',
      notes: 'x'.repeat(200),
      _attachments: { 'photo.jpg': { content_type: 'image/jpeg', data: photo } },
    }));
    await nano.use(db).bulk({ docs: batch });
  }
}

async function measure(
  fn: () => Promise<number>,
): Promise<{ bytes: number; ms: number; rss: number; heap: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  // With --expose-gc, garbage is collected before each sample: the heap figure is what the
  // export holds, not what V8 has not yet swept.
  const sample = () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss - base.rss);
    heap = Math.max(heap, m.heapUsed - base.heapUsed);
  };
  const timer = setInterval(sample, 250);
  const t0 = performance.now();
  const bytes = await fn();
  const ms = performance.now() - t0;
  sample();
  clearInterval(timer);
  return { bytes, ms, rss, heap };
}

export async function run(): Promise<ExportFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-export-'));
  const store = await spawnStore(dir);
  const [user, password] = Buffer.from(store.auth.slice(6), 'base64').toString().split(':');
  const url = new URL(store.url);
  url.username = user!;
  url.password = password!;
  const nano = Nano(url.toString());
  const rules = loadSyncRules();
  const audit = createAuditLog(nano, 'bench-audit');
  await audit.ready();
  const figures: ExportFigure[] = [];
  try {
    for (const docs of SIZES) {
      const name = `bench-${docs}`;
      await fill(nano, name, docs);
      const opts = { aggregatesDb: 'bench-aggregates', archiveDb: 'bench-archive' };
      const streamed = await measure(async () => {
        let bytes = 0;
        for await (const chunk of exportSubject({
          nano,
          rules,
          audit,
          ...opts,
          name,
          account: null,
          done: async () => {},
        })) {
          bytes += Buffer.byteLength(chunk);
        }
        return bytes;
      });
      const built = await measure(async () => {
        const all: Found[] = [];
        for await (const f of walkSubject(nano, rules, name, { attachments: true, ...opts })) {
          all.push(f);
        }
        return Buffer.byteLength(JSON.stringify({ subject: name, all }));
      });
      for (const [how, m] of [
        ['streamed', streamed],
        ['built in memory', built],
      ] as const) {
        figures.push({
          how,
          docs,
          mib: m.bytes / 2 ** 20,
          ms: m.ms,
          rssPeak: m.rss / 2 ** 20,
          heapPeak: m.heap / 2 ** 20,
        });
      }
    }
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: ExportFigure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.how} | ${f.docs} | ${f.mib.toFixed(1)} | ${(f.ms / 1000).toFixed(1)} | ${f.rssPeak.toFixed(0)} | ${f.heapPeak.toFixed(0)} |`,
  );
  return [
    `Each document carries a ${PHOTO / 1024} KiB photo. Peaks are over the run, less the process's memory before it.`,
    '',
    '| export | documents | JSON MiB | s | peak RSS growth MiB | peak heap growth MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}
