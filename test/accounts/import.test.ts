import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';
import { testFleet } from '../helpers/fleet.js';
import { runCli } from '../helpers/cli.js';
import { main } from '../../scripts/users.js';

type Setup = Awaited<ReturnType<typeof setup>>;

// Its teams, named apart from every other file's (team databases are server-wide).
const T = { arusha: unique('arusha'), moshi: unique('moshi') };
// Phone numbers (user names) of its own: the middle three digits are the file's.
const R = String(randomInt(1000)).padStart(3, '0');
const chiku = unique('chiku');

function adminUrl(s: Setup): string {
  const url = new URL(s.store.url);
  url.username = s.store.admin.name;
  url.password = s.store.admin.password;
  return url.toString();
}

/** The script's environment: the test CouchDB, and the service's own accounts and fleet. */
function scriptEnv(s: Setup): Record<string, string> {
  const c = s.svc.config;
  return {
    COUCHDB_URL: adminUrl(s),
    NODE_ENV: 'test',
    ACCOUNTS_DB: c.ACCOUNTS_DB,
    AUDIT_DB: c.AUDIT_DB,
    ...testFleet().env,
  };
}

/** `npm run users -- …` in-process: scripts/users.ts's `main`, its output captured. */
function users(s: Setup, args: string[]) {
  return runCli(main, args, scriptEnv(s));
}

/** `npm run users -- …` as an operator runs it, a process of its own, against the test CouchDB. */
function usersProcess(s: Setup, args: string[]) {
  const env = { ...process.env, ...scriptEnv(s) };
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/users.ts', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('bulk onboarding', async (t) => {
  const s = await setup(t);
  const boss = await s.user(unique('boss'), ['admin']);
  const agent = await s.user(unique('agent-a'), ['agent']);

  await t.test('JSON: each row answered; a second run changes nothing', async (t) => {
    const rows = [
      { name: 'Amina Juma', phone: `+255712${R}001`, teams: T.arusha },
      { name: 'Baraka Said', phone: `+255712${R}002`, role: 'supervisor', teams: [T.arusha] },
      { username: chiku, phone: `+255712${R}003`, password: 'chosen-by-admin' },
      { name: 'No Phone' },
      { phone: `0712${R}004` },
      { phone: `+255712${R}005`, role: 'boss' },
      { phone: `+255712${R}006`, teams: 'Bad Team' },
      { phone: `+255712${R}007`, shoe_size: 42 },
    ];
    const res = await s.call('POST', '/admin/users/import', rows, boss.access_token);
    t.equal(res.status, 200, JSON.stringify(res.body));
    t.match(res.body, { created: 3, exists: 0, failed: 5 });
    const [a, b, c, ...bad] = res.body.results;
    t.match(a, { row: 1, username: `+255712${R}001`, status: 'created' });
    t.match(a.password, /^[A-Za-z0-9_-]{12}$/, 'a generated first password');
    t.match(b, { row: 2, status: 'created' });
    t.notOk(c.password, 'no password answered when the row gave one');
    t.same(
      bad.map((r: { status: string; code: string; message: string }) => [r.status, r.code]),
      [
        ['failed', 'SAWA_IMPORT_INVALID'],
        ['failed', 'SAWA_IMPORT_INVALID'],
        ['failed', 'SAWA_IMPORT_INVALID'],
        ['failed', 'SAWA_INVALID_TEAM'],
        ['failed', 'SAWA_IMPORT_INVALID'],
      ],
    );
    t.match(bad[1].message, /E\.164/);
    t.match(bad[4].message, /unknown column "shoe_size"/);

    const user = await s.call('GET', `/admin/users/+255712${R}002`, undefined, boss.access_token);
    t.match(user.body, {
      roles: ['supervisor'],
      teams: [{ team: T.arusha, mode: 'write' }],
      full_name: 'Baraka Said',
      phone: `+255712${R}002`,
      password_change_required: true,
    });
    const login = await s.call('POST', '/auth/login', {
      username: `+255712${R}001`,
      password: a.password,
    });
    t.equal(login.status, 200, 'the first password works');
    t.equal(login.body.user.password_change_required, true, 'and must be changed');

    const again = await s.call('POST', '/admin/users/import', rows.slice(0, 3), boss.access_token);
    t.match(again.body, { created: 0, exists: 3, failed: 0 });
  });

  await t.test('CSV, with quoted fields and a BOM', async (t) => {
    const csv =
      '\ufeffname,phone,role,teams\r\n' +
      `"Juma, Mzee",+255713${R}001,agent,${T.arusha};${T.moshi}:write\r\n` +
      `Neema,+255713${R}002,,\r\n`;
    const res = await fetch(`${s.svc.url}/admin/users/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${boss.access_token}` },
      body: csv,
    });
    const body = await res.json();
    t.equal(res.status, 200, JSON.stringify(body));
    t.match(body, { created: 2, failed: 0 });
    const juma = await s.call('GET', `/admin/users/+255713${R}001`, undefined, boss.access_token);
    t.match(juma.body, { full_name: 'Juma, Mzee' });
    t.same(
      juma.body.teams.map((m: { team: string; mode: string }) => [m.team, m.mode]),
      [
        [T.arusha, 'read'],
        [T.moshi, 'write'],
      ],
    );
    const broken = await fetch(`${s.svc.url}/admin/users/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${boss.access_token}` },
      body: `name,phone\n"unterminated,+255713${R}003\n`,
    });
    t.equal(broken.status, 400);
    t.equal((await broken.json()).code, 'SAWA_IMPORT_INVALID');
  });

  await t.test('only admins import', async (t) => {
    const res = await s.call(
      'POST',
      '/admin/users/import',
      [{ phone: `+255714${R}001` }],
      agent.access_token,
    );
    t.equal(res.status, 403);
    t.equal(
      (await s.call('POST', '/admin/users/import', [{ phone: `+255714${R}001` }])).status,
      401,
    );
    t.equal(
      (await s.call('GET', `/admin/users/+255714${R}001`, undefined, boss.access_token)).status,
      404,
      'nobody was made',
    );
  });

  await t.test('npm run users -- import FILE', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sawa-import-'));
    const file = join(dir, 'agents.csv');
    const lines = ['name,phone,teams'];
    for (let i = 0; i < 12; i++)
      lines.push(`Agent ${i},+255715${R}0${String(i).padStart(2, '0')},${T.arusha}`);
    lines.push(`Bad,12345,${T.arusha}`);
    await writeFile(file, lines.join('\n') + '\n');
    const run = await usersProcess(s, ['import', file, '--concurrency', '3']);
    t.equal(run.code, 1, 'a failed row makes exit code 1');
    t.match(run.stderr, /users 13\/13 100%/, 'progress on stderr');
    t.match(run.stderr, /created 12, existing 0, failed 1/);
    const out = run.stdout.trim().split('\n');
    t.equal(out[0], 'row,username,status,code,message,password');
    t.equal(out.length, 14);
    t.match(out[1], new RegExp(`^1,\\+255715${R}000,created,,,[A-Za-z0-9_-]{12}$`));
    const rerun = await users(s, ['import', file]);
    t.match(rerun.stderr, /created 0, existing 12, failed 1/);
    const usage = await users(s, ['import']);
    t.equal(usage.code, 2);
    t.match(usage.stderr, /usage: npm run users -- import FILE/);
  });
});
