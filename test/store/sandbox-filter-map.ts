import t from 'tap';
import {
  compileFilter,
  compileMap,
  FilterError,
  loadEngine,
  Sandbox,
  SandboxCompileError,
  SandboxLimitError,
  SandboxThrow,
} from '../../server/store/sandbox/index.js';

await loadEngine();

const req = { query: { type: 'visit' }, userCtx: { db: 'db', name: 'amina', roles: [] } };

t.test('a filter includes a document when it returns something truthy', async (t) => {
  const filter = compileFilter(
    `function (doc, req) {
      if (doc.type === req.query.type) return doc.type;
      if (doc.flag) return 1;
      return doc.empty;
    }`,
    '_design/app/filters/by_type',
  );
  t.teardown(() => filter.dispose());
  t.equal(filter.label, '_design/app/filters/by_type');
  t.equal(filter({ type: 'visit' }, req), true);
  t.equal(filter({ type: 'farmer', flag: true }, req), true);
  t.equal(filter({ type: 'farmer', empty: '' }, req), false);
  t.equal(filter({ type: 'farmer' }, req), false);
  t.equal(filter({ type: 'farmer', empty: 0 }, req), false);
});

t.test('a throwing filter throws FilterError with the error CouchDB reports', async (t) => {
  const filter = compileFilter(
    `function (doc, req) {
      if (doc.k === 'type') return doc.missing.field;
      if (doc.k === 'couch') throw(['error', 'not_found', 'no such thing']);
      if (doc.k === 'object') throw({error: 'bad_request', reason: 'nope'});
      if (doc.k === 'string') throw 'oops';
      return true;
    }`,
    'f',
  );
  t.teardown(() => filter.dispose());
  const cases: Array<[string, string, RegExp | string]> = [
    ['type', 'TypeError', /field/],
    ['couch', 'not_found', 'no such thing'],
    ['object', 'bad_request', 'nope'],
    ['string', 'unnamed_error', 'oops'],
  ];
  for (const [k, error, reason] of cases) {
    const err = t.throws(() => filter({ k }, req)) as FilterError;
    t.type(err, FilterError, k);
    t.equal(err.error, error, k);
    t.match(err.reason, reason, k);
    t.type(err.cause, SandboxThrow);
  }
  t.equal(filter({ k: 'fine' }, req), true, 'the filter still works');
});

t.test('a filter over its time limit throws FilterError os_process_error', async (t) => {
  const filter = compileFilter('function (doc) { while (doc) {} }', 'f', { timeoutMs: 30 });
  t.teardown(() => filter.dispose());
  const err = t.throws(() => filter({}, req)) as FilterError;
  t.equal(err.error, 'os_process_error');
  t.equal(err.reason, 'f ran longer than its 30 ms time limit');
  t.type(err.cause, SandboxLimitError);
});

t.test('a filter that does not compile throws SandboxCompileError', async (t) => {
  t.throws(() => compileFilter('function (doc, req) {', 'f'), SandboxCompileError);
});

t.test('map collects every emit of one call', async (t) => {
  const map = compileMap(
    `function (doc) {
      if (doc.type !== 'visit') return;
      emit(doc.farmer);
      emit([doc.farmer, doc.date], { acres: doc.acres });
      doc.tags.forEach(function (tag) { emit(tag.toLowerCase(), 1); });
    }`,
    '_design/app/views/by_farmer',
  );
  t.teardown(() => map.dispose());
  t.strictSame(
    map({ type: 'visit', farmer: 'f:1', date: '2024-05-01', acres: 2.5, tags: ['Mahindi', 'Ñ'] }),
    [
      ['f:1', null],
      [['f:1', '2024-05-01'], { acres: 2.5 }],
      ['mahindi', 1],
      ['ñ', 1],
    ],
  );
  t.strictSame(map({ type: 'farmer' }), []);
});

t.test('a map function that throws skips that document and reports it', async (t) => {
  const reported: Array<[SandboxThrow, unknown]> = [];
  const map = compileMap('function (doc) { emit(doc._id, 1); emit(doc.a.b, 2); }', 'm', {
    onError: (err, doc) => reported.push([err, doc]),
  });
  t.teardown(() => map.dispose());
  t.strictSame(map({ _id: 'bad' }), [], 'rows emitted before the throw are dropped too');
  t.equal(reported.length, 1);
  t.match(reported[0]?.[0].value, { name: 'TypeError' });
  t.strictSame(reported[0]?.[1], { _id: 'bad' });
  t.strictSame(map({ _id: 'good', a: { b: 'x' } }), [
    ['good', 1],
    ['x', 2],
  ]);
});

t.test("CouchDB's fatal errors and limits stop the index build", async (t) => {
  const map = compileMap(
    `function (doc) {
      if (doc.fatal) throw 'fatal_error';
      if (doc.die) throw(['fatal', 'my_error', 'stop']);
      if (doc.loop) while (true) {}
      emit(doc._id, null);
    }`,
    'm',
    { timeoutMs: 30 },
  );
  t.teardown(() => map.dispose());
  t.throws(() => map({ fatal: true }), SandboxThrow);
  t.throws(() => map({ die: true }), SandboxThrow);
  t.throws(() => map({ loop: true }), SandboxLimitError);
  t.strictSame(map({ _id: 'ok' }), [['ok', null]]);
});

t.test('functions of one design doc can share a sandbox', async (t) => {
  const sandbox = Sandbox.create();
  const map = compileMap('function (doc) { emit(doc.type, null) }', 'm', { sandbox });
  const filter = compileFilter('function (doc) { return doc.type === "a" }', 'f', { sandbox });
  t.strictSame(map({ type: 'a' }), [['a', null]]);
  t.equal(filter({ type: 'a' }, {}), true);
  map.dispose();
  filter.dispose();
  t.equal(sandbox.disposed, false, 'a shared sandbox belongs to whoever created it');
  sandbox.dispose();
});
