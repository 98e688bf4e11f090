import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The last line (issue 8): an error that escapes its request's error path answers that
 * request 500 in the app's error shape, is logged without the request's data, and the
 * process goes on serving everyone else. Run in a child process: the test runner has its own
 * handlers for stray errors.
 */
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/stray.ts');

t.test('a stray error answers its own request 500 and the process keeps serving', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  const url = first.toString().trim();

  for (const path of ['/throw', '/reject']) {
    // Without the last line the request would hang: give up after 10 s.
    const res = await fetch(url + path, { signal: AbortSignal.timeout(10_000) });
    t.equal(res.status, 500, `${path}: answered 500, not left hanging`);
    const body = (await res.json()) as { message?: string };
    t.notMatch(JSON.stringify(body), /callback|awaited/, `${path}: no internals in the answer`);
    const ok = await fetch(url + '/ok');
    t.equal(ok.status, 200, `${path}: the process still serves`);
  }
  t.equal(child.exitCode, null, 'still running');
  t.match(logs, /stray error, still serving/);
  t.match(logs, /stray rejection, still serving/);
});
