import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { client, createDb, createUser } from '../helpers/fixtures.js';
import { phone, remote } from '../helpers/phones.js';

const server = await testCouch(t);
const admin = client(server, server.adminAuth);
const H = (n: number) => n.toString(16).padStart(32, '0');

/**
 * Refuses documents marked `bad`, asks for a login on `needs_login`, and on
 * `echo` refuses with its arguments as JSON so a test can read what it was given.
 */
const VALIDATE = `function (newDoc, oldDoc, userCtx, secObj) {
  if (newDoc.echo) {
    throw({ forbidden: JSON.stringify({ old: oldDoc ? oldDoc._rev : null, oldV: oldDoc ? oldDoc.v : null, user: userCtx, sec: secObj, deleted: !!newDoc._deleted }) });
  }
  if (newDoc.bad) throw({ forbidden: 'bad documents are not allowed' });
  if (newDoc.needs_login) throw({ unauthorized: 'log in first' });
  if (newDoc._deleted && oldDoc && oldDoc.locked) throw({ forbidden: 'locked' });
  if (newDoc._attachments && newDoc._attachments['virus.exe']) throw({ forbidden: 'no executables' });
}`;

async function validatedDb(security?: Record<string, unknown>) {
  const db = await createDb(server, 'vdu', security);
  const res = await admin('PUT', `/${db}/_design/rules`, {
    body: { validate_doc_update: VALIDATE },
  });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return db;
}

t.test('forbidden is 403 and unauthorized is 401 on PUT, POST and DELETE', async (t) => {
  const db = await validatedDb();
  const bad = await admin('PUT', `/${db}/x`, { body: { bad: true } });
  t.equal(bad.status, 403);
  t.same(bad.body, { error: 'forbidden', reason: 'bad documents are not allowed' });
  const login = await admin('PUT', `/${db}/y`, { body: { needs_login: true } });
  t.equal(login.status, 401);
  t.same(login.body, { error: 'unauthorized', reason: 'log in first' });
  const post = await admin('POST', `/${db}`, { body: { bad: true } });
  t.equal(post.status, 403);
  const locked = await admin('PUT', `/${db}/locked`, { body: { locked: true } });
  const del = await admin('DELETE', `/${db}/locked?rev=${locked.body.rev}`);
  t.equal(del.status, 403);
  t.equal(del.body.reason, 'locked');
  t.equal((await admin('GET', `/${db}/locked`)).status, 200, 'still there');
  t.equal((await admin('GET', `/${db}/x`)).status, 404, 'nothing half-written');
});

t.test(
  'the function sees newDoc, oldDoc, userCtx {db, name, roles} and the security object',
  async (t) => {
    const sec = { admins: { names: [], roles: [] }, members: { names: [], roles: ['field'] } };
    const db = await validatedDb(sec);
    const agent = await createUser(server, 'vdu-agent', ['field']);
    const asAgent = client(server, agent.auth);
    const first = await asAgent('PUT', `/${db}/doc`, { body: { v: 1 } });
    t.equal(first.status, 201);
    const res = await asAgent('PUT', `/${db}/doc`, { body: { _rev: first.body.rev, echo: true } });
    t.equal(res.status, 403);
    const seen = JSON.parse(res.body.reason);
    t.equal(seen.old, first.body.rev, 'oldDoc is the revision being replaced');
    t.equal(seen.oldV, 1);
    t.same(seen.user, { db, name: agent.name, roles: ['field'] });
    t.same(seen.sec, sec);
    const created = await asAgent('PUT', `/${db}/fresh`, { body: { echo: true } });
    t.equal(JSON.parse(created.body.reason).old, null, 'oldDoc is null for a new document');
    const delEcho = await admin('PUT', `/${db}/doc`, {
      body: { _rev: first.body.rev, _deleted: true, echo: true },
    });
    t.equal(JSON.parse(delEcho.body.reason).deleted, true);
  },
);

t.test('_bulk_docs: per-document forbidden, the rest written', async (t) => {
  const db = await validatedDb();
  const res = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      docs: [
        { _id: 'ok-1' },
        { _id: 'bad-1', bad: true },
        { _id: 'login-1', needs_login: true },
        { _id: 'ok-2' },
      ],
    },
  });
  t.equal(res.status, 201);
  t.match(res.body[0], { ok: true, id: 'ok-1' });
  t.same(res.body[1], { id: 'bad-1', error: 'forbidden', reason: 'bad documents are not allowed' });
  t.same(res.body[2], { id: 'login-1', error: 'unauthorized', reason: 'log in first' });
  t.match(res.body[3], { ok: true, id: 'ok-2' });
  t.equal((await admin('GET', `/${db}/bad-1`)).status, 404);
});

t.test('new_edits=false is validated too, with oldDoc the replicated parent', async (t) => {
  const db = await validatedDb();
  const res = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      new_edits: false,
      docs: [
        { _id: 'r-ok', _rev: `1-${H(1)}`, v: 1 },
        { _id: 'r-bad', _rev: `1-${H(2)}`, bad: true },
      ],
    },
  });
  t.equal(res.status, 201);
  t.same(res.body, [
    { id: 'r-bad', rev: `1-${H(2)}`, error: 'forbidden', reason: 'bad documents are not allowed' },
  ]);
  t.equal((await admin('GET', `/${db}/r-ok`)).status, 200);
  t.equal((await admin('GET', `/${db}/r-bad`)).status, 404);
  const child = await admin('POST', `/${db}/_bulk_docs`, {
    body: {
      new_edits: false,
      docs: [
        { _id: 'r-ok', _rev: `2-${H(3)}`, echo: true, _revisions: { start: 2, ids: [H(3), H(1)] } },
      ],
    },
  });
  t.equal(JSON.parse(child.body[0].reason).old, `1-${H(1)}`);
  const put = await admin('PUT', `/${db}/r-put?new_edits=false`, {
    body: { _rev: `1-${H(4)}`, bad: true },
  });
  t.equal(put.status, 403, 'PUT ?new_edits=false is validated');
});

t.test('attachments: standalone uploads are validated', async (t) => {
  const db = await validatedDb();
  const doc = await admin('PUT', `/${db}/files`, { body: {} });
  const res = await fetch(`${server.url}/${db}/files/virus.exe?rev=${doc.body.rev}`, {
    method: 'PUT',
    headers: { authorization: server.adminAuth, 'content-type': 'application/octet-stream' },
    body: 'MZ',
  });
  t.equal(res.status, 403);
  t.equal(((await res.json()) as { reason: string }).reason, 'no executables');
});

t.test('_local documents and design documents are not validated', async (t) => {
  const db = await validatedDb();
  t.equal((await admin('PUT', `/${db}/_local/x`, { body: { bad: true } })).status, 201);
  t.equal((await admin('PUT', `/${db}/_design/other`, { body: { bad: true } })).status, 201);
});

t.test('replication reports refused documents and writes the rest', async (t) => {
  const db = await validatedDb();
  const a = phone();
  await a.bulkDocs([
    { _id: 'p-ok', v: 1 },
    { _id: 'p-bad', bad: true },
  ]);
  const res = await a.replicate.to(
    remote(`${server.url}/${db}`, () => ({ authorization: server.adminAuth })),
  );
  t.equal(res.docs_written, 1);
  t.equal(res.doc_write_failures, 1);
});

t.test('design documents that do not compile are refused when written', async (t) => {
  const db = await createDb(server, 'ddoc-bad');
  const map = await admin('PUT', `/${db}/_design/map`, {
    body: { views: { v: { map: 'not a function' } } },
  });
  t.equal(map.status, 400);
  t.equal(map.body.error, 'compilation_error');
  const shape = await admin('PUT', `/${db}/_design/shape`, { body: { views: { v: { map: 5 } } } });
  t.equal(shape.status, 400);
  t.equal(shape.body.error, 'invalid_design_doc');
  const reduce = await admin('PUT', `/${db}/_design/reduce`, {
    body: { views: { v: { map: 'function (d) {}', reduce: '_median' } } },
  });
  t.equal(reduce.status, 400);
  t.equal(reduce.body.error, 'invalid_design_doc');
  t.equal(
    (await admin('PUT', `/${db}/plain`, { body: {} })).status,
    201,
    'the database still takes writes',
  );
  // A validate function that does not compile: the store refuses it when written. CouchDB
  // 3.5 takes it, then refuses every write to the database with 500 compilation_error.
  const vduDb = await createDb(server, 'vdu-bad');
  const vdu = await admin('PUT', `/${vduDb}/_design/broken`, {
    body: { validate_doc_update: 'function (newDoc { nope' },
  });
  const after = await admin('PUT', `/${vduDb}/plain`, { body: {} });
  if (server.embedded) {
    t.equal(vdu.status, 400);
    t.equal(vdu.body.error, 'compilation_error');
    t.equal(after.status, 201, 'the database still takes writes');
  } else {
    t.equal(vdu.status, 201);
    t.equal(after.status, 500);
    t.equal(after.body.error, 'compilation_error');
  }
});

t.test('a design document checked before is checked again when any function differs', async (t) => {
  // The store compiles a design document's functions once for every database that carries
  // the same ones (docs/store.md); a function beside them that does not compile is still seen.
  const good = {
    validate_doc_update: VALIDATE,
    views: { v: { map: 'function (d) { emit(d._id, 1); }', reduce: '_count' } },
    filters: { f: 'function (d, req) { return true; }' },
  };
  const broken = {
    filter: { ...good, filters: { f: 'function (d, req) { return' } },
    map: { ...good, views: { v: { map: 'function (d) { emit(', reduce: '_count' } } },
    reduce: { ...good, views: { v: { ...good.views.v, reduce: 'function (k, v) {' } } },
    validate: { ...good, validate_doc_update: `${VALIDATE.slice(0, -1)}` },
  };
  // CouchDB 3.5 takes a filter or validate function that does not compile (the store refuses).
  const couchTakes = ['filter', 'validate'];
  for (const round of [1, 2]) {
    for (const [what, body] of Object.entries(broken)) {
      const db = await createDb(server, 'ddoc-again');
      const ok = await admin('PUT', `/${db}/_design/same`, { body: good });
      t.equal(ok.status, 201, `round ${round}: the good design document is taken`);
      const res = await admin('PUT', `/${db}/_design/same`, {
        body: { ...body, _rev: ok.body.rev },
      });
      const want = !server.embedded && couchTakes.includes(what) ? 201 : 400;
      t.equal(res.status, want, `round ${round}: a broken ${what} beside the same functions`);
    }
  }
});

t.test(
  'an endless validate function refuses the write with a reason; the store keeps serving',
  async (t) => {
    const db = await createDb(server, 'vdu-loop');
    await admin('PUT', `/${db}/_design/loop`, {
      body: { validate_doc_update: 'function (newDoc) { while (true) {} }' },
    });
    const res = await admin('PUT', `/${db}/doc`, { body: { v: 1 } });
    if (server.embedded) {
      // docs/store.md: the store stops it at its 1 s sandbox limit and refuses the write.
      t.equal(res.status, 403);
      t.match(res.body.reason, /time limit/);
    } else {
      // CouchDB 3.5 gives up after about 5 s.
      t.equal(res.status, 500);
      t.same(res.body, { error: 'os_process_error', reason: 'OS process timed out.' });
    }
    t.equal((await admin('GET', `/${db}/doc`)).status, 404, 'not written');
    t.equal((await admin('GET', '/_up')).status, 200, 'the store still answers');
    const hog = await createDb(server, 'vdu-mem');
    await admin('PUT', `/${hog}/_design/hog`, {
      body: {
        validate_doc_update:
          'function (newDoc) { var a = []; while (true) { a.push(new Array(100000).join("x")); } }',
      },
    });
    const big = await admin('PUT', `/${hog}/doc`, { body: {} });
    if (server.embedded) {
      t.equal(big.status, 403);
      t.match(big.body.reason, /memory|time/);
    } else {
      t.equal(big.status, 500, `CouchDB: ${JSON.stringify(big.body)}`);
    }
    t.equal(
      (
        await admin(
          'PUT',
          `/${db}/_design/loop?rev=${(await admin('GET', `/${db}/_design/loop`)).body._rev}`,
          { body: {} },
        )
      ).status,
      201,
    );
    t.equal(
      (await admin('PUT', `/${db}/doc`, { body: { v: 2 } })).status,
      201,
      'writes go through once the function is gone',
    );
  },
);

t.test(
  'a changed, added or deleted design document changes what is validated at once',
  async (t) => {
    const db = await createDb(server, 'vdu-change');
    const refuse = (field: string) =>
      `function (newDoc) { if (newDoc.${field}) throw({ forbidden: '${field} refused' }); }`;
    const put = (id: string, body: Record<string, unknown>) =>
      admin('PUT', `/${db}/${id}`, { body });
    t.equal((await put('a1', { x: 1 })).status, 201, 'no validator yet');
    const first = await put('_design/one', { validate_doc_update: refuse('x') });
    t.equal(first.status, 201);
    t.equal((await put('a2', { x: 1 })).status, 403, 'a new design doc applies to the next write');
    const second = await put('_design/one', {
      _rev: first.body.rev,
      validate_doc_update: refuse('y'),
    });
    t.equal(second.status, 201);
    t.equal((await put('a3', { x: 1 })).status, 201, 'the old rule is gone');
    t.equal((await put('a4', { y: 1 })).status, 403, 'the changed rule applies');
    // A design document arriving by replication counts too.
    const replicated = await admin('POST', `/${db}/_bulk_docs`, {
      body: {
        new_edits: false,
        docs: [
          {
            _id: '_design/two',
            _rev: `1-${H(7)}`,
            validate_doc_update: refuse('z'),
            _revisions: { start: 1, ids: [H(7)] },
          },
        ],
      },
    });
    t.equal(replicated.status, 201);
    t.equal((await put('a5', { z: 1 })).status, 403, 'a replicated design doc applies');
    const removed = await admin('DELETE', `/${db}/_design/one?rev=${second.body.rev}`);
    t.equal(removed.status, 200);
    t.equal((await put('a6', { y: 1 })).status, 201, 'a deleted design doc no longer applies');
  },
);
