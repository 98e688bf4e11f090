import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const db = await createDb(server, 'find');
await admin('POST', `/${db}/_bulk_docs`, {
  body: {
    docs: [
      { _id: 'f1', type: 'farmer', name: 'Asha', acres: 2, district: 'Kilosa' },
      { _id: 'f2', type: 'farmer', name: 'Baraka', acres: 5, district: 'Gairo' },
      { _id: 'f3', type: 'farmer', name: 'Chausiku', acres: 1, district: 'Kilosa' },
      { _id: 'v1', type: 'visit', farmer: 'f1' },
      { _id: 'gone', type: 'farmer', name: 'Zed', acres: 9 },
    ],
  },
});
const gone = await admin('GET', `/${db}/gone`);
await admin('DELETE', `/${db}/gone?rev=${gone.body._rev}`);

t.test('_index: create, exists, list', async (t) => {
  const res = await admin('POST', `/${db}/_index`, {
    body: { index: { fields: ['type', 'acres'] }, name: 'by-type-acres', ddoc: 'mango' },
  });
  t.equal(res.status, 200);
  t.same(res.body, { result: 'created', id: '_design/mango', name: 'by-type-acres' });
  const again = await admin('POST', `/${db}/_index`, {
    body: { index: { fields: ['type', 'acres'] }, name: 'by-type-acres', ddoc: 'mango' },
  });
  t.equal(again.body.result, 'exists');
  const list = await admin('GET', `/${db}/_index`);
  t.equal(list.status, 200);
  t.equal(list.body.total_rows, 2);
  t.match(list.body.indexes[0], { ddoc: null, name: '_all_docs', type: 'special' });
  t.match(list.body.indexes[1], {
    ddoc: '_design/mango',
    name: 'by-type-acres',
    type: 'json',
    def: { fields: [{ type: 'asc' }, { acres: 'asc' }] },
  });
  const missing = await admin('POST', `/${db}/_index`, { body: { name: 'x' } });
  t.equal(missing.status, 400);
  t.equal(missing.body.error, 'missing_required_key');
});

t.test(
  '_find: selector, fields, sort, limit, skip, bookmark; deleted docs never match',
  async (t) => {
    const res = await admin('POST', `/${db}/_find`, {
      body: {
        selector: { type: 'farmer', acres: { $gte: 1 } },
        fields: ['_id', 'acres'],
        sort: [{ type: 'asc' }, { acres: 'asc' }],
      },
    });
    t.equal(res.status, 200);
    t.same(res.body.docs, [
      { _id: 'f3', acres: 1 },
      { _id: 'f1', acres: 2 },
      { _id: 'f2', acres: 5 },
    ]);
    t.type(res.body.bookmark, 'string');
    const page1 = await admin('POST', `/${db}/_find`, {
      body: { selector: { type: 'farmer' }, limit: 2, fields: ['_id'] },
    });
    t.equal(page1.body.docs.length, 2);
    const page2 = await admin('POST', `/${db}/_find`, {
      body: {
        selector: { type: 'farmer' },
        limit: 2,
        fields: ['_id'],
        bookmark: page1.body.bookmark,
      },
    });
    t.same(
      [...page1.body.docs, ...page2.body.docs].map((d: { _id: string }) => d._id).sort(),
      ['f1', 'f2', 'f3'],
      'the bookmark continues where the first page ended',
    );
    const skipped = await admin('POST', `/${db}/_find`, {
      body: { selector: { type: 'farmer' }, skip: 2, fields: ['_id'] },
    });
    t.equal(skipped.body.docs.length, 1);
    const ops = await admin('POST', `/${db}/_find`, {
      body: {
        selector: { $or: [{ name: { $regex: '^A' } }, { district: { $in: ['Gairo'] } }] },
        fields: ['_id'],
      },
    });
    t.same(ops.body.docs.map((d: { _id: string }) => d._id).sort(), ['f1', 'f2']);
    const unindexed = await admin('POST', `/${db}/_find`, {
      body: { selector: { district: 'Kilosa' } },
    });
    t.equal(unindexed.body.docs.length, 2);
    t.match(unindexed.body.warning, /No matching index/);
    const stats = await admin('POST', `/${db}/_find`, {
      body: { selector: { type: 'visit' }, execution_stats: true },
    });
    t.equal(stats.body.execution_stats.results_returned, 1);
  },
);

t.test('_find errors are mango-shaped 400s', async (t) => {
  const noSelector = await admin('POST', `/${db}/_find`, { body: { fields: ['_id'] } });
  t.equal(noSelector.status, 400);
  t.same(noSelector.body, {
    error: 'missing_required_key',
    reason: 'Missing required key: selector',
  });
  const badOp = await admin('POST', `/${db}/_find`, {
    body: { selector: { acres: { $bogus: 1 } } },
  });
  t.equal(badOp.status, 400);
  t.equal(badOp.body.error, 'invalid_operator');
  const badSort = await admin('POST', `/${db}/_find`, {
    body: { selector: { name: 'Asha' }, sort: ['district'] },
  });
  t.equal(badSort.status, 400);
  t.equal(badSort.body.error, 'no_usable_index');
  const badLimit = await admin('POST', `/${db}/_find`, { body: { selector: {}, limit: -1 } });
  t.equal(badLimit.status, 400);
  const text = await admin('POST', `/${db}/_find`, {
    body: '{"selector":{}}',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.status, 415);
  const notJson = await admin('POST', `/${db}/_find`, {
    body: '{selector',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(notJson.status, 400);
});

t.test('_explain names the database and the index it would use', async (t) => {
  const res = await admin('POST', `/${db}/_explain`, {
    body: { selector: { type: 'farmer', acres: { $gt: 0 } } },
  });
  t.equal(res.status, 200);
  t.equal(res.body.dbname, db);
  t.equal(res.body.index.name, 'by-type-acres');
});

t.test('_index: delete', async (t) => {
  await admin('POST', `/${db}/_index`, {
    body: { index: { fields: ['name'] }, name: 'by-name', ddoc: 'names' },
  });
  const del = await admin('DELETE', `/${db}/_index/_design/names/json/by-name`);
  t.equal(del.status, 200);
  t.same(del.body, { ok: true });
  const list = await admin('GET', `/${db}/_index`);
  t.notOk(list.body.indexes.some((i: { name: string }) => i.name === 'by-name'));
  const missing = await admin('DELETE', `/${db}/_index/_design/names/json/by-name`);
  t.equal(missing.status, 404);
});
