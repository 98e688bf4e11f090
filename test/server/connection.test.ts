import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.js';
import { configuredCouch, scriptCouch } from '../../server/couch/connection.js';
import { createCouch } from '../../server/couch/client.js';

/** The one CouchDB connection resolver, as the service, the scripts and the tests use it. */

const service = { needsProxySecret: true };
const script = { needsProxySecret: false };

t.test('no COUCHDB_URL: nothing configured (the embedded store serves)', async (t) => {
  t.equal(configuredCouch({}, service), null);
});

t.test('credentials from the URL or the environment, never in the URL given back', async (t) => {
  t.same(
    configuredCouch(
      { COUCHDB_URL: 'http://ad%40min:p%3Ass@couch:5984/', COUCHDB_PROXY_SECRET: 's' },
      service,
    ),
    { url: 'http://couch:5984', admin: { name: 'ad@min', password: 'p:ss' }, proxySecret: 's' },
  );
  t.same(
    configuredCouch(
      { COUCHDB_URL: 'https://x:y@couch/db-root/', COUCHDB_USER: 'u', COUCHDB_PASSWORD: 'p' },
      script,
    ),
    { url: 'https://couch/db-root', admin: { name: 'u', password: 'p' }, proxySecret: '' },
    'COUCHDB_USER and COUCHDB_PASSWORD win; a script may go without the proxy secret',
  );
});

t.test('every problem is a ConfigError, all named at once', async (t) => {
  const err = t.throws(() => configuredCouch({ COUCHDB_URL: 'http://couch:5984' }, service));
  t.ok(err instanceof ConfigError);
  t.same((err as ConfigError).problems, [
    'COUCHDB_URL needs admin credentials, in the URL or in COUCHDB_USER/COUCHDB_PASSWORD',
    'COUCHDB_PROXY_SECRET is required with COUCHDB_URL: it must equal [chttpd_auth] secret in CouchDB',
  ]);
  t.throws(
    () => configuredCouch({ COUCHDB_URL: 'http://admin@couch:5984' }, script),
    /invalid configuration:\n {2}COUCHDB_URL needs admin credentials/,
    'a password is needed too',
  );
});

t.test('a script finds the running embedded store through DATA_DIR', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-conn-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dir, STORE_PORT: '5999' });
  await t.rejects(scriptCouch(config), {
    name: 'ConfigError',
    message: new RegExp(`set COUCHDB_URL[\\s\\S]*${join(dir, 'store-admin-password')}`),
  });
  await writeFile(join(dir, 'store-admin-password'), 'pw\n');
  await writeFile(join(dir, 'store-secret'), 'secret\n');
  t.same(await scriptCouch(config), {
    url: 'http://127.0.0.1:5999',
    admin: { name: 'admin', password: 'pw' },
    proxySecret: 'secret',
  });
  const external = loadConfig({ DATA_DIR: dir, COUCHDB_URL: 'http://a:b@couch:5984' });
  t.equal((await scriptCouch(external)).url, 'http://couch:5984', 'COUCHDB_URL first');
});

t.test('closing the client closes its kept-alive connections', async (t) => {
  let open = 0;
  let closed = 0;
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/_up' ? '{"status":"ok"}' : '{}');
  });
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const couch = createCouch({
    url: `http://127.0.0.1:${port}`,
    admin: { name: 'a', password: 'b' },
    proxySecret: '',
  });
  t.equal(await couch.up(), true);
  t.equal(open, 1);
  t.equal(closed, 0, 'kept alive after the request');
  await couch.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(closed, 1, 'closed by close()');
});

t.test('close() cuts a request still running after its grace period', async (t) => {
  // A longpoll CouchDB never ends: closing must not wait for it (a stopped follower's
  // request once held shutdown for a minute).
  let held = 0;
  let cut = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/db/_changes')) {
      held++;
      req.socket.on('close', () => cut++);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as { port: number }).port;
  const couch = createCouch({
    url: `http://127.0.0.1:${port}`,
    admin: { name: 'a', password: 'b' },
    proxySecret: '',
  });
  const longpoll = couch.nano.request({ db: 'db', path: '_changes', qs: { feed: 'longpoll' } });
  const outcome = longpoll.then(
    () => 'answered',
    () => 'cut',
  );
  while (held === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  let timer: NodeJS.Timeout | undefined;
  const closing = await Promise.race([
    couch.close(100).then(() => 'closed'),
    new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 20_000))),
  ]);
  clearTimeout(timer);
  t.equal(closing, 'closed', 'close() returned while CouchDB had not answered');
  if (closing !== 'closed') return; // the teardown's closeAllConnections ends the request
  t.equal(await outcome, 'cut', 'the running request failed instead of hanging');
  while (cut === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(cut, 1, 'its connection is closed');
});

t.test('npm start refuses a COUCHDB_URL it cannot use: exit 2, every problem named', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server/server.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH, COUCHDB_URL: 'http://127.0.0.1:9', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 2);
  t.match(stderr, /^invalid configuration:\n {2}COUCHDB_URL needs admin credentials/);
  t.match(stderr, /\n {2}COUCHDB_PROXY_SECRET is required with COUCHDB_URL/);
  t.notMatch(stderr, /\bat \//, 'no stack trace');
});
