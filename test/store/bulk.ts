import t from 'tap';
import { storeOr500, testCouch } from '../helpers/store.js';
import { client, createDb } from '../helpers/fixtures.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const q = (v: unknown) => encodeURIComponent(JSON.stringify(v));
const H = (n: number) => n.toString(16).padStart(32, '0');

t.test('_bulk_docs: one result per document, in order, with per-document errors', async (t) => {
  const db = await createDb(server, 'bulk');
  const first = await admin('PUT', `/${db}/existing`, { body: { v: 1 } });
  const res = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      docs: [{ _id: 'a', v: 1 }, { v: 'no id' }, { _id: 'existing', v: 2 }, { _id: 'b', v: 3 }],
    },
  });
  t.equal(res.status, 201);
  t.equal(res.body.length, 4);
  t.match(res.body[0], { ok: true, id: 'a', rev: /^1-/ });
  t.match(res.body[1], { ok: true, id: /^[0-9a-f]{32}$/, rev: /^1-/ });
  t.same(res.body[2], { id: 'existing', error: 'conflict', reason: 'Document update conflict.' });
  t.match(res.body[3], { ok: true, id: 'b' });
  const update = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      docs: [
        { _id: 'existing', _rev: first.body.rev, v: 2 },
        { _id: 'a', _rev: res.body[0].rev, _deleted: true },
      ],
    },
  });
  t.match(update.body, [
    { ok: true, id: 'existing', rev: /^2-/ },
    { ok: true, id: 'a', rev: /^2-/ },
  ]);
  t.equal((await admin('GET', `/${db}/a`)).status, 404, 'deleted through _bulk_docs');
  t.equal((await admin('GET', `/${db}`)).body.doc_count, 3);
});

t.test('_bulk_docs: malformed requests are refused whole', async (t) => {
  const db = await createDb(server, 'bulkbad');
  const cases: Array<[string, unknown, number]> = [
    ['no docs', { other: [] }, 400],
    ['docs not an array', { docs: { _id: 'x' } }, 400],
    ['new_edits not boolean', { docs: [], new_edits: 'no' }, 400],
    ['a document that is not an object', { docs: [{ _id: 'ok-1' }, 5] }, 400],
    ['a reserved id', { docs: [{ _id: 'ok-2' }, { _id: '_secret' }] }, 400],
    ['an id that is not a string', { docs: [{ _id: 'ok-3' }, { _id: 12 }] }, 400],
    ['a bad _rev', { docs: [{ _id: 'ok-4' }, { _id: 'r', _rev: 'nonsense' }] }, 400],
    [
      'new_edits=false without revisions',
      { new_edits: false, docs: [{ _id: 'ok-5', _rev: '1-abc' }, { _id: 'norev' }] },
      400,
    ],
  ];
  for (const [what, body, status] of cases) {
    const res = await admin('POST', `/${db}/_bulk_docs`, { body });
    t.equal(res.status, status, what);
    t.type(res.body.error, 'string', what);
  }
  const all = await admin('GET', `/${db}/_all_docs`);
  t.same(all.body.rows, [], 'nothing of a refused request was written');
  const text = await admin('POST', `/${db}/_bulk_docs`, {
    body: '{"docs":[]}',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.status, 415);
  const broken = await admin('POST', `/${db}/_bulk_docs`, {
    body: '{"docs":[',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(broken.status, 400);
  t.equal(broken.body.error, 'bad_request');
});

t.test(
  '_bulk_docs new_edits=false: replicated revisions stored as given, [] on success',
  async (t) => {
    const db = await createDb(server, 'replicated');
    const docs = [
      { _id: 'x', _rev: `2-${H(2)}`, v: 'x2', _revisions: { start: 2, ids: [H(2), H(1)] } },
      { _id: 'y', _rev: `1-${H(7)}`, v: 'y1' },
    ];
    const res = await admin('POST', `/${db}/_bulk_docs`, { body: { new_edits: false, docs } });
    t.equal(res.status, 201);
    t.same(res.body, []);
    const x = await admin('GET', `/${db}/x?revs=true`);
    t.equal(x.body._rev, `2-${H(2)}`);
    t.same(x.body._revisions, { start: 2, ids: [H(2), H(1)] });
    const again = await admin('POST', `/${db}/_bulk_docs`, { body: { new_edits: false, docs } });
    t.same(again.body, [], 'sending the same revisions again changes nothing');
    const branch = await admin('POST', `/${db}/_bulk_docs`, {
      body: {
        new_edits: false,
        docs: [
          { _id: 'x', _rev: `2-${H(3)}`, v: 'other', _revisions: { start: 2, ids: [H(3), H(1)] } },
        ],
      },
    });
    t.same(branch.body, []);
    const conflicted = await admin('GET', `/${db}/x?conflicts=true`);
    t.same(
      conflicted.body._conflicts,
      [`2-${H(2)}`],
      'a second branch is a conflict, not an overwrite',
    );
    t.equal(conflicted.body._rev, `2-${H(3)}`);
    const onlyRevisions = await admin('POST', `/${db}/_bulk_docs`, {
      body: { new_edits: false, docs: [{ _id: 'z', _revisions: { start: 1, ids: [H(9)] } }] },
    });
    t.same(onlyRevisions.body, [], '_revisions alone is enough');
    t.equal((await admin('GET', `/${db}/z`)).body._rev, `1-${H(9)}`);
  },
);

t.test('_bulk_get: results in request order, revs, latest, errors', async (t) => {
  const db = await createDb(server, 'bulkget');
  const a1 = await admin('PUT', `/${db}/a`, { body: { v: 1 } });
  const a2 = await admin('PUT', `/${db}/a`, { body: { _rev: a1.body.rev, v: 2 } });
  await admin('PUT', `/${db}/b`, { body: { v: 'b' } });
  const res = await admin('POST', `/${db}/_bulk_get?revs=true`, {
    body: {
      docs: [
        { id: 'b' },
        { id: 'a', rev: a1.body.rev },
        { id: 'nope' },
        { id: 'a', rev: `9-${H(1)}` },
      ],
    },
  });
  t.equal(res.status, 200);
  t.same(Object.keys(res.body), ['results'], 'exactly {"results": [...]}');
  t.same(
    res.body.results.map((r: { id: string }) => r.id),
    ['b', 'a', 'nope', 'a'],
  );
  t.equal(res.body.results[0].docs[0].ok.v, 'b');
  t.equal(res.body.results[1].docs[0].ok.v, 1, 'the asked-for revision');
  t.same(res.body.results[1].docs[0].ok._revisions.start, 1);
  t.same(res.body.results[2].docs, [
    { error: { id: 'nope', rev: 'undefined', error: 'not_found', reason: 'missing' } },
  ]);
  t.same(res.body.results[3].docs, [
    { error: { id: 'a', rev: `9-${H(1)}`, error: 'not_found', reason: 'missing' } },
  ]);
  const latest = await admin('POST', `/${db}/_bulk_get?latest=true`, {
    body: { docs: [{ id: 'a', rev: a1.body.rev }] },
  });
  t.equal(
    latest.body.results[0].docs[0].ok._rev,
    a2.body.rev,
    'latest: the leaf, not the asked-for revision',
  );
  t.notOk(latest.body.results[0].docs[0].ok._revisions, 'no _revisions unless asked');
  const bad = await admin('POST', `/${db}/_bulk_get`, { body: { notdocs: [] } });
  t.equal(bad.status, 400);
  const badParam = await admin('POST', `/${db}/_bulk_get?rev=${a1.body.rev}`, {
    body: { docs: [{ id: 'a' }] },
  });
  t.equal(badParam.status, 400, 'rev belongs in the body');
  const noId = await admin('POST', `/${db}/_bulk_get`, { body: { docs: [{ rev: a1.body.rev }] } });
  t.equal(noId.status, 200);
  t.equal(noId.body.results[0].docs[0].error.error, 'bad_request');
  const empty = await admin('POST', `/${db}/_bulk_get`, { body: { docs: [] } });
  t.same(empty.body, { results: [] });
});

t.test(
  '_bulk_get answers each revision as GET ?rev= does: deletions, attachment stubs',
  async (t) => {
    const db = await createDb(server, 'bulkget-shape');
    const att = {
      'a.txt': { content_type: 'text/plain', data: Buffer.from('hi').toString('base64') },
    };
    const d1 = await admin('PUT', `/${db}/d`, { body: { v: 1, _attachments: att } });
    const d2 = await admin('DELETE', `/${db}/d?rev=${d1.body.rev}`);
    const revs = [d1.body.rev, d2.body.rev];
    const res = await admin('POST', `/${db}/_bulk_get?revs=true`, {
      body: { docs: revs.map((rev) => ({ id: 'd', rev })) },
    });
    for (const [i, rev] of revs.entries()) {
      const one = await admin('GET', `/${db}/d?rev=${rev}&revs=true`);
      t.same(res.body.results[i].docs, [{ ok: one.body }], `revision ${i + 1}`);
    }
    t.equal(res.body.results[1].docs[0].ok._deleted, true);
    t.match(res.body.results[0].docs[0].ok._attachments['a.txt'], { stub: true, length: 2 });
  },
);

t.test('_revs_diff: missing revisions and possible ancestors', async (t) => {
  const db = await createDb(server, 'revsdiff');
  const r1 = await admin('PUT', `/${db}/doc`, { body: { v: 1 } });
  const r2 = await admin('PUT', `/${db}/doc`, { body: { _rev: r1.body.rev, v: 2 } });
  const res = await admin('POST', `/${db}/_revs_diff`, {
    body: { doc: [r1.body.rev, r2.body.rev, `3-${H(3)}`], fresh: [`1-${H(1)}`], known: [] },
  });
  t.equal(res.status, 200);
  t.same(res.body.doc.missing, [`3-${H(3)}`]);
  t.same(res.body.doc.possible_ancestors, [r2.body.rev]);
  t.same(
    res.body.fresh,
    { missing: [`1-${H(1)}`] },
    'no possible_ancestors for an unknown document',
  );
  t.notOk(res.body.known, 'nothing missing: not listed');
  const allKnown = await admin('POST', `/${db}/_revs_diff`, { body: { doc: [r2.body.rev] } });
  t.same(allKnown.body, {});
  const bad = await admin('POST', `/${db}/_revs_diff`, { body: { doc: 'not a list' } });
  t.equal(bad.status, storeOr500(server, 400));
});

// Answers read off Apache CouchDB 3.5.0 for the same requests.
t.test('_revs_diff: ancestors without bodies, deleted leaves, repeats and order', async (t) => {
  const db = await createDb(server, 'revsdiff-tree');
  const [a, b, c, d] = [H(0xa), H(0xb), H(0xc), H(0xd)];
  await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      new_edits: false,
      docs: [
        { _id: 'x', _rev: `3-${c}`, _revisions: { start: 3, ids: [c, b, a] }, v: 1 },
        { _id: 'x', _rev: `2-${d}`, _revisions: { start: 2, ids: [d, a] }, _deleted: true },
      ],
    },
  });
  const res = await admin('POST', `/${db}/_revs_diff`, {
    body: {
      x: [`5-${H(5)}`, `2-${b}`, `1-${a}`, `4-${H(0xf)}`, `2-${d}`, `2-${b}`, `4-${H(0xe)}`],
      y: [`5-${H(5)}`, `4-${H(4)}`],
    },
  });
  t.same(
    res.body.x,
    {
      missing: [`2-${b}`, `4-${H(0xe)}`, `4-${H(0xf)}`, `5-${H(5)}`],
      possible_ancestors: [`3-${c}`, `2-${d}`],
    },
    'an ancestor known only by its hash is not missing (once per mention); sorted; deleted leaves are ancestors',
  );
  t.same(res.body.y, { missing: [`5-${H(5)}`, `4-${H(4)}`] }, 'an unknown document: as asked');
});

t.test('_all_docs: ranges, keys, paging, include_docs, conflicts', async (t) => {
  const db = await createDb(server, 'alldocs');
  await admin('POST', `/${db}/_bulk_docs`, {
    body: { docs: ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ _id: id, i })) },
  });
  const d = await admin('GET', `/${db}/d`);
  await admin('DELETE', `/${db}/d?rev=${d.body._rev}`);
  await admin('POST', `/${db}/_bulk_docs`, {
    body: { new_edits: false, docs: [{ _id: 'e', _rev: `1-${H(255)}`, other: true }] },
  });
  await admin('PUT', `/${db}/_design/x`, { body: {} });
  await admin('PUT', `/${db}/_local/l`, { body: {} });

  const all = await admin('GET', `/${db}/_all_docs`);
  t.equal(all.status, 200);
  t.equal(all.body.total_rows, 5, 'deleted and local documents are not counted');
  t.equal(all.body.offset, 0);
  t.same(
    all.body.rows.map((r: { id: string }) => r.id),
    ['_design/x', 'a', 'b', 'c', 'e'],
  );
  t.match(all.body.rows[1], { id: 'a', key: 'a', value: { rev: /^1-/ } });

  const range = await admin('GET', `/${db}/_all_docs?startkey=${q('b')}&endkey=${q('c')}`);
  t.same(
    range.body.rows.map((r: { id: string }) => r.id),
    ['b', 'c'],
  );
  const exclusive = await admin(
    'GET',
    `/${db}/_all_docs?startkey=${q('b')}&endkey=${q('c')}&inclusive_end=false`,
  );
  t.same(
    exclusive.body.rows.map((r: { id: string }) => r.id),
    ['b'],
  );
  const paged = await admin('GET', `/${db}/_all_docs?limit=2&skip=1`);
  t.same(
    paged.body.rows.map((r: { id: string }) => r.id),
    ['a', 'b'],
  );
  t.equal(paged.body.offset, 1);
  const desc = await admin('GET', `/${db}/_all_docs?descending=true&limit=2`);
  t.same(
    desc.body.rows.map((r: { id: string }) => r.id),
    ['e', 'c'],
  );
  const descRange = await admin(
    'GET',
    `/${db}/_all_docs?descending=true&startkey=${q('c')}&endkey=${q('a')}`,
  );
  t.same(
    descRange.body.rows.map((r: { id: string }) => r.id),
    ['c', 'b', 'a'],
  );
  const one = await admin('GET', `/${db}/_all_docs?key=${q('b')}&include_docs=true`);
  t.equal(one.body.rows.length, 1);
  t.equal(one.body.rows[0].doc.i, 1);

  const keys = await admin('POST', `/${db}/_all_docs?include_docs=true`, {
    body: { keys: ['c', 'zz', 'd', 'a'] },
  });
  t.equal(keys.status, 200);
  t.same(
    keys.body.rows.map((r: { key: string }) => r.key),
    ['c', 'zz', 'd', 'a'],
    'in the order asked',
  );
  t.same(keys.body.rows[1], { key: 'zz', error: 'not_found' });
  t.match(keys.body.rows[2], {
    id: 'd',
    key: 'd',
    value: { rev: /^2-/, deleted: true },
    doc: null,
  });
  t.equal(keys.body.rows[3].doc.i, 0);
  const getKeys = await admin('GET', `/${db}/_all_docs?keys=${q(['e', 'b'])}`);
  t.same(
    getKeys.body.rows.map((r: { id: string }) => r.id),
    ['e', 'b'],
  );

  const conflicts = await admin(
    'GET',
    `/${db}/_all_docs?include_docs=true&conflicts=true&key=${q('e')}`,
  );
  t.equal(conflicts.body.rows[0].doc._conflicts.length, 1);

  const seq = await admin('GET', `/${db}/_all_docs?update_seq=true&limit=0`);
  t.type(seq.body.update_seq, 'string');
  t.same(seq.body.rows, []);

  const badKeys = await admin('POST', `/${db}/_all_docs`, { body: { keys: 'a' } });
  t.equal(badKeys.status, 400);
  const badJson = await admin('GET', `/${db}/_all_docs?startkey=notjson`);
  t.equal(badJson.status, 400);
  const badLimit = await admin('GET', `/${db}/_all_docs?limit=-5`);
  t.equal(badLimit.status, 400);
  t.equal(badLimit.body.error, 'query_parse_error');
});

t.test('_design_docs and _local_docs list only their namespace', async (t) => {
  const db = await createDb(server, 'namespaces');
  await admin('PUT', `/${db}/plain`, { body: {} });
  await admin('PUT', `/${db}/_design/one`, { body: {} });
  await admin('PUT', `/${db}/_local/cp-1`, { body: { seq: 1 } });
  await admin('PUT', `/${db}/_local/cp-2`, { body: { seq: 2 } });
  const design = await admin('GET', `/${db}/_design_docs`);
  t.same(
    design.body.rows.map((r: { id: string }) => r.id),
    ['_design/one'],
  );
  const local = await admin('GET', `/${db}/_local_docs?include_docs=true`);
  t.equal(local.status, 200);
  t.same(
    local.body.rows.map((r: { id: string }) => r.id),
    ['_local/cp-1', '_local/cp-2'],
  );
  t.equal(local.body.rows[1].doc.seq, 2);
});
