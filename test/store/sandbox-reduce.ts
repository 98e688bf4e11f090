import t from 'tap';
import {
  BuiltinReduceError,
  compileReduce,
  loadEngine,
  SandboxCompileError,
  SandboxThrow,
  SUM_ERROR,
} from '../../server/store/sandbox/index.js';

await loadEngine();

/** Rows as a view engine passes them: keys are [key, docId] pairs. */
function rows(values: unknown[]): [Array<[unknown, string]>, unknown[]] {
  return [values.map((_, i) => [i, `doc${i}`]), values];
}

t.test('_sum adds numbers, arrays element-wise and objects field-wise', async (t) => {
  const reduce = compileReduce('_sum', 'v');
  t.equal(reduce(...rows([1, 2, 3.5]), false), 6.5);
  t.equal(reduce(...rows([]), false), 0);
  t.strictSame(
    reduce(
      ...rows([
        [1, 2],
        [3, 4, 5],
      ]),
      false,
    ),
    [4, 6, 5],
  );
  t.strictSame(reduce(...rows([1, [1, 2]]), false), [2, 2], 'a number adds to the first element');
  t.strictSame(reduce(...rows([[1, 2], 10]), false), [11, 2]);
  const x = { a: 1, b: [1, 2], c: { d: 3 }, g: 1 };
  const y = { a: 2, b: 3, c: { e: 5 }, f: 1, g: 1 };
  const z = { a: 3, b: [4, 2], c: { d: 3, e: 5 }, f: 1, g: 2 };
  t.strictSame(reduce(...rows([x, y]), false), z, 'the example of couch_query_servers.erl');
  t.strictSame(reduce(...rows([y, x]), false), z);
  t.strictSame(reduce(null, [6, 4, [1]], true), [11], 'rereduce sums the same way');
});

t.test('_sum of bad values gives CouchDB`s error object as the value', async (t) => {
  const reduce = compileReduce('_sum', 'v');
  t.strictSame(reduce(...rows([1, 'abc', 2]), false), {
    error: 'builtin_reduce_error',
    reason: SUM_ERROR,
    caused_by: 'abc',
  });
  t.match(
    SUM_ERROR,
    /^The _sum function requires that map values be numbers, arrays of numbers, or objects\./,
  );
  t.strictSame(reduce(...rows([null]), false), {
    error: 'builtin_reduce_error',
    reason: SUM_ERROR,
    caused_by: null,
  });
  const mixed = reduce(
    ...rows([
      [1, 2, 3],
      [{ a: 1 }, { a: 2 }, { a: 3 }],
    ]),
    false,
  );
  t.match(mixed, { error: 'builtin_reduce_error', reason: SUM_ERROR });
  t.match(reduce(...rows([{ a: 1 }, [1]]), false), {
    error: 'builtin_reduce_error',
    caused_by: [1],
  });
  const earlier = { error: 'builtin_reduce_error', reason: 'from a shard' };
  t.strictSame(reduce(null, [3, earlier, 4], true), earlier, 'an earlier error is passed on');
});

t.test('_count counts rows and sums counts on rereduce', async (t) => {
  const reduce = compileReduce('_count', 'v');
  t.equal(reduce(...rows(['a', null, { x: 1 }]), false), 3);
  t.equal(reduce(...rows([]), false), 0);
  t.equal(reduce(null, [3, 4, 0], true), 7);
});

t.test('_stats of numbers, arrays of numbers and earlier results', async (t) => {
  const reduce = compileReduce('_stats', 'v');
  t.strictSame(reduce(...rows([2]), false), { sum: 2, count: 1, min: 2, max: 2, sumsqr: 4 });
  t.strictSame(reduce(...rows([3, 1, 2]), false), { sum: 6, count: 3, min: 1, max: 3, sumsqr: 14 });
  t.strictSame(reduce(...rows([]), false), { sum: 0, count: 0, min: 0, max: 0, sumsqr: 0 });
  t.strictSame(reduce(...rows([[1, 2]]), false), [
    { sum: 1, count: 1, min: 1, max: 1, sumsqr: 1 },
    { sum: 2, count: 1, min: 2, max: 2, sumsqr: 4 },
  ]);
  t.strictSame(
    reduce(
      ...rows([
        [2, 3, 5],
        [7, 11, 13],
      ]),
      false,
    ),
    [
      { sum: 9, count: 2, min: 2, max: 7, sumsqr: 53 },
      { sum: 14, count: 2, min: 3, max: 11, sumsqr: 130 },
      { sum: 18, count: 2, min: 5, max: 13, sumsqr: 194 },
    ],
  );
  const a = reduce(...rows([3, 1, 2]), false);
  const b = reduce(...rows([4, -1]), false);
  t.strictSame(reduce(null, [a, b], true), { sum: 9, count: 5, min: -1, max: 4, sumsqr: 31 });
  t.strictSame(
    reduce(...rows([{ sum: 10, count: 2, min: 4, max: 6, sumsqr: 52 }, 1]), false),
    { sum: 11, count: 3, min: 1, max: 6, sumsqr: 53 },
    'pre-aggregated values are accepted as map output',
  );
});

t.test('_stats refuses what is not a number with CouchDB`s reasons', async (t) => {
  const reduce = compileReduce('_stats', 'v');
  const cases: Array<[unknown[], string]> = [
    [['abc'], 'non-numeric _stats input: <<97,98,99>>'],
    [[null], 'non-numeric _stats input: null'],
    [
      [1, 'abc'],
      'The _stats function requires that map values be numbers or arrays of numbers, not \'<<"abc">>\'',
    ],
    [
      [1, [1, 2]],
      "The _stats function requires that map values be numbers or arrays of numbers, not '[1,2]'",
    ],
    [[{ sum: 1 }], 'user _stats input missing required field count ([{<<"sum">>,1}])'],
    [
      [{ sum: 1, count: 'x', min: 1, max: 1, sumsqr: 1 }],
      'non-numeric _stats input received for count: <<120>>',
    ],
  ];
  for (const [values, reason] of cases) {
    const err = t.throws(() => reduce(...rows(values), false)) as BuiltinReduceError;
    t.type(err, BuiltinReduceError, JSON.stringify(values));
    t.equal(err.error, 'invalid_value');
    t.equal(err.reason, reason);
  }
});

t.test('_approx_count_distinct estimates distinct keys and merges on rereduce', async (t) => {
  const reduce = compileReduce('_approx_count_distinct', 'v');
  const keys = (ks: unknown[]) => ks.map((k, i) => [k, `doc${i}`]);
  const small = reduce(keys(['a', 'b', 'a', ['x', 1], ['x', 1], null]), [], false);
  t.equal(reduce.finalize(small), 4);
  t.equal(JSON.stringify({ value: small }), '{"value":4}', 'serializes as its estimate');
  const left = reduce(keys(['a', 'b']), [], false);
  const right = reduce(keys(['b', 'c', 'd']), [], false);
  t.equal(reduce.finalize(reduce(null, [left, right], true)), 4);
  const many = reduce(
    keys(Array.from({ length: 20000 }, (_, i) => `mteja-${i % 10000}`)),
    [],
    false,
  );
  const estimate = reduce.finalize(many) as number;
  t.ok(Math.abs(estimate - 10000) / 10000 < 0.06, `10000 distinct keys estimated as ${estimate}`);
  t.throws(() => reduce(null, [3], true), BuiltinReduceError);
  t.throws(() => reduce(null, [], false), BuiltinReduceError);
});

t.test('built-ins are matched by prefix; unknown ones do not compile', async (t) => {
  t.equal(compileReduce('_count\n', 'v')(...rows([1, 2]), false), 2);
  t.equal(compileReduce('_sum_of_everything', 'v')(...rows([1, 2]), false), 3);
  const err = t.throws(() => compileReduce('_median', '_design/d/views/v')) as SandboxCompileError;
  t.type(err, SandboxCompileError);
  t.equal(err.couchError, 'invalid_design_doc');
  t.equal(err.message, '_design/d/views/v: `_median` is not a supported reduce function.');
  t.equal(compileReduce('_sum', 'v').finalize(5), 5);
});

t.test('any other source is a JavaScript reduce run in the sandbox', async (t) => {
  const reduce = compileReduce(
    `function (keys, values, rereduce) {
      if (rereduce) return sum(values);
      return values.length + keys.filter(function (k) { return k[1] === 'doc0' }).length * 100;
    }`,
    '_design/d/views/v',
  );
  t.teardown(() => reduce.dispose());
  t.equal(reduce(...rows(['a', 'b']), false), 102);
  t.equal(reduce(null, [102, 3], true), 105);
  t.equal(reduce.finalize(7), 7);
  t.equal(compileReduce('function () {}', 'v')(null, [], true), null, 'undefined becomes null');
  t.throws(() => compileReduce('function (keys, values) {', 'v'), SandboxCompileError);
});

t.test('a throwing JavaScript reduce gives null, unless it is fatal', async (t) => {
  const errors: SandboxThrow[] = [];
  const reduce = compileReduce(
    'function (k, values) { if (values[0] === "fatal") throw "fatal_error"; return values[0].x.y }',
    'v',
    { onError: (err) => errors.push(err) },
  );
  t.teardown(() => reduce.dispose());
  t.equal(reduce(null, [{}], true), null);
  t.equal(errors.length, 1);
  t.match(errors[0]?.value, { name: 'TypeError' });
  t.throws(() => reduce(null, ['fatal'], true), SandboxThrow);
  t.equal(reduce(null, [{ x: { y: 5 } }], true), 5);
});
