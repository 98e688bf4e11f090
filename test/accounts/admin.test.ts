import t from 'tap';
import { randomInt } from 'node:crypto';
import { unique } from '../helpers/fixtures.js';
import { userDbName } from '../../server/provisioning/names.js';
import { setup } from './helper.js';
import { SyncTimes } from '../../server/accounts/sync-times.js';
import type { UserStore } from '../../server/accounts/users.js';

t.test('admin routes need a token and the admin role', async (t) => {
  const juma = unique('juma');
  const s = await setup(t);
  const agent = await s.user(juma);
  for (const [method, path] of [
    ['GET', '/admin/users'],
    ['POST', '/admin/users'],
    ['GET', `/admin/users/${juma}`],
    ['DELETE', `/admin/users/${juma}`],
    ['POST', `/admin/users/${juma}/enable`],
    ['PUT', `/admin/users/${juma}/teams/north`],
  ]) {
    const anon = await s.call(
      method!,
      path!,
      method === 'GET' || method === 'DELETE' ? undefined : {},
    );
    t.equal(anon.status, 401, `${method} ${path} without a token`);
    t.equal(anon.body.code, 'SAWA_TOKEN_MISSING');
    const res = await s.call(
      method!,
      path!,
      method === 'GET' || method === 'DELETE' ? undefined : {},
      agent.access_token,
    );
    t.equal(res.status, 403, `${method} ${path} as an agent`);
  }
});

t.test('create, read, list, roles', async (t) => {
  const bossName = unique('boss');
  // A phone number as a user name, unique like every name here.
  const phone = `+2557${String(randomInt(1e7, 1e8))}`;
  const arusha_north = unique('arusha-north');
  const moshi = unique('moshi');
  const s = await setup(t);
  const boss = await s.user(bossName, ['admin']);
  const tok = boss.access_token;

  const created = await s.call(
    'POST',
    '/admin/users',
    {
      username: phone,
      password: 'password123',
      roles: ['supervisor'],
      teams: [{ team: arusha_north }, { team: moshi, mode: 'read' }],
    },
    tok,
  );
  t.equal(created.status, 201);
  t.match(created.body, {
    name: phone,
    roles: ['supervisor'],
    teams: [
      { team: arusha_north, mode: 'write', db: `team-${arusha_north}` },
      { team: moshi, mode: 'read', db: `team-${moshi}` },
    ],
    disabled: false,
    dbs: { user: userDbName(phone), shared: [`team-${arusha_north}`, `team-${moshi}`] },
  });
  t.notOk(JSON.stringify(created.body).match(/scrypt|salt|hash|uid/), 'no secrets in the answer');
  for (const db of [userDbName(phone), `team-${arusha_north}`, `team-${moshi}`]) {
    t.equal((await s.admin('GET', `/${db}`)).status, 200, `${db} provisioned`);
  }

  const login = await s.call('POST', '/auth/login', {
    username: phone,
    password: 'password123',
  });
  t.same(
    login.body.dbs.shared,
    [`team-${arusha_north}`, `team-${moshi}`],
    'login lists the shared databases',
  );

  const dup = await s.call(
    'POST',
    '/admin/users',
    { username: phone, password: 'password123' },
    tok,
  );
  t.equal(dup.status, 409);
  const reserved = await s.call(
    'POST',
    '/admin/users',
    { username: 'support', password: 'password123' },
    tok,
  );
  t.equal(reserved.status, 201, 'admins may give out reserved names');
  t.same(reserved.body.roles, ['agent'], 'agent by default');

  t.equal(
    (await s.call('GET', `/admin/users/%2B${phone.slice(1)}`, undefined, tok)).body.name,
    phone,
  );
  t.equal(
    (await s.call('GET', `/admin/users/${phone}`, undefined, tok)).body.name,
    phone,
    '+ in a path is a plus',
  );

  const page1 = await s.call('GET', '/admin/users?limit=2', undefined, tok);
  t.same(
    page1.body.users.map((u: any) => u.name),
    [phone, bossName],
  );
  t.equal(page1.body.next, bossName);
  const page2 = await s.call(
    'GET',
    `/admin/users?limit=2&after=${page1.body.next}`,
    undefined,
    tok,
  );
  t.same(
    page2.body.users.map((u: any) => u.name),
    ['support'],
  );
  t.equal(page2.body.next, null);
  const sup = await s.call('GET', '/admin/users?role=supervisor', undefined, tok);
  t.same(
    sup.body.users.map((u: any) => u.name),
    [phone],
  );
  const team = await s.call('GET', `/admin/users?team=${moshi}`, undefined, tok);
  t.same(
    team.body.users.map((u: any) => u.name),
    [phone],
  );

  const roles = await s.call(
    'PUT',
    '/admin/users/support/roles',
    { roles: ['agent', 'supervisor'] },
    tok,
  );
  t.same(roles.body.roles, ['agent', 'supervisor']);
  const relog = await s.call('POST', '/auth/login', {
    username: 'support',
    password: 'password123',
  });
  t.same(relog.body.user.roles, ['agent', 'supervisor']);
});

t.test('teams: join, change mode, leave', async (t) => {
  const bossName = unique('boss');
  const kheri = unique('kheri');
  const tanga = unique('tanga');
  const s = await setup(t);
  const boss = await s.user(bossName, ['admin']);
  const agent = await s.user(kheri);
  const tok = boss.access_token;
  const join = await s.call('PUT', `/admin/users/${kheri}/teams/${tanga}`, {}, tok);
  t.equal(join.status, 200);
  t.same(
    join.body.teams,
    [{ team: tanga, mode: 'read', db: `team-${tanga}` }],
    'agents read by default',
  );
  const sec = await s.admin('GET', `/team-${tanga}/_security`);
  t.same(sec.body, {
    admins: { names: [], roles: [] },
    members: { names: [], roles: [`team:${tanga}`] },
  });

  const write = await s.call('PUT', `/admin/users/${kheri}/teams/${tanga}`, { mode: 'write' }, tok);
  t.same(write.body.teams, [{ team: tanga, mode: 'write', db: `team-${tanga}` }]);
  const noBody = await fetch(`${s.svc.url}/admin/users/${kheri}/teams/${tanga}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${tok}` },
  });
  t.equal(noBody.status, 200, 'the body is optional');
  t.equal(((await noBody.json()) as any).teams[0].mode, 'write', 'an existing mode is kept');
  const me = await s.call('GET', '/me', undefined, agent.access_token);
  t.same(me.body.dbs.shared, [`team-${tanga}`], 'the user sees it at once');
  t.equal((await s.accounts.getUser(kheri))?.teams[0]?.mode, 'write');

  const leave = await s.call('DELETE', `/admin/users/${kheri}/teams/${tanga}`, undefined, tok);
  t.same(leave.body.teams, []);
  t.equal((await s.admin('GET', `/team-${tanga}`)).status, 200, 'the team database stays');
});

t.test('delete: database dropped, or kept and locked; record purged; sessions gone', async (t) => {
  const bossName = unique('boss');
  const lulu = unique('lulu');
  const mosi = unique('mosi');
  const s = await setup(t);
  const boss = await s.user(bossName, ['admin']);
  const tok = boss.access_token;
  const gone = await s.user(lulu);
  const kept = await s.user(mosi);

  const del = await s.call('DELETE', `/admin/users/${lulu}`, undefined, tok);
  t.same(del.body, { ok: true, name: lulu, db: userDbName(lulu), data: 'deleted' });
  t.equal((await s.admin('GET', `/${userDbName(lulu)}`)).status, 404, 'database deleted');
  const rows = await s.admin('POST', `/${s.svc.config.ACCOUNTS_DB}/_all_docs`, {
    keys: [`user:${lulu}`],
  });
  t.match(
    rows.body.rows[0],
    { key: `user:${lulu}`, error: 'not_found' },
    'purged, not just a tombstone',
  );
  const [family] = gone.refresh_token.split('.');
  t.equal(
    (await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/refresh:${family}`)).status,
    404,
    'sessions removed',
  );
  t.equal((await s.call('GET', '/me', undefined, gone.access_token)).status, 401);

  const keep = await s.call('DELETE', `/admin/users/${mosi}?keep_data=true`, undefined, tok);
  t.equal(keep.body.data, 'kept');
  const sec = await s.admin('GET', `/${userDbName(mosi)}/_security`);
  t.same(
    sec.body,
    { admins: { names: [], roles: [] }, members: { names: [], roles: ['_admin'] } },
    'locked to server admins',
  );
  t.equal(
    (await s.call('POST', '/auth/login', { username: mosi, password: 'correct horse battery' }))
      .status,
    401,
  );
  t.equal(
    (await s.call('POST', '/auth/refresh', { refresh_token: kept.refresh_token })).status,
    401,
  );
  const list = await s.call('GET', '/admin/users', undefined, tok);
  t.same(
    list.body.users.map((u: any) => u.name),
    [bossName],
  );
});

t.test('sync times: recorded, coalesced, and the inactive list', async (t) => {
  const bossName = unique('boss');
  const neema = unique('neema');
  const omari = unique('omari');
  // Long enough that the first write's cool-down is still on when the fifty syncs come,
  // however loaded the machine (a shorter one ran out between the flush and the loop).
  const s = await setup(t, { syncWriteIntervalMs: 2000 });
  const boss = await s.user(bossName, ['admin']);
  await s.user(neema);
  await s.user(omari);
  const read = async (name: string) =>
    (await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:${name}`)).body;

  const before = await read(neema);
  s.accounts.recordSync(neema, 'pull');
  await s.accounts.flushSyncTimes();
  const first = await read(neema);
  t.ok(first.last_pull_at > before.updated_at, 'the first pull is written at once');
  t.equal(first.last_push_at, null);

  for (let i = 0; i < 50; i++) s.accounts.recordSync(neema, i % 2 ? 'push' : 'pull');
  const during = await read(neema);
  t.equal(during._rev, first._rev, 'fifty syncs within the interval wrote nothing yet');
  // The cool-down ends and the pending times go in one write.
  let after = during;
  for (const end = Date.now() + 15_000; after._rev === first._rev && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 100));
    after = await read(neema);
  }
  t.equal(Number(after._rev.split('-')[0]), Number(first._rev.split('-')[0]) + 1, 'then one write');
  t.ok(after.last_push_at && after.last_pull_at > first.last_pull_at, 'with the latest times');

  // omari last synced 10 days ago; boss never synced but signed up 10 days ago.
  const old = new Date(Date.now() - 10 * 86_400_000).toISOString();
  for (const name of [omari, bossName]) {
    const doc = await read(name);
    const patch = name === omari ? { last_pull_at: old, last_push_at: old } : { created_at: old };
    t.equal(
      (await s.admin('PUT', `/${s.svc.config.ACCOUNTS_DB}/user:${name}`, { ...doc, ...patch }))
        .status,
      201,
    );
  }
  const list = async (q: string) =>
    (await s.call('GET', `/admin/users?${q}`, undefined, boss.access_token)).body.users.map(
      (u: any) => u.name,
    );
  t.same(await list('inactive_days=7'), [bossName, omari]);
  t.same(
    await list('inactive_days=7&role=agent'),
    [omari],
    'agents who have not synced for 7 days',
  );
  t.same(await list('inactive_days=11'), []);
  t.same(await list('inactive_days=0'), [bossName, neema, omari]);
  s.accounts.recordSync('nobody', 'push');
  await s.accounts.flushSyncTimes();
  t.pass('a sync for an unknown user is ignored');
});

t.test('sync times: first syncs share one write, and a failed write loses no time', async (t) => {
  const calls: Array<{ names: string[]; fail: boolean }> = [];
  let failNext = true;
  const writes: Array<() => void> = [];
  const wrote = () => new Promise<void>((r) => writes.push(r));
  const store = {
    async updateMany(names: string[]) {
      calls.push({ names: [...names].sort(), fail: failNext });
      writes.shift()?.();
      if (failNext) {
        failNext = false;
        throw new Error('store away');
      }
      return [];
    },
  };
  const errors: string[][] = [];
  // SyncTimes' timers do not hold the process up (a closing service flushes): this test does.
  const keepUp = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepUp));
  const times = new SyncTimes(
    store as unknown as UserStore,
    30,
    (_err, names) => errors.push([...names].sort()),
    20,
  );
  const first = wrote();
  for (let i = 0; i < 100; i++) times.record(`u${i}`, 'pull');
  await first;
  t.equal(calls.length, 1, "a hundred users' first pulls: one write");
  t.equal(calls[0]!.names.length, 100);
  // The failed times are kept and written when the users' cool-downs end.
  await wrote();
  t.same(errors, [calls[0]!.names], 'the failure was reported');
  t.equal(calls.length, 2);
  t.same(calls[1]!.names, calls[0]!.names, 'tried again, nothing lost');
  await times.flush();
});
