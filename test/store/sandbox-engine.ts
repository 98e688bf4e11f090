import t from 'tap';
import {
  loadEngine,
  Sandbox,
  SandboxCompileError,
  SandboxLimitError,
  SandboxThrow,
} from '../../server/store/sandbox/index.js';
import { engineHeapBytes } from '../../server/store/sandbox/wasm.js';

await loadEngine();

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

t.test('compiles CouchDB function sources as they are stored', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const sources = [
    'function (doc) { return doc.n + 1 }',
    '  \n\tfunction(doc){ return doc.n + 1 }\n  ',
    '// adds one\nfunction (doc) {\n  return doc.n + 1; // the answer\n}',
    'function (doc) { return doc.n + 1 };',
    'function (doc) { return doc.n + 1 }; // trailing comment; with a semicolon',
    '/* block */ function (doc) { return doc.n + 1 } /* after */',
    '(function (doc) { return doc.n + 1 })',
    'function named(doc) { return doc.n + 1 }',
  ];
  for (const source of sources) {
    const fn = sb.compile(source, 'add');
    t.equal(sb.call(fn, [{ n: 41 }]), 42, JSON.stringify(source));
  }
});

t.test('compile errors are SandboxCompileError with a readable message', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const cases: Array<[string, RegExp]> = [
    ['function (doc) { emit(doc._id, 1) ', /^_design\/d\/views\/v\/map: SyntaxError: /],
    ['function (doc) { retur n 1 }', /SyntaxError: .*\(line 1, column \d+\)$/],
    ['function (doc) {\n  var = 1;\n}', /SyntaxError: .*\(line 2, column \d+\)$/],
    ['42', /expression does not evaluate to a function \(got number\)/],
    ['"function () {}"', /expression does not evaluate to a function \(got string\)/],
    ['', /missing function/],
    ['   ', /missing function/],
    ['function (a) {}; function (b) {}', /SyntaxError/],
  ];
  for (const [source, message] of cases) {
    const err = thrown(() => sb.compile(source, '_design/d/views/v/map'));
    t.type(err, SandboxCompileError, JSON.stringify(source));
    t.match((err as SandboxCompileError).message, message, JSON.stringify(source));
    t.equal((err as SandboxCompileError).couchError, 'compilation_error');
  }
  // A failed compile leaves the sandbox as it was.
  const ok = sb.compile('function () { return "still fine" }', 'ok');
  t.equal(sb.call(ok, []), 'still fine');
});

t.test('JSON goes in and comes out unchanged: unicode, nesting, nulls', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const echo = sb.compile('function (a, b) { return [a, b] }', 'echo');
  const doc = {
    _id: 'mteja:Zawadi Mwangâ',
    name: 'Zawadi Mwangâ ☕ 😀',
    text: 'line\nbreak\ttab "quotes" \\ back \u2028 \u0000 nul',
    n: [0, -1, 1.5, 1e21, 9007199254740991],
    nested: { a: { b: { c: [null, true, false, { d: [] }] } } },
    empty: {},
  };
  t.strictSame(sb.call(echo, [doc, null]), [doc, null]);
  t.equal(sb.call(sb.compile('function () {}', 'none'), []), undefined);
  t.equal(sb.call(sb.compile('function (s) { return s.length }', 'len'), ['😀']), 2);
  t.strictSame(
    sb.call(
      sb.compile(
        'function () { return { f: function () {}, u: undefined, d: new Date(0) } }',
        'odd',
      ),
      [],
    ),
    {
      d: '1970-01-01T00:00:00.000Z',
    },
  );
});

t.test('a thrown value comes back as SandboxThrow carrying it as JSON', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const fn = sb.compile(
    `function (kind) {
      if (kind === 'forbidden') throw({forbidden: 'x'});
      if (kind === 'string') throw 'just a string';
      if (kind === 'error') throw new TypeError('bad type');
      if (kind === 'runtime') return null.field;
      if (kind === 'circular') { var o = {}; o.self = o; throw o; }
      if (kind === 'bigint') return 10n;
    }`,
    '_design/app/validate_doc_update',
  );
  const forbidden = thrown(() => sb.call(fn, ['forbidden'])) as SandboxThrow;
  t.type(forbidden, SandboxThrow);
  t.strictSame(forbidden.value, { forbidden: 'x' });
  t.equal(forbidden.label, '_design/app/validate_doc_update');
  t.equal((thrown(() => sb.call(fn, ['string'])) as SandboxThrow).value, 'just a string');
  const error = thrown(() => sb.call(fn, ['error'])) as SandboxThrow;
  t.match(error.value, { name: 'TypeError', message: 'bad type', stack: /validate_doc_update/ });
  t.equal(error.message, '_design/app/validate_doc_update threw TypeError: bad type');
  t.match((thrown(() => sb.call(fn, ['runtime'])) as SandboxThrow).value, {
    name: 'TypeError',
    message: /null/,
  });
  t.equal((thrown(() => sb.call(fn, ['circular'])) as SandboxThrow).value, '[object Object]');
  t.match((thrown(() => sb.call(fn, ['bigint'])) as SandboxThrow).value, { name: 'TypeError' });
  t.equal(sb.call(fn, ['nothing']), undefined, 'and the function still runs normally');
});

t.test('CouchDB globals: log, sum, isArray, toJSON; no Node globals', async (t) => {
  const logged: string[] = [];
  const sb = Sandbox.create({ log: (m) => logged.push(m) });
  t.teardown(() => sb.dispose());
  const fn = sb.compile(
    `function () {
      log('plain'); log({ a: 1 }); log([1, 'two']); log(undefined);
      return {
        sum: sum([1, 2, 3.5]), sumEmpty: sum([]), isArray: [isArray([]), isArray({}), isArray('x')],
        toJSON: toJSON({ k: [1] }),
        node: [typeof process, typeof require, typeof module, typeof Buffer, typeof setTimeout,
               typeof globalThis.std, typeof globalThis.os, typeof console],
      };
    }`,
    'globals',
  );
  t.strictSame(sb.call(fn, []), {
    sum: 6.5,
    sumEmpty: 0,
    isArray: [true, false, false],
    toJSON: '{"k":[1]}',
    node: Array(8).fill('undefined'),
  });
  t.strictSame(logged, ['plain', '{"a":1}', '[1,"two"]', 'undefined']);
});

t.test('a throwing log callback does not break the function', async (t) => {
  const sb = Sandbox.create({
    log: () => {
      throw new Error('logger down');
    },
  });
  t.teardown(() => sb.dispose());
  t.equal(sb.call(sb.compile('function () { log("x"); return 1 }', 'f'), []), 1);
});

t.test('emit records a JSON copy of every row of one call', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const map = sb.compile(
    `function (doc) {
      emit(doc._id);
      emit([doc.type, 1], doc.value);
      doc.value.n = 'changed after emit';
      emit(null, undefined);
    }`,
    'map',
  );
  const rows = sb.callForEmits(map, [{ _id: 'a', type: 't', value: { n: 1 } }]);
  t.strictSame(rows, [
    ['a', null],
    [['t', 1], { n: 1 }],
    [null, null],
  ]);
  t.strictSame(sb.callForEmits(map, [{ _id: 'b', type: 'u', value: {} }])[0], ['b', null]);
  // Outside a map call emit goes nowhere, and rows do not leak into the next map call.
  t.equal(sb.call(map, [{ _id: 'c', type: 'v', value: {} }]), undefined);
  t.equal(sb.callForEmits(sb.compile('function () {}', 'silent'), [{}]).length, 0);
});

t.test('an endless loop hits the time limit and the sandbox works after', async (t) => {
  const sb = Sandbox.create({ timeoutMs: 100 });
  t.teardown(() => sb.dispose());
  const state = sb.compile(
    'function (n) { globalThis.calls = (globalThis.calls || 0) + 1; return calls + n }',
    'state',
  );
  t.equal(sb.call(state, [0]), 1);
  t.equal(sb.call(state, [0]), 2);
  const loops = [
    'function () { while (true) {} }',
    'function () { try { while (true) {} } catch (e) { return "caught" } }',
    'function () { for (;;) { try { while (true) {} } finally { continue; } } }',
    'function () { return /(a+)+b/.test("a".repeat(40)) }',
  ];
  for (const source of loops) {
    const loop = sb.compile(source, 'loop');
    const started = performance.now();
    const err = thrown(() => sb.call(loop, []));
    const took = performance.now() - started;
    t.type(err, SandboxLimitError, source);
    t.equal((err as SandboxLimitError).kind, 'timeout');
    t.equal((err as SandboxLimitError).message, 'loop ran longer than its 100 ms time limit');
    t.ok(took >= 95 && took < 1000, `stopped after ${Math.round(took)} ms`);
  }
  // A fresh VM: every function still works, and the old global state is gone.
  t.equal(sb.call(state, [10]), 11);
});

t.test('compiling runs under the time limit too', async (t) => {
  const sb = Sandbox.create({ timeoutMs: 50 });
  t.teardown(() => sb.dispose());
  const before = sb.compile('function () { return "compiled before" }', 'before');
  // Code outside the function runs at compile time: the source is evaluated as an expression.
  const sneaky = '0) || (function () { while (true) {} })() || (function () {}';
  const err = thrown(() => sb.compile(sneaky, 'sneaky'));
  t.type(err, SandboxLimitError);
  t.equal((err as SandboxLimitError).kind, 'timeout');
  t.equal(sb.call(before, []), 'compiled before');
  t.equal(sb.call(sb.compile('function () { return 2 }', 'after'), []), 2);
});

t.test('a memory bomb hits the memory limit and the sandbox works after', async (t) => {
  const sb = Sandbox.create({ memoryBytes: 8 * 1024 * 1024 });
  t.teardown(() => sb.dispose());
  const echo = sb.compile('function (x) { return x }', 'echo');
  const bombs = [
    'function () { var a = []; while (true) a.push("xxxxxxxxxxxxxxxxxxxx" + a.length); }',
    'function () { return "x".repeat(64 * 1024 * 1024).length }',
    'function () { try { var a = []; while (true) a.push({}); } catch (e) { return e.message } }',
  ];
  for (const source of bombs) {
    const bomb = sb.compile(source, 'bomb');
    const result = (() => {
      try {
        return sb.call(bomb, []);
      } catch (err) {
        return err;
      }
    })();
    if (result === 'out of memory') {
      t.pass('a function may catch running out of memory itself');
    } else {
      t.type(result, SandboxLimitError, source);
      t.equal((result as SandboxLimitError).kind, 'memory');
      t.equal((result as SandboxLimitError).message, 'bomb used more than its 8 MiB memory limit');
    }
    t.equal(sb.call(echo, ['alive']), 'alive');
  }
  const huge = thrown(() => sb.call(echo, ['x'.repeat(9 * 1024 * 1024)]));
  t.type(huge, SandboxLimitError, 'arguments larger than the limit');
  t.equal(sb.call(echo, [1]), 1);
});

t.test(
  'large strings kept count against the limit too: the heap grows by the limit at most',
  async (t) => {
    // QuickJS under Emscripten counts 8 bytes per allocation whatever its size (wasm.ts), so
    // only the growth check stops this function before the time limit does (or the heap's 2 GiB).
    const sb = Sandbox.create({ memoryBytes: 4 * 1024 * 1024, timeoutMs: 60_000 });
    t.teardown(() => sb.dispose());
    const hog = sb.compile(
      'function () { var a = []; while (true) a.push("x".repeat(1000000) + a.length); }',
      'hog',
    );
    const before = engineHeapBytes();
    const err = thrown(() => sb.call(hog, []));
    t.type(err, SandboxLimitError);
    t.equal((err as SandboxLimitError).kind, 'memory');
    t.ok(engineHeapBytes() - before <= 4 * 1024 * 1024, 'the heap grew by the limit at most');
    const echo = sb.compile('function (x) { return x }', 'echo');
    t.equal(sb.call(echo, ['alive']), 'alive');
  },
);

t.test('deep nesting is a clean error, never a crash of the engine', async (t) => {
  const sb = Sandbox.create();
  t.teardown(() => sb.dispose());
  const recurse = sb.compile('function f(n) { return n === 0 ? 0 : 1 + f(n - 1) }', 'recurse');
  t.equal(sb.call(recurse, [50]), 50, 'ordinary recursion works');
  const overflow = thrown(() => sb.call(recurse, [100000])) as SandboxThrow;
  t.type(overflow, SandboxThrow);
  t.match(overflow.value, { name: 'InternalError', message: 'stack overflow' });
  const nested = '['.repeat(100000) + ']'.repeat(100000);
  t.type(
    thrown(() => sb.compile(`function () { return ${nested} }`, 'deep')),
    SandboxCompileError,
  );
  t.type(
    thrown(() => sb.compile('('.repeat(100000) + ')'.repeat(100000), 'deep')),
    SandboxCompileError,
  );
  const parse = sb.compile('function (s) { return JSON.parse(s).length }', 'parse');
  t.type(
    thrown(() => sb.call(parse, [nested])),
    SandboxThrow,
  );
  const evil = sb.compile(
    'function (n) { return eval("(".repeat(n) + "1" + ")".repeat(n)) }',
    'eval',
  );
  t.equal(sb.call(evil, [10]), 1);
  t.type(
    thrown(() => sb.call(evil, [100000])),
    SandboxThrow,
  );
  t.equal(sb.call(recurse, [3]), 3, 'and everything still works');
});

t.test('options are checked', async (t) => {
  t.throws(() => Sandbox.create({ maxStackBytes: 8 * 1024 * 1024 }), RangeError);
  t.throws(() => Sandbox.create({ memoryBytes: 1000 }), RangeError);
  t.throws(() => Sandbox.create({ timeoutMs: 0 }), {
    message: 'sandbox option timeoutMs must be a number from 1 to Infinity, not 0',
  });
  const sb = Sandbox.create({ memoryBytes: 2 * 1024 * 1024, timeoutMs: 5, maxStackBytes: 16384 });
  t.same([sb.memoryBytes, sb.timeoutMs, sb.maxStackBytes], [2 * 1024 * 1024, 5, 16384]);
  sb.dispose();
  const defaults = Sandbox.create();
  t.same([defaults.memoryBytes, defaults.timeoutMs], [32 * 1024 * 1024, 1000]);
  defaults.dispose();
});

t.test('sandboxes are isolated from each other', async (t) => {
  const a = Sandbox.create();
  const b = Sandbox.create();
  t.teardown(() => {
    a.dispose();
    b.dispose();
  });
  a.call(a.compile('function () { globalThis.secret = 42; JSON.parse = null }', 'set'), []);
  t.equal(b.call(b.compile('function () { return typeof secret }', 'get'), []), 'undefined');
  const fromA = a.compile('function () { return 1 }', 'a');
  t.match(
    thrown(() => b.call(fromA, [])),
    { message: 'a was not compiled by this sandbox' },
  );
  t.equal(a.call(fromA, []), 1, 'replacing JSON.parse does not break the call protocol');
});

t.test('dispose frees everything, including after limit errors', async (t) => {
  const sb = Sandbox.create({ timeoutMs: 50, memoryBytes: 4 * 1024 * 1024 });
  const keep = sb.compile('function (o) { globalThis.kept = o; return o }', 'keep');
  sb.call(keep, [{ big: 'x'.repeat(1000) }]);
  thrown(() => sb.call(sb.compile('function () { while (true) {} }', 'loop'), []));
  sb.call(keep, [{ again: true }]);
  thrown(() => sb.call(sb.compile('function () { var a = []; for (;;) a.push([a]) }', 'bomb'), []));
  t.doesNotThrow(() => sb.dispose());
  t.equal(sb.disposed, true);
  t.doesNotThrow(() => sb.dispose(), 'twice is fine');
  t.match(
    thrown(() => sb.call(keep, [1])),
    { message: 'the sandbox has been disposed' },
  );
  t.match(
    thrown(() => sb.compile('function () {}', 'late')),
    { message: /disposed/ },
  );
  const many = Array.from({ length: 50 }, () => Sandbox.create());
  for (const s of many) s.call(s.compile('function (x) { return [x, x] }', 'pair'), [{ a: 1 }]);
  t.doesNotThrow(() => many.forEach((s) => s.dispose()));
});

t.test('the host stack running out inside the engine replaces the engine', async (t) => {
  // Only reachable with a stack limit far above the safe default.
  const reckless = Sandbox.create({ maxStackBytes: 1024 * 1024 });
  const other = Sandbox.create();
  t.teardown(() => {
    reckless.dispose();
    other.dispose();
  });
  const echo = other.compile('function (x) { return x }', 'echo');
  const nest = reckless.compile(
    'function (n) { return eval("(".repeat(n) + "1" + ")".repeat(n)) }',
    'nest',
  );
  const err = thrown(() => reckless.call(nest, [200000]));
  t.type(err, SandboxLimitError);
  t.equal((err as SandboxLimitError).kind, 'stack');
  await loadEngine();
  t.equal(reckless.call(nest, [3]), 1, 'the sandbox moved to the new engine');
  t.same(other.call(echo, [{ ok: true }]), { ok: true }, 'and so did every other');
});
