import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootCounts, runProcesses, tapSettings } from '../helpers/run-processes.mjs';

// `npm test` runs the compiled suite's processes itself (run-processes.mjs), not through tap's
// runner: what tap's runner would report as a failure must fail here too.

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Test files written under node_modules/.cache (so `tap` resolves), removed afterwards. */
async function files(t: Test, sources: Record<string, string>) {
  const dir = await mkdtemp(join(root, 'node_modules', '.cache', 'runner-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const made: Record<string, string> = {};
  for (const [name, source] of Object.entries(sources)) {
    made[name] = join(dir, `${name}.mjs`);
    await writeFile(made[name], source);
  }
  return made;
}

async function run(
  made: Record<string, string>,
  opts: { timeoutMs?: number; graceMs?: number } = {},
) {
  let report = '';
  const code = await runProcesses({
    processes: Object.entries(made).map(([name, file]) => ({ name, file })),
    cwd: root,
    env: { ...process.env, RUNNER_TEST_VALUE: 'passed on' },
    jobs: 2,
    timeoutMs: opts.timeoutMs ?? 60_000,
    graceMs: opts.graceMs ?? 300,
    write: (text) => (report += text),
  });
  return { code, report };
}

const passing = `import t from 'tap';
t.test('one', async (t) => { t.equal(process.env.RUNNER_TEST_VALUE, 'passed on'); t.ok(true); });
`;

t.test('passing processes: exit 0, each a subtest, counts added up', async (t) => {
  const made = await files(t, { a: passing, b: passing });
  const { code, report } = await run(made);
  t.equal(code, 0);
  t.match(report, /^TAP version 14\n/);
  t.match(report, /^# Subtest: a\n {4}# Subtest: one\n/m, "a process's output is indented");
  t.match(report, /^ok \d - a # time=\d+ms$/m);
  t.match(report, /^ok \d - b # time=\d+ms$/m);
  t.match(report, /^1\.\.2\n# \{ total: 4, pass: 4 \}\n# time=\d+ms\n$/m);
});

t.test('a failing assertion, a silent exit 0, a crash: each fails the run', async (t) => {
  const made = await files(t, {
    ok: passing,
    failing: `import t from 'tap';\nt.test('two', async (t) => { t.equal(1, 2); });\n`,
    silent: `process.exit(0);\n`,
    crash: `throw new Error('at import');\n`,
  });
  const { code, report } = await run(made);
  t.equal(code, 1);
  t.match(report, /^ok \d - ok /m);
  t.match(report, /^not ok \d - failing /m);
  t.match(
    report,
    /^not ok \d - silent # time=\d+ms\n {2}---\n {2}reason: "exited 0 without its plan and counts"/m,
  );
  t.match(report, /^not ok \d - crash # time=\d+ms\n {2}---\n {2}reason: "exit code 1"/m);
  t.match(report, /# \{ total: 3, pass: 2, fail: 1 \}/, "the failing file's counts are kept");
});

t.test(
  "a hung process: tap's own timeout ends it, and a process without tap is killed",
  async (t) => {
    const made = await files(t, {
      hung: `import t from 'tap';\nt.test('forever', () => new Promise(() => setInterval(() => {}, 1000)));\n`,
      deaf: `setInterval(() => {}, 1000);\n`,
    });
    const started = Date.now();
    // The grace is tap's time to start and time out on its own, on a loaded machine.
    const { code, report } = await run(made, { timeoutMs: 1000, graceMs: 4000 });
    t.equal(code, 1);
    t.match(report, /^not ok \d - hung /m);
    t.match(report, /timeout!/, "tap's root says it timed out");
    t.match(report, /^not ok \d - deaf # time=\d+ms\n {2}---\n {2}reason: "killed: still running/m);
    t.ok(Date.now() - started < 30_000, 'neither is waited for long');
  },
);

t.test("the settings are .taprc's; a root's counts are its last line of them", async (t) => {
  const { jobs, timeoutMs } = await tapSettings(root);
  t.ok(Number.isInteger(jobs) && jobs > 0, `jobs: ${jobs}`);
  t.ok(timeoutMs >= 30_000, `timeout: ${timeoutMs} ms`);
  t.same(
    rootCounts('# { total: 1, pass: 1 }\n    # { total: 9 }\n# { total: 3, pass: 2, fail: 1 }\n'),
    {
      total: 3,
      pass: 2,
      fail: 1,
    },
  );
  t.equal(rootCounts('1..0\n'), undefined);
});
