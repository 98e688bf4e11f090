import { newFleet } from '../helpers/fleet.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { needsEmbedded, testCouch } from '../helpers/store.js';
import { runCli, type CliRun as Run } from '../helpers/cli.js';
import { main } from '../../scripts/deploy-design-docs.js';
import { adminNano, designDocBuilds, faultProxy, seed, snapshots, userDbs } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run deploy-design-docs -- …args`, its main in this process, with only `env` set. */
const deploy = (args: string[], env: Record<string, string>): Promise<Run> =>
  runCli(main, args, env);

/** `npm run deploy-design-docs -- …args` as a process, as an operator would run it. */
function deployProcess(
  args: string[],
  env: Record<string, string>,
  onStart?: (child: ChildProcess) => void,
): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/deploy-design-docs.ts', ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  onStart?.(child);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const lines = (text: string, prefix: string) =>
  text.split('\n').filter((l) => l.startsWith(prefix));

t.test('usage and configuration errors exit 2 and say what is wrong', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'sawa-cli-'));
  t.teardown(() => rm(empty, { recursive: true, force: true }));

  const bad = await deploy(['--concurrency', '0'], { DATA_DIR: empty });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--concurrency must be a whole number from 1 to 64 \(got 0\)/);

  const unknown = await deploy(['--fast'], { DATA_DIR: empty });
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /Unknown option '--fast'[\s\S]*usage: npm run deploy-design-docs/);

  const help = await deploy(['--help'], { DATA_DIR: empty });
  t.equal(help.code, 0);
  t.match(help.stdout, /--dry-run/);

  const noCouch = await deploy([], { DATA_DIR: empty });
  t.equal(noCouch.code, 2);
  t.match(noCouch.stderr, /set COUCHDB_URL[\s\S]*store-admin-password/);

  const badConfig = await deploy([], { COUCHDB_URL: 'ftp://x', DATA_DIR: empty });
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /invalid configuration:\n {2}COUCHDB_URL/);

  const unreachable = await deploy([], { COUCHDB_URL: 'http://admin:pw@127.0.0.1:9' });
  t.equal(unreachable.code, 3);
  t.match(unreachable.stderr, /CouchDB is not reachable at http:\/\/127\.0\.0\.1:9/);
});

t.test('deploy, dry run, second run, failures and interruption', async (t) => {
  const store = await testCouch(t);
  const fleet = newFleet();
  const nano = adminNano(store);
  const { old, current } = designDocBuilds();
  const dbs = userDbs(fleet.prefix + 'cli', 6);
  await seed(nano, dbs, old.private);
  const env = {
    COUCHDB_URL: store.url,
    COUCHDB_USER: store.admin.name,
    COUCHDB_PASSWORD: store.admin.password,
    ...fleet.env,
  };

  t.test('wrong credentials exit 2', async (t) => {
    const res = await deploy([], { ...env, COUCHDB_PASSWORD: 'not-the-password' });
    t.equal(res.code, 2);
    t.match(res.stderr, /not a CouchDB server admin's/);
  });

  t.test('--dry-run lists what it would do and changes nothing', async (t) => {
    const before = await snapshots(nano, dbs);
    const res = await deploy(['--dry-run'], env);
    t.equal(res.code, 0, res.stderr);
    t.equal(lines(res.stdout, 'would install userdb-').length, 6);
    t.match(
      res.stdout,
      /\(dry run\): 6 of 6 databases checked, 6 would update, 0 unchanged, 0 failed/,
    );
    t.same(await snapshots(nano, dbs), before);
  });

  t.test('deploy prints each change, progress on stderr, and exits 0', async (t) => {
    const res = await deploy(['--concurrency', '2'], env);
    t.equal(res.code, 0, res.stderr);
    t.equal(lines(res.stdout, 'installed userdb-').length, 6);
    t.match(res.stdout, /6 of 6 databases checked, 6 updated, 0 unchanged, 0 failed\n$/);
    // stderr is not a terminal here: plain progress lines, no bar redraws.
    t.match(res.stderr, /^deploying 0\/6 0%\n/);
    t.match(res.stderr, /deploying 6\/6 100%\n/);
    t.notMatch(res.stderr, /\r/);
    const after = await snapshots(nano, dbs);
    for (const db of dbs)
      t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);
  });

  t.test('a second run changes nothing', async (t) => {
    const before = await snapshots(nano, dbs);
    const res = await deploy([], env);
    t.equal(res.code, 0);
    t.match(
      res.stdout,
      /^design docs [0-9a-f]{12}: 6 of 6 databases checked, 0 updated, 6 unchanged/,
    );
    t.same(await snapshots(nano, dbs), before);
  });

  t.test('a failed database: reported, the rest done, exit 1', async (t) => {
    await seed(
      nano,
      dbs,
      old.private.map((d) => ({ ...d, version: 'older' })),
    );
    const bad = dbs[2] as string;
    const proxy = await faultProxy(t, store.url, (req) =>
      req.method === 'POST' && req.url?.split('?')[0] === `/${bad}`
        ? { status: 403, body: { error: 'forbidden', reason: 'frozen' } }
        : null,
    );
    const res = await deploy(['--full'], { ...env, COUCHDB_URL: proxy.url });
    t.equal(res.code, 1);
    t.match(res.stderr, new RegExp(`FAILED ${bad}: CouchDB request failed: 403 forbidden frozen`));
    t.match(res.stderr, /1 databases failed: run the command again to retry them/);
    t.equal(lines(res.stdout, 'installed userdb-').length, 5);
  });

  t.test('Ctrl-C stops after the databases in hand; the next run resumes', async (t) => {
    await seed(
      nano,
      dbs,
      old.private.map((d) => ({ ...d, version: 'oldest' })),
    );
    // Hold the read of the fourth database until the command has been told to stop.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const reachedHeld = new Promise<void>((resolve) => (reached = resolve));
    const proxy = await faultProxy(t, store.url, (req) => {
      if (req.url?.startsWith(`/${dbs[3]}/_all_docs`)) {
        reached();
        return held;
      }
      return null;
    });
    const res = await deployProcess(
      ['--concurrency', '1', '--full'],
      { ...env, COUCHDB_URL: proxy.url },
      (child) => {
        // Release the held request only once the command has said it is stopping.
        let said = '';
        child.stderr?.on('data', (c: Buffer) => {
          said += c.toString();
          if (said.includes('stopping after the work in hand')) release();
        });
        void reachedHeld.then(() => child.kill('SIGINT'));
      },
    );
    t.equal(res.code, 130, res.stderr);
    t.match(res.stdout, /4 of 6 databases checked, 4 updated/);
    t.match(res.stderr, /interrupted: run the command again to finish/);

    const resumed = await deploy([], env);
    t.equal(resumed.code, 0, resumed.stderr);
    t.match(
      resumed.stdout,
      new RegExp(`2 of 2 databases checked \\(resumed after ${dbs[3]}\\), 2 updated`),
    );
    const after = await snapshots(nano, dbs);
    for (const db of dbs)
      t.equal(after[db]?.ddocs['_design/sawa']?.version, current.private[0]?.version);
  });
});

t.test(
  'without COUCHDB_URL it finds the embedded store through DATA_DIR',
  needsEmbedded('finds the store through DATA_DIR and STORE_PORT'),
  async (t) => {
    const store = await testCouch(t);
    const fleet = newFleet();
    const nano = adminNano(store);
    const { old } = designDocBuilds();
    await seed(nano, userDbs(fleet.prefix + 'local', 2), old.private);
    const dataDir = await mkdtemp(join(tmpdir(), 'sawa-cli-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    await writeFile(join(dataDir, 'store-admin-password'), `${store.admin.password}\n`);
    const port = new URL(store.url).port;
    const res = await deploy([], {
      DATA_DIR: dataDir,
      STORE_PORT: port,
      COUCHDB_USER: store.admin.name,
      ...fleet.env,
    });
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, /2 of 2 databases checked, 2 updated/);
  },
);
