// `npm test`: the linters (type check included) beside the tests rather than before them, since
// each leaves the other's core idle much of the time. The tests' report streams as it comes;
// the linters' output is held and printed after it, so the two never interleave. Fails when
// either fails. Without arguments every test file is compiled once (compile-tests.mjs), up to
// five files of a folder to a process, and the processes run on one embedded store started
// here (suite-store.ts) unless COUCHDB_URL names a CouchDB, through run-processes.mjs rather
// than tap's runner (its cost is there); arguments go to tap as they are (`npm test --
// test/store/`: those files, through tsx, each with a store of its own).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileTests, processGroups, testFiles } from './compile-tests.mjs';
import { runProcesses, tapSettings } from './run-processes.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command from the root; resolves with its exit code (1 for a signal). */
function run(cmd, args, opts) {
  const child = spawn(cmd, args, { cwd: root, ...opts });
  children.push(child);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`${cmd}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const children = [];
const stopping = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    stopping.abort();
  });
}

let lintOutput = '';
const lint = run(npm, ['run', '--silent', 'lint'], { stdio: ['ignore', 'pipe', 'pipe'] });
for (const stream of [children[0].stdout, children[0].stderr]) {
  stream.on('data', (d) => (lintOutput += d));
}
const args = process.argv.slice(2);
let tests;
let suiteStore;
if (args.length === 0) {
  // The whole suite, compiled, several files to a process, on one embedded store (unless
  // COUCHDB_URL names a CouchDB).
  const groups = processGroups(await testFiles());
  const [helper, ...compiled] = await compileTests(['test/helpers/suite-store.ts'], groups);
  for (const g of groups.filter((g) => g.files.length > 1)) {
    const names = g.files.map((f) => f.slice(f.lastIndexOf('/') + 1, -'.test.ts'.length));
    process.stdout.write(`# ${g.name}: ${names.join(', ')}\n`);
  }
  if (!process.env.COUCHDB_URL)
    suiteStore = await (await import(pathToFileURL(helper).href)).startSuiteStore();
  tests = runProcesses({
    processes: groups.map((g, i) => ({ name: g.name, file: compiled[i] })),
    cwd: root,
    env: { ...process.env, ...suiteStore?.env },
    ...(await tapSettings(root)),
    write: (text) => process.stdout.write(text),
    signal: stopping.signal,
  });
} else {
  tests = run(join(root, 'node_modules', '.bin', 'tap'), args, { stdio: 'inherit' });
}

const [testCode, lintCode] = await Promise.all([tests, lint]);
const storeEnded = await suiteStore?.stop();
if (storeEnded) process.stdout.write(`\n# ${storeEnded.replaceAll('\n', '\n# ')}\n`);
process.stdout.write(
  `\n# lint (tsc --noEmit, eslint, prettier --check): ${lintCode === 0 ? 'ok' : 'FAILED'}\n`,
);
if (lintOutput.trim())
  process.stdout.write(lintOutput.endsWith('\n') ? lintOutput : `${lintOutput}\n`);
process.exitCode = testCode !== 0 ? testCode : lintCode !== 0 ? lintCode : storeEnded ? 1 : 0;
