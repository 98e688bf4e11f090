// `npm test`'s runner for the compiled suite: each process of test files (compile-tests.mjs)
// is a plain `node` process, `jobs` at a time, and its TAP becomes one subtest of the report.
//
// Tap's own runner starts every test process with @tapjs/processinfo (coverage bookkeeping,
// always on, no option turns it off): an ESM loader thread every import goes through, a
// require hook noting each module's line lengths, source maps forced on, and the same added to
// every process a test starts (NODE_OPTIONS), so each service, store and script a test runs
// pays them too (measured in docs/testing.md).
// The test files are tap's as before; only who starts them changed. `npx tap test/x.test.ts`
// and `npm test -- <files>` still use tap's runner.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `jobs` and `timeout` (seconds) from .taprc, so both runners keep one setting. */
export async function tapSettings(root) {
  const rc = await readFile(join(root, '.taprc'), 'utf8');
  const setting = (key) => {
    const m = new RegExp(`^${key}:\\s*(\\d+)\\s*$`, 'm').exec(rc);
    if (!m) throw new Error(`.taprc has no ${key}`);
    return Number(m[1]);
  };
  return { jobs: setting('jobs'), timeoutMs: setting('timeout') * 1000 };
}

/** The counts a tap root prints last (`# { total: 12, pass: 11, fail: 1 }`), if it did. */
export function rootCounts(output) {
  const line = output.match(/^# \{ total: .*\}$/gm)?.at(-1);
  if (!line) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+): (\d+)/g)].map(([, k, n]) => [k, +n]));
}

/**
 * Runs each of `processes` ({ name, file }) as `node --enable-source-maps <file>` from `cwd`
 * with `env`, `jobs` at a time, and writes one TAP report of them all to `write`: each
 * process's output indented as a subtest, as it ends. A process fails when it exits other
 * than 0, ends without its plan and counts, or outlives `timeoutMs` by `graceMs` (then it gets
 * SIGALRM, and SIGKILL `graceMs` later: tap's root's own timeout, TAP_TIMEOUT, should have
 * ended it first). Resolves with the exit code: 0 when every process passed. `signal` kills
 * those running and starts no more.
 */
export async function runProcesses({
  processes,
  cwd,
  env,
  jobs,
  timeoutMs,
  graceMs = 5_000,
  write,
  signal,
}) {
  const started = Date.now();
  const totals = {};
  let done = 0;
  let failed = 0;
  write('TAP version 14\n');
  const queue = [...processes];
  const worker = async (job) => {
    for (let p = queue.shift(); p && !signal?.aborted; p = queue.shift()) {
      const result = await runOne(p, { cwd, env, job, timeoutMs, graceMs, signal });
      const counts = rootCounts(result.output);
      const ok = result.code === 0 && counts !== undefined && /^1\.\.\d+/m.test(result.output);
      for (const [k, n] of Object.entries(counts ?? {})) totals[k] = (totals[k] ?? 0) + n;
      if (!ok) failed++;
      write(report(++done, p.name, ok, result));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, processes.length) }, (_, j) => worker(j)));
  write(`1..${processes.length}\n`);
  const summary = Object.entries(totals).map(([k, n]) => `${k}: ${n}`);
  write(`# { ${summary.join(', ')} }\n# time=${Date.now() - started}ms\n`);
  return failed === 0 && done === processes.length ? 0 : 1;
}

function runOne(p, { cwd, env, job, timeoutMs, graceMs, signal }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', p.file], {
      cwd,
      env: childEnv(env, {
        TAP: '1',
        TAP_JOB_ID: String(job),
        TAP_TIMEOUT: String(timeoutMs / 1000),
      }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
    // The root's own timeout should end it; if not, SIGALRM as tap's runner sends (the root
    // then lists what still runs), and SIGKILL if that is ignored too.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGALRM');
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    }, timeoutMs + graceMs);
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    const end = (code, sig, error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve({ output, code, signal: sig, error, timedOut, ms: Date.now() - started });
    };
    child.on('error', (err) => end(null, null, err.message));
    child.on('close', (code, sig) => end(code, sig));
  });
}

/**
 * `env` for a test process, less what says it is a child of another tap process (tap's runner
 * when this runs inside a tap test): without TAP_CHILD_ID a root prints its counts.
 */
function childEnv(env, add) {
  const { TAP_CHILD_ID: _id, TAP_CHILD_KEY: _key, ...rest } = env;
  return { ...rest, ...add };
}

function report(n, name, ok, r) {
  const body = r.output
    .replace(/^TAP version \d+\n/, '')
    .replace(/\n$/, '')
    .replace(/^(?=.)/gm, '    ');
  const head = `# Subtest: ${name}\n${body}\n`;
  const line = `${ok ? 'ok' : 'not ok'} ${n} - ${name} # time=${r.ms}ms\n`;
  if (ok) return `${head}${line}\n`;
  const why = r.timedOut
    ? `killed: still running ${r.ms} ms after it started`
    : r.error
      ? `could not start: ${r.error}`
      : r.code === 0
        ? 'exited 0 without its plan and counts'
        : `exit code ${r.code}${r.signal ? `, signal ${r.signal}` : ''}`;
  return `${head}${line}  ---\n  reason: ${JSON.stringify(why)}\n  ...\n\n`;
}
