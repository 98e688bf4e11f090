import type { TestCouch } from '../helpers/store.js';
import { segments, type Handler } from './fault-proxy.js';

/**
 * Views of database `db` answered as they were before the latest write to it, as a cluster
 * answers a view read served by a shard copy that has not yet received that write. A
 * lagging copy of `db` (`<db>-lagging`) is brought up to date just before each write is let
 * through, and every view read of `db` is answered from it. Reads by document id
 * (quorum reads on a cluster) go to `db` itself.
 */
export function staleViews(target: TestCouch, db: string): Handler & { reads: () => number } {
  const lagging = `${db}-lagging`;
  let since = '0';
  let created = false;
  let reads = 0;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${target.url}/${path}`, {
      method,
      headers: { authorization: target.adminAuth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as any;
  };
  const catchUp = async () => {
    if (!created) {
      await call('PUT', encodeURIComponent(lagging));
      created = true;
    }
    const changes = await call(
      'GET',
      `${encodeURIComponent(db)}/_changes?include_docs=true&since=${encodeURIComponent(since)}`,
    );
    if (changes.error === 'not_found') return;
    const rows = changes.results as Array<{ id: string; deleted?: boolean; doc?: any }>;
    if (rows.length) {
      const have = await call('POST', `${encodeURIComponent(lagging)}/_all_docs`, {
        keys: rows.map((r) => r.id),
      });
      const revs = new Map<string, string>();
      for (const r of have.rows as Array<{ id?: string; value?: { rev: string } }>) {
        if (r.id && r.value) revs.set(r.id, r.value.rev);
      }
      const docs = rows.map((r) => {
        const rev = revs.get(r.id);
        if (r.deleted || !r.doc) return { _id: r.id, _deleted: true, ...(rev && { _rev: rev }) };
        const { _rev: _ignored, ...body } = r.doc;
        return { ...body, ...(rev && { _rev: rev }) };
      });
      await call('POST', `${encodeURIComponent(lagging)}/_bulk_docs`, {
        docs: docs.filter((d) => d._rev || !d._deleted),
      });
    }
    since = String(changes.last_seq);
  };
  const handler: Handler = async (req, forward) => {
    const [first, second, , fourth] = segments(req.url);
    if (first !== db) return forward();
    const isView = second === '_design' && (fourth === '_view' || fourth === '_list');
    if (isView) {
      reads++;
      return forward({ url: req.url.replace(`/${encodeURIComponent(db)}/`, `/${lagging}/`) });
    }
    const reading =
      req.method === 'GET' ||
      req.method === 'HEAD' ||
      second === '_all_docs' ||
      second === '_bulk_get' ||
      second === '_changes';
    if (reading) return forward();
    await catchUp();
    const res = await forward();
    // Design documents are everywhere long before the data they index: only data lags.
    if (second?.startsWith('_design') || req.body.includes('"_design/')) await catchUp();
    return res;
  };
  return Object.assign(handler, { reads: () => reads });
}
