import { stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSeq } from './seq.js';
import type { Handle } from './registry.js';
import { deletedCount } from './deleted-count.js';

const sizes = new Map<string, { at: number; bytes: number }>();

/** On-disk size of a database, re-read at most once a second: replicators ask for info on every batch. */
async function dirSize(path: string): Promise<number> {
  const cached = sizes.get(path);
  if (cached && Date.now() - cached.at < 1000) return cached.bytes;
  const bytes = await measure(path);
  if (sizes.size > 1000) sizes.clear();
  sizes.set(path, { at: Date.now(), bytes });
  return bytes;
}

async function measure(path: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(path).catch(() => [] as string[])) {
    total += (await stat(join(path, f)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export async function dbInfo(h: Handle, dataDir: string) {
  const info = await h.db.info();
  const seq = Number(info.update_seq);
  const file = await dirSize(join(dataDir, 'dbs', h.record.dir));
  return {
    db_name: h.name,
    update_seq: formatSeq(seq, h.record.seq_offset),
    sizes: { file, external: file, active: file },
    purge_seq: formatSeq(h.record.purge_seq ?? 0, 0),
    doc_del_count: await deletedCount(h, seq),
    doc_count: info.doc_count,
    disk_format_version: 8,
    compact_running: false,
    cluster: { q: 1, n: 1, w: 1, r: 1 },
    instance_start_time: '0',
    props: {},
  };
}
