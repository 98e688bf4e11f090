import * as acorn from 'acorn';
import vm from 'node:vm';
import t from 'tap';
import {
  assertSelfContained,
  createWriteChecker,
  generateValidateDocUpdate,
  loadRules,
} from '../../server/rules/index.js';
import { outsideReferences } from '../../server/rules/self-contained.js';
import { syncRules } from '../../sync-rules/index.js';

const ruleSet = loadRules(syncRules);

for (const kind of ['private', 'team'] as const) {
  t.test(`validate_doc_update for ${kind} databases`, async (t) => {
    const src = generateValidateDocUpdate(ruleSet, kind);
    t.match(src, /^function \(newDoc, oldDoc, userCtx, secObj\) \{/);
    t.ok(src.endsWith('}'));
    const program = acorn.parse(`(${src})`, { ecmaVersion: 2017 });
    t.equal(program.body.length, 1, 'one statement');
    const stmt = program.body[0];
    t.equal(stmt?.type === 'ExpressionStatement' && stmt.expression.type, 'FunctionExpression');
    t.notMatch(src, /\brequire\s*\(/, 'no require');
    t.notMatch(src, /\b(module|exports)\s*\./, 'no module system');
    t.same(outsideReferences(src), [], 'uses nothing it does not declare');
    // It runs in a context with nothing but the language's own built-ins.
    const vdu = vm.runInNewContext(`(${src})`, Object.create(null)) as (...a: unknown[]) => void;
    let thrown: unknown;
    try {
      vdu({ _id: 'x' }, null, { name: 'a', roles: [] }, {});
    } catch (err) {
      thrown = err;
    }
    t.match(thrown, { forbidden: /^type is required/ }, 'refuses with { forbidden: reason }');
    t.equal(src, createWriteChecker(ruleSet).source(kind), 'the gateway runs this very source');
  });
}

t.test('the private and team functions admit different types', async (t) => {
  t.not(generateValidateDocUpdate(ruleSet, 'private'), generateValidateDocUpdate(ruleSet, 'team'));
});

t.test('assertSelfContained catches what CouchDB would choke on', async (t) => {
  t.doesNotThrow(() =>
    assertSelfContained('function (a) { var b = JSON.stringify(a); return b; }'),
  );
  t.throws(() => assertSelfContained('function (a) { return require("x")(a); }'), /uses require/);
  t.throws(() => assertSelfContained('function (a) { return process.env; }'), /uses process/);
  t.throws(() => assertSelfContained('function (a) { return a?.b; }'), /invalid/);
  t.throws(() => assertSelfContained('function (a) {}; function (b) {}'), /invalid/);
  t.throws(() => assertSelfContained('42'), /single function expression/);
});
