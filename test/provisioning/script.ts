import { spawn } from 'node:child_process';
import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { userDbName } from '../../server/provisioning/names.js';
import { setup } from '../accounts/helper.js';
import { runCli } from '../helpers/cli.js';
import { main } from '../../scripts/provision.js';

type Setup = Awaited<ReturnType<typeof setup>>;

function provisionEnv(s: Setup, env: Record<string, string> = {}) {
  const url = new URL(s.store.url);
  url.username = s.store.admin.name;
  url.password = s.store.admin.password;
  return {
    COUCHDB_URL: url.toString(),
    COUCHDB_PROXY_SECRET: undefined,
    SAWA_ADMIN_PASSWORD: undefined,
    NODE_ENV: 'test',
    ACCOUNTS_DB: s.svc.config.ACCOUNTS_DB,
    ...env,
  };
}

/** `npm run provision -- …` in-process: scripts/provision.ts's `main`, its output captured. */
function provision(
  s: Setup,
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string } = {},
) {
  return runCli(main, args, provisionEnv(s, opts.env), opts.stdin);
}

/** `npm run provision -- …` as an operator runs it, a process of its own, against the test CouchDB. */
function provisionProcess(s: Setup, args: string[], opts: { stdin?: string } = {}) {
  const env = { ...process.env, ...provisionEnv(s) };
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/provision.ts', ...args], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

t.test('--create-admin makes the first admin; nothing else does', async (t) => {
  const boss = unique('boss');
  const s = await setup(t);
  t.equal(
    (await s.call('POST', '/auth/login', { username: boss, password: 'the-boss-password' })).status,
    401,
  );

  const made = await provision(s, ['--create-admin', boss], {
    env: { SAWA_ADMIN_PASSWORD: 'the-boss-password' },
  });
  t.equal(made.code, 0, made.stderr);
  t.match(made.stderr, `created admin ${boss}`);
  t.notOk(made.stderr.includes('the-boss-password'), 'the password is not echoed');
  const login = await s.call('POST', '/auth/login', {
    username: boss,
    password: 'the-boss-password',
  });
  t.equal(login.status, 200);
  t.same(login.body.user.roles, ['admin']);
  const doc = await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:${boss}`);
  t.match(doc.body.password, { alg: 'scrypt', N: 32768, r: 8, p: 1 }, 'the production cost');

  const piped = await provisionProcess(s, ['--create-admin', 'admin'], {
    stdin: 'piped-password-1\n',
  });
  t.equal(piped.code, 0, piped.stderr);
  t.equal(
    (await s.call('POST', '/auth/login', { username: 'admin', password: 'piped-password-1' }))
      .status,
    200,
    'password from stdin, newline dropped',
  );

  const again = await provision(s, ['--create-admin', boss], {
    env: { SAWA_ADMIN_PASSWORD: 'another-password' },
  });
  t.equal(again.code, 1);
  t.match(again.stderr, `username "${boss}" is taken`);
  const bad = await provision(s, ['--create-admin', 'Boss'], {
    env: { SAWA_ADMIN_PASSWORD: 'another-password' },
  });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /lower-case/);
  const usage = await provision(s, []);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /usage: npm run provision/);
});

t.test('--repair finishes every half-done provisioning and deletion', async (t) => {
  const bossName = unique('boss');
  const a1 = unique('a1');
  const a2 = unique('a2');
  const a3 = unique('a3');
  const a4 = unique('a4');
  const a5 = unique('a5');
  const pwani = unique('pwani');
  const s = await setup(t);
  const boss = await s.user(bossName, ['admin']);
  for (const name of [a1, a2, a3, a4, a5]) await s.user(name);
  await s.call('PUT', `/admin/users/${a1}/teams/${pwani}`, {}, boss.access_token);
  await s.call('PUT', `/admin/users/${a2}/teams/${pwani}`, { mode: 'write' }, boss.access_token);

  // Crashes: a design doc gone, a security reset, a database missing, a team's guard gone,
  // a deletion interrupted after its first step.
  const ddoc = await s.admin('GET', `/${userDbName(a1)}/_design/sawa`);
  await s.admin('DELETE', `/${userDbName(a1)}/_design/sawa?rev=${ddoc.body._rev}`);
  await s.admin('PUT', `/${userDbName(a2)}/_security`, {});
  await s.admin('DELETE', `/${userDbName(a3)}`);
  const guard = await s.admin('GET', `/team-${pwani}/_design/sawa-team-guard`);
  await s.admin('DELETE', `/team-${pwani}/_design/sawa-team-guard?rev=${guard.body._rev}`);
  const a5Record = await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:${a5}`);
  await s.admin('PUT', `/${s.svc.config.ACCOUNTS_DB}/user:${a5}`, {
    ...a5Record.body,
    deleting: { keep_data: false, requested_at: new Date().toISOString() },
  });

  const run = await provision(s, ['--repair', '--concurrency', '3']);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, `user ${a1}: installed ${userDbName(a1)}/_design/sawa`);
  t.match(run.stderr, `user ${a2}: set ${userDbName(a2)}/_security`);
  t.match(run.stderr, `user ${a3}: created ${userDbName(a3)}`);
  t.match(run.stderr, `user ${a4}: ok`);
  t.match(
    run.stderr,
    new RegExp(`user ${a5} \\(deleting\\): deleted ${userDbName(a5)}; .*removed user ${a5}`),
  );
  t.match(run.stderr, `team ${pwani}: installed team-${pwani}/_design/sawa-team-guard`);
  t.match(run.stderr, /repair: 6 users, 1 teams, \d+ changes, 0 failures/);

  t.equal((await s.admin('GET', `/${userDbName(a1)}/_design/sawa`)).status, 200);
  t.same((await s.admin('GET', `/${userDbName(a2)}/_security`)).body.members, {
    names: [a2],
    roles: [],
  });
  t.equal((await s.admin('GET', `/${userDbName(a3)}/_design/sawa`)).status, 200);
  t.equal((await s.admin('GET', `/team-${pwani}/_design/sawa-team-guard`)).status, 200);
  t.equal((await s.admin('GET', `/${userDbName(a5)}`)).status, 404);
  t.equal((await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:${a5}`)).status, 404);

  const second = await provision(s, ['--repair']);
  t.equal(second.code, 0);
  t.match(
    second.stderr,
    /repair: 5 users, 1 teams, 0 changes, 0 failures/,
    'a second repair changes nothing',
  );

  // A record CouchDB cannot provision (a team name no database may have): reported, exit 1.
  const a4Record = await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:${a4}`);
  await s.admin('PUT', `/${s.svc.config.ACCOUNTS_DB}/user:${a4}`, {
    ...a4Record.body,
    teams: [{ team: 'Bad Team!', mode: 'read' }],
  });
  const failing = await provision(s, ['--repair']);
  t.equal(failing.code, 1);
  t.match(failing.stderr, /team Bad Team!: FAILED/);
  t.match(failing.stderr, /1 failures/);
});
