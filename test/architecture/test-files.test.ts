import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative, resolve } from 'node:path';
import { sourceFiles } from './imports.js';
import { currentTestFile, runTestFiles } from '../helpers/test-file.js';

/**
 * `npm test` runs several test files in one process (docs/testing.md), so no test file may
 * change what the process shares: its environment, its working directory, or tap's root
 * (hooks and a plan there apply to every file of the process). Each is a failure of another
 * file under `npm test` that passes alone, so it is refused here, by the line.
 */

const SHARED_STATE: Array<[RegExp, string]> = [
  [/process\.env(\.\w+|\[[^\]]+\])\s*(=(?!=)|\+=|\?\?=|\|\|=)/, 'writes process.env'],
  [/delete\s+process\.env\b/, 'deletes from process.env'],
  [/Object\.assign\(\s*process\.env\b/, 'writes process.env'],
  [/process\.chdir\(/, 'changes the working directory'],
  [/^t\.(before|beforeEach|after|afterEach)\(/, "hooks tap's root"],
  [/^t\.plan\(|\bt\.plan\(0\b/, "plans tap's root (skip the file's tests instead)"],
];

/** Each line of `source` that changes shared state, with why. */
export function sharedStateChanges(source: string): string[] {
  const found: string[] = [];
  source.split('\n').forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    for (const [pattern, why] of SHARED_STATE) {
      if (pattern.test(line)) found.push(`${i + 1}: ${why}: ${line.trim()}`);
    }
  });
  return found;
}

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const thisFile = fileURLToPath(import.meta.url);

t.test('no test file changes what the files of its process share', async (t) => {
  const files = sourceFiles(join(root, 'test')).filter((f) => f !== thisFile);
  t.ok(files.length > 150, `the walk found the test sources (${files.length} files)`);
  const report = files.flatMap((f) =>
    sharedStateChanges(readFileSync(f, 'utf8')).map((l) => `${relative(root, f)}:${l}`),
  );
  t.same(report, [], 'none (each one shown by file and line)');
});

t.test('each kind of change is found, and reading is not', async (t) => {
  const changes = [
    "process.env.COUCHDB_URL = 'http://x';",
    "process.env['JOBS_ENABLED'] ??= 'none';",
    'delete process.env.CI;',
    'Object.assign(process.env, fleet.env);',
    "process.chdir('/tmp');",
    't.beforeEach(() => reset());',
    't.after(() => stop());',
    't.plan(3);',
    "  t.plan(0, 'needs the embedded store');",
  ];
  for (const line of changes) t.equal(sharedStateChanges(line).length, 1, line);
  const reads = [
    "const url = process.env.COUCHDB_URL ?? '';",
    "if (process.env.CI === '1') skip();",
    '  t.plan(2); // a subtest plans its own',
    '  t.beforeEach(() => reset()); // a subtest hooks its own',
    '// process.env.X = 1 in a comment',
  ];
  for (const line of reads) t.same(sharedStateChanges(line), [], line);
});

// Two files in one process, as compile-tests.mjs makes its entry: each file's tests, their
// subtests and their later awaits see their own file, though tap runs B's test after A's.
const seen: string[] = [];
const fakeFile = (name: string) => async () => {
  seen.push(`${name} at import: ${currentTestFile()}`);
  t.test(`file ${name}'s test`, async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(`${name} in its test: ${currentTestFile()}`);
    await t.test('a subtest', async (t) => {
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(`${name} in a subtest: ${currentTestFile()}`);
      t.pass('ran');
    });
  });
};
await runTestFiles([
  ['a.test.ts', fakeFile('a')],
  ['b.test.ts', fakeFile('b')],
]);
t.test('files sharing a process each run in their own context', async (t) => {
  t.same(seen, [
    'a at import: a.test.ts',
    'b at import: b.test.ts',
    'a in its test: a.test.ts',
    'a in a subtest: a.test.ts',
    'b in its test: b.test.ts',
    'b in a subtest: b.test.ts',
  ]);
});

// Tap ends its root once idle after a root teardown. Run as its own process (its root is the
// one that would end): a file whose set-up outlasts the tests of the file before it still has
// its tests run, and nothing is reported lost.
t.test('a file whose set-up outlasts the tests before it keeps its tests', async (t) => {
  const helper = JSON.stringify(fileURLToPath(new URL('../helpers/test-file.ts', import.meta.url)));
  const script = `import t from 'tap';
import { runTestFiles } from ${helper};
await runTestFiles([
  ['c.test.ts', async () => {
    t.teardown(() => {});
    t.test('c', async (t) => t.pass('c ran'));
  }],
  ['d.test.ts', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.test('d', async (t) => t.pass('d ran'));
  }],
]);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const [code] = (await once(child, 'close')) as [number | null];
  t.equal(code, 0, 'the process passed');
  t.match(out, /ok 1 - c ran[\s\S]*ok 1 - d ran/, 'both files ran their tests');
  t.notMatch(out, /after parent test ends/, 'no test came after the end');
});
