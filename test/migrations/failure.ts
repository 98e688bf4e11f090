import t from 'tap';
import { newFleet } from '../helpers/fleet.js';
import { createCouch } from '../../server/couch/client.js';
import { readRollout } from '../../server/migrations/checkpoint.js';
import { rollOutDesignDocs } from '../../server/migrations/rollout.js';
import { testCouch } from '../helpers/store.js';
import { adminNano, designDocBuilds, faultProxy, seed, snapshots, userDbs } from './helpers.js';

t.test('a database that refuses the write is reported; the others are done', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'flaky', 12);
  const bad = dbs[4] as string;
  const unreadable = dbs[8] as string;
  await seed(nano, dbs, old.private);

  // A real HTTP hop that refuses the design doc write in one database and fails every read
  // of another, as a CouchDB node in trouble would.
  const proxy = await faultProxy(t, store.url, (req) => {
    // nano writes a document with an _id as POST /{db}; PUT /{db}/{id} is the other way.
    const path = req.url?.split('?')[0];
    const write = req.method === 'POST' || req.method === 'PUT';
    if (write && (path === `/${bad}` || path?.startsWith(`/${bad}/_design/`))) {
      return {
        status: 403,
        body: { error: 'forbidden', reason: 'design documents are frozen here' },
      };
    }
    if (req.url?.startsWith(`/${unreadable}/`)) {
      return { status: 500, body: { error: 'internal_server_error', reason: 'shard unavailable' } };
    }
    return null;
  });
  const viaProxy = createCouch({ url: proxy.url, admin: store.admin, proxySecret: '' }).nano;
  const warnings: object[] = [];
  const res = await rollOutDesignDocs(viaProxy, current, {
    fleet: fleet.dbs,
    from: 'resume',
    concurrency: 1,
    log: { warn: (obj) => warnings.push(obj) },
  });

  t.match(res, { scanned: 12, updated: 10, unchanged: 0, aborted: false });
  t.match(res.failed, [
    { db: bad, error: /403 forbidden design documents are frozen here/ },
    { db: unreadable, error: /500 internal_server_error shard unavailable/ },
  ]);
  t.equal(warnings.length, 2, 'each failure logged');
  t.ok(proxy.refused.length >= 2);
  const after = await snapshots(nano, dbs);
  for (const db of dbs) {
    const want = db === bad || db === unreadable ? old : current;
    t.equal(after[db]?.ddocs['_design/sawa']?.version, want.private[0]?.version, db);
  }
  t.equal(res.doneThrough, dbs[3], 'the checkpoint stops before the first failure');
  t.match(await readRollout(nano, fleet.dbs.jobs), {
    state: 'incomplete',
    failed: 2,
    failures: [{ db: bad }, { db: unreadable }],
  });

  // CouchDB is well again: the next run retries from the first failure on, and finishes.
  const retry = await rollOutDesignDocs(nano, current, { fleet: fleet.dbs, from: 'resume' });
  t.match(retry, { resumedAfter: dbs[3], scanned: 8, updated: 2, failed: [] });
  t.match(await readRollout(nano, fleet.dbs.jobs), { state: 'complete' });
});

t.test('CouchDB unreachable: the run fails as a whole, nothing recorded', async (t) => {
  const { current } = designDocBuilds();
  const fleet = newFleet();
  const nowhere = createCouch({
    url: 'http://127.0.0.1:9',
    admin: { name: 'admin', password: 'x' },
    proxySecret: '',
  }).nano;
  await t.rejects(rollOutDesignDocs(nowhere, current, { fleet: fleet.dbs, from: 'start-up' }), {
    name: 'CouchRequestError',
  });
});
