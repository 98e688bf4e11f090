import t from 'tap';
import { needsEmbedded } from '../helpers/store.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** Starts an entry point as `npm start`/`npm run store` would, on free ports, and waits for its address in the log. */
async function start(
  entry: string,
  env: Record<string, string>,
  pattern: RegExp,
): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, entry)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = pattern.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1] as string);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`exited with ${child.exitCode}: ${out}`));
      }
    }, 50);
  });
  return { child, output: () => out, url };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });
}

t.test(
  'npm start: embedded store, health, ready, secrets kept private, clean SIGTERM',
  needsEmbedded('npm start with its own store and data dir'),
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sawa-life-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const env = { PORT: '0', STORE_PORT: '0', DATA_DIR: dataDir, NODE_ENV: 'development' };
    const first = await start(
      'server/server.ts',
      env,
      /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
    );
    t.teardown(() => first.child.kill('SIGKILL'));
    t.same(await (await fetch(`${first.url}/health`)).json(), { status: 'ok' });
    const ready = await fetch(`${first.url}/ready`);
    t.equal(ready.status, 200);
    const secret = join(dataDir, 'store-admin-password');
    t.equal((await stat(secret)).mode & 0o777, 0o600, 'generated admin password is private');
    const password = (await readFile(secret, 'utf8')).trim();
    t.ok(first.output().includes(secret), 'the log says where the password is');
    t.notOk(first.output().includes(password), 'the log never shows the password');
    first.child.kill('SIGTERM');
    t.equal(await exited(first.child), 0, 'SIGTERM ends the process cleanly');
    t.match(first.output(), /shutting down/);
  },
);

t.test(
  'npm run store: the store alone keeps data across restarts and refuses anonymous admin work',
  needsEmbedded('restarts the store on its data dir'),
  async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sawa-store-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const env = {
      STORE_PORT: '0',
      DATA_DIR: dataDir,
      COUCHDB_USER: 'ops',
      COUCHDB_PASSWORD: 'a-long-admin-password',
    };
    const auth = 'Basic ' + Buffer.from('ops:a-long-admin-password').toString('base64');
    const pattern = /embedded store listening on (http:\/\/127\.0\.0\.1:\d+)/;
    const one = await start('server/store/main.ts', env, pattern);
    t.teardown(() => one.child.kill('SIGKILL'));
    t.equal((await fetch(`${one.url}/_all_dbs`)).status, 401, 'no admin party');
    t.equal(
      (await fetch(`${one.url}/keep`, { method: 'PUT', headers: { authorization: auth } })).status,
      201,
    );
    const put = await fetch(`${one.url}/keep/doc-1`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ village: 'Kilosa' }),
    });
    t.equal(put.status, 201);
    one.child.kill('SIGTERM');
    t.equal(await exited(one.child), 0);
    const two = await start('server/store/main.ts', env, pattern);
    t.teardown(() => two.child.kill('SIGKILL'));
    const doc = (await (
      await fetch(`${two.url}/keep/doc-1`, { headers: { authorization: auth } })
    ).json()) as { village: string };
    t.equal(doc.village, 'Kilosa', 'the document survived the restart');
    two.child.kill('SIGTERM');
    t.equal(await exited(two.child), 0);
  },
);

t.test('a bad setting stops start-up with a message naming it', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server/server.ts')], {
    cwd: root,
    env: { ...process.env, PORT: 'not-a-port' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => (err += String(d)));
  t.equal(await exited(child), 2);
  t.match(err, /PORT must be integer \(got "not-a-port"\)/);
});
