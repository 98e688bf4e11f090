import type { Db, RawLevel } from './pouch.js';
import { rawLevel } from './pouch.js';

type Doc = Record<string, unknown> & { _id: string; _rev: string };

export interface LocalDocsQuery {
  startkey?: string;
  endkey?: string;
  inclusive_end: boolean;
  descending: boolean;
  limit?: number;
  skip: number;
  include_docs: boolean;
  keys?: unknown[];
}

/** sublevel-pouchdb's key for PouchDB's `local-store`: `\xff` + prefix + `\xff` + id, UTF-8. */
const PREFIX = Buffer.from('\xfflocal-store\xff', 'utf8');
const END = Buffer.concat([PREFIX, Buffer.from([0xff])]);
const keyOf = (id: string) => Buffer.concat([PREFIX, Buffer.from(id, 'utf8')]);

/**
 * `GET /db/_local_docs`: PouchDB keeps local documents in a LevelDB section
 * it never lists, so they are read from its LevelDOWN directly, in byte order.
 */
export async function localDocs(db: Db, path: string, q: LocalDocsQuery) {
  await db.info(); // makes sure PouchDB has opened the store
  const level = rawLevel(path);
  if (!level) throw new Error(`no LevelDB open at ${path}`);
  const docs = q.keys ? await byKeys(db, q.keys) : await scan(level, q);
  const page = q.keys
    ? docs
    : docs.slice(q.skip, q.limit === undefined ? undefined : q.skip + q.limit);
  const rows = page.map((d, i) => {
    if (!d) return { key: q.keys?.[i], error: 'not_found' };
    return { id: d._id, key: d._id, value: { rev: d._rev }, ...(q.include_docs ? { doc: d } : {}) };
  });
  return { total_rows: null, offset: null, rows };
}

async function byKeys(db: Db, keys: unknown[]): Promise<(Doc | null)[]> {
  return Promise.all(
    keys.map((k) =>
      typeof k === 'string' && k.startsWith('_local/')
        ? (db.get(k).catch(() => null) as Promise<Doc | null>)
        : Promise.resolve(null),
    ),
  );
}

async function scan(level: RawLevel, q: LocalDocsQuery): Promise<Doc[]> {
  const opts: Record<string, unknown> = {
    reverse: q.descending,
    keyAsBuffer: true,
    valueAsBuffer: false,
    ...(q.descending ? { lte: END, gte: PREFIX } : { gte: PREFIX, lt: END }),
  };
  const lower = q.descending ? q.endkey : q.startkey;
  const upper = q.descending ? q.startkey : q.endkey;
  if (lower !== undefined) opts.gte = keyOf(lower);
  if (upper !== undefined) {
    delete opts.lt;
    delete opts.lte;
    const bound = keyOf(upper);
    if (q.descending || q.inclusive_end) opts.lte = bound;
    else opts.lt = bound;
  }
  if (q.descending && lower !== undefined && !q.inclusive_end) {
    delete opts.gte;
    opts.gt = keyOf(lower);
  }
  const it = level.iterator(opts);
  const out: Doc[] = [];
  const wanted = q.limit === undefined ? Infinity : q.skip + q.limit;
  try {
    while (out.length < wanted) {
      const value = await new Promise<string | undefined>((resolve, reject) =>
        it.next((err, _k, v) =>
          err ? reject(err) : resolve(v === undefined ? undefined : String(v)),
        ),
      );
      if (value === undefined) break;
      out.push(JSON.parse(value) as Doc);
    }
  } finally {
    await new Promise<void>((resolve) => it.end(() => resolve()));
  }
  return out;
}
