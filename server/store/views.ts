import createAbstractMapReduce from 'pouchdb-abstract-mapreduce';
import { compileMap } from './sandbox/map.js';
import { compileReduce } from './sandbox/reduce.js';
import type { Db } from './pouch.js';
import { errors } from './errors.js';
import { own } from './own.js';

type Emit = (key: unknown, value: unknown) => void;

const maps = new Map<string, ReturnType<typeof compileMap>>();
const reduces = new Map<string, ReturnType<typeof compileReduce>>();

/** Compiled functions are kept by source text, so every index built from one view shares one sandbox. */
function cached<T>(cache: Map<string, T>, source: string, make: () => T): T {
  let fn = cache.get(source);
  if (!fn) {
    fn = make();
    if (cache.size > 200) cache.delete(cache.keys().next().value as string);
    cache.set(source, fn);
  }
  return fn;
}

/**
 * CouchDB JavaScript views on PouchDB's incremental index machinery, with the
 * map and reduce functions run in the sandbox instead of PouchDB's `eval`.
 */
const mapReduce = createAbstractMapReduce(
  'mrviews',
  (source: string, emit: Emit) => {
    const map = cached(maps, source, () => compileMap(source, 'view'));
    return (doc: unknown) => {
      for (const [k, v] of map(doc)) emit(k, v);
    };
  },
  (source: string) => cached(reduces, source, () => compileReduce(source, 'view')),
  (ddoc: Record<string, unknown>, viewName: string) => {
    const view = own(ddoc.views as Record<string, { map?: unknown }> | undefined, viewName);
    if (typeof view?.map !== 'string') throw errors.notFound(`missing json key: map`);
    if (ddoc.language !== undefined && ddoc.language !== 'javascript') {
      throw errors.badRequest(`language ${String(ddoc.language)} is not supported for views`);
    }
  },
);

export function queryView(
  db: Db,
  ddoc: string,
  view: string,
  opts: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return mapReduce.query.call(db, `${ddoc}/${view}`, opts) as Promise<Record<string, unknown>>;
}

/**
 * `keys` on a reduce view without grouping: CouchDB 3.5 reduces every row the
 * keys select into one, which PouchDB refuses to do; the map rows are read and
 * reduced here. No rows, no reduced row.
 */
export async function reduceKeys(
  db: Db,
  ddoc: string,
  view: string,
  source: string,
  opts: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { limit, skip, group: _group, group_level: _level, ...rest } = opts;
  const mapped = await queryView(db, ddoc, view, { ...rest, reduce: false, include_docs: false });
  const rows = mapped.rows as Array<{ key: unknown; id: string; value: unknown }>;
  const reduce = cached(reduces, source, () => compileReduce(source, 'view'));
  const value = reduce.finalize(
    reduce(
      rows.map((r) => [r.key, r.id]),
      rows.map((r) => r.value),
      false,
    ),
  );
  const out: Record<string, unknown>[] = rows.length === 0 ? [] : [{ key: null, value }];
  const from = typeof skip === 'number' ? skip : 0;
  const upTo = typeof limit === 'number' ? from + limit : undefined;
  return {
    rows: out.slice(from, upTo),
    ...(mapped.update_seq !== undefined ? { update_seq: mapped.update_seq } : {}),
  };
}
