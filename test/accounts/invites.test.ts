import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { accountsService, setup } from './helper.js';
import { couch } from '../helpers/store.js';

// Its teams, named apart from every other file's (team databases are server-wide).
const T = { arusha: unique('arusha'), moshi: unique('moshi'), dodoma: unique('dodoma') };
// The people who sign up: user databases are server-wide, so their names are unique.
const who = Object.fromEntries(
  ['halima', 'other', 'rev1', 'late1', 'weakling', 'strongling', 'shut', 'walkin'].map((n) => [
    n,
    unique(n),
  ]),
) as Record<
  'halima' | 'other' | 'rev1' | 'late1' | 'weakling' | 'strongling' | 'shut' | 'walkin',
  string
>;

/** One store and one SIGNUP=invite service for the file; other modes share the store. */
t.test('signup modes and invitation codes', async (t) => {
  const s = await setup(t, { env: { SIGNUP: 'invite' } });
  const boss = await s.user(unique('boss'), ['admin']);
  const sup = await s.user(unique('sup-a'), ['supervisor']);
  const supB = await s.user(unique('sup-b'), ['supervisor']);
  const agent = await s.user(unique('agent-a'), ['agent']);
  await s.call(
    'PUT',
    `/admin/users/${sup.name}/teams/${T.arusha}`,
    { mode: 'write' },
    boss.access_token,
  );
  await s.call(
    'PUT',
    `/admin/users/${sup.name}/teams/${T.moshi}`,
    { mode: 'read' },
    boss.access_token,
  );
  await s.call('PUT', `/admin/users/${supB.name}/teams/${T.dodoma}`, {}, boss.access_token);

  await t.test('invite mode: no code, no account', async (t) => {
    const res = await s.call('POST', '/auth/signup', { username: 'juma', password: 'password-1' });
    t.equal(res.status, 403);
    t.equal(res.body.code, 'SAWA_INVITE_REQUIRED');
    t.match(res.body.message, /invitation code/);
    const bad = await s.call('POST', '/auth/signup', {
      username: 'juma',
      password: 'password-1',
      invite: 'AAAA-BBBB-CCCC-DDDD',
    });
    t.equal(bad.status, 403);
    t.equal(bad.body.code, 'SAWA_INVITE_INVALID');
    t.equal(
      (await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/user:juma`)).status,
      404,
      'nobody was made',
    );
  });

  await t.test('a code gives its role and teams, once, and is stored hashed', async (t) => {
    const made = await s.call(
      'POST',
      '/admin/invites',
      { role: 'supervisor', teams: [{ team: T.arusha }] },
      boss.access_token,
    );
    t.equal(made.status, 201, JSON.stringify(made.body));
    const { code, invite } = made.body;
    t.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    t.match(invite, { role: 'supervisor', state: 'active', created_by: boss.name });
    const stored = await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/invite:${invite.id}`);
    t.equal(stored.status, 200);
    t.notOk(JSON.stringify(stored.body).includes(code.replace(/-/g, '')), 'no code in storage');
    t.notOk(JSON.stringify(stored.body).includes(code), 'no code in storage');

    const typed = code.toLowerCase().replace(/-/g, ' ');
    const res = await s.call('POST', '/auth/signup', {
      username: who.halima,
      password: 'password-1',
      invite: typed,
    });
    t.equal(res.status, 201, JSON.stringify(res.body));
    t.same(res.body.user.roles, ['supervisor']);
    t.same(res.body.dbs.shared, [`team-${T.arusha}`]);
    const me = await s.call('GET', '/me', undefined, res.body.access_token);
    t.same(me.body.teams, [{ team: T.arusha, mode: 'write', db: `team-${T.arusha}` }]);

    const retried = await s.call('POST', '/auth/signup', {
      username: who.halima,
      password: 'password-1',
      invite: code,
    });
    t.equal(retried.status, 200, 'a retried signup answers as a login');
    const again = await s.call('POST', '/auth/signup', {
      username: who.other,
      password: 'password-1',
      invite: code,
    });
    t.equal(again.status, 403, 'a used code makes no second account');
    t.equal(again.body.code, 'SAWA_INVITE_INVALID');
    const listed = await s.call('GET', '/admin/invites?state=used', undefined, boss.access_token);
    t.match(
      listed.body.invites.find((i: { id: string }) => i.id === invite.id),
      { state: 'used', used_by: who.halima },
    );
  });

  await t.test('a revoked or expired code is refused', async (t) => {
    const made = await s.call('POST', '/admin/invites', {}, boss.access_token);
    const revoked = await s.call(
      'DELETE',
      `/admin/invites/${made.body.invite.id}`,
      undefined,
      boss.access_token,
    );
    t.equal(revoked.status, 200);
    t.equal(revoked.body.state, 'revoked');
    const res = await s.call('POST', '/auth/signup', {
      username: who.rev1,
      password: 'password-1',
      invite: made.body.code,
    });
    t.equal(res.body.code, 'SAWA_INVITE_INVALID');

    const old = await s.call('POST', '/admin/invites', {}, boss.access_token);
    await s.admin('PUT', `/${s.svc.config.ACCOUNTS_DB}/invite:${old.body.invite.id}`, {
      ...(await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/invite:${old.body.invite.id}`)).body,
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    const late = await s.call('POST', '/auth/signup', {
      username: who.late1,
      password: 'password-1',
      invite: old.body.code,
    });
    t.equal(late.status, 403);
    t.equal(late.body.code, 'SAWA_INVITE_INVALID');
  });

  await t.test('a weak password or taken name leaves the code usable', async (t) => {
    const made = await s.call('POST', '/admin/invites', {}, boss.access_token);
    const weak = await s.call('POST', '/auth/signup', {
      username: who.weakling,
      password: 'short',
      invite: made.body.code,
    });
    t.equal(weak.status, 400);
    const ok = await s.call('POST', '/auth/signup', {
      username: who.strongling,
      password: 'long-enough-1',
      invite: made.body.code,
    });
    t.equal(ok.status, 201);
  });

  await t.test('supervisors: own teams, own mode, never an admin', async (t) => {
    const own = await s.call(
      'POST',
      '/admin/invites',
      { teams: [{ team: T.arusha }] },
      sup.access_token,
    );
    t.equal(own.status, 201);
    t.same(own.body.invite.teams, [{ team: T.arusha, mode: 'read' }]);
    const cases: Array<[unknown, RegExp]> = [
      [{ teams: [{ team: T.dodoma }] }, new RegExp(`own teams, not "${T.dodoma}"`)],
      [{ role: 'admin', teams: [{ team: T.arusha }] }, /only an admin can invite an admin/],
      [{}, /name it in teams/],
      [{ teams: [{ team: T.moshi, mode: 'write' }] }, new RegExp(`only read team "${T.moshi}"`)],
    ];
    for (const [body, message] of cases) {
      const res = await s.call('POST', '/admin/invites', body, sup.access_token);
      t.equal(res.status, 403, JSON.stringify(body));
      t.equal(res.body.code, 'SAWA_INVITE_FORBIDDEN');
      t.match(res.body.message, message);
    }
    const agentTry = await s.call(
      'POST',
      '/admin/invites',
      { teams: [{ team: T.arusha }] },
      agent.access_token,
    );
    t.equal(agentTry.status, 403, 'an agent invites nobody');
    t.equal(agentTry.body.code, 'SAWA_INVITER_REQUIRED');
    t.equal((await s.call('GET', '/admin/invites', undefined, agent.access_token)).status, 403);
    t.equal((await s.call('POST', '/admin/invites', {})).status, 401, 'anonymous: 401');
  });

  await t.test("supervisor A cannot see or revoke supervisor B's codes", async (t) => {
    const b = await s.call(
      'POST',
      '/admin/invites',
      { teams: [{ team: T.dodoma }] },
      supB.access_token,
    );
    const listA = await s.call('GET', '/admin/invites', undefined, sup.access_token);
    t.ok(listA.body.invites.length > 0);
    t.ok(
      listA.body.invites.every((i: { created_by: string }) => i.created_by === sup.name),
      "A lists only A's",
    );
    const revoke = await s.call(
      'DELETE',
      `/admin/invites/${b.body.invite.id}`,
      undefined,
      sup.access_token,
    );
    t.equal(revoke.status, 404, 'as if it did not exist');
    const stillActive = await s.call('GET', '/admin/invites', undefined, supB.access_token);
    t.match(
      stillActive.body.invites.find((i: { id: string }) => i.id === b.body.invite.id),
      { state: 'active' },
    );
    t.equal(
      (await s.call('DELETE', `/admin/invites/${b.body.invite.id}`, undefined, boss.access_token))
        .status,
      200,
      'an admin may',
    );
  });

  await t.test('closed: 403 with a reason; open: anyone, invitation optional', async (t) => {
    const closed = await accountsService(t, s.store, { env: { SIGNUP: 'closed' } });
    const res = await couch(closed.url, 'POST', '/auth/signup', {
      body: { username: who.shut, password: 'password-1' },
    });
    t.equal(res.status, 403);
    t.equal(res.body.code, 'SAWA_SIGNUP_CLOSED');
    t.match(res.body.message, /administrator creates accounts/);
    const open = await accountsService(t, s.store, { env: { SIGNUP: 'open' } });
    const plain = await couch(open.url, 'POST', '/auth/signup', {
      body: { username: who.walkin, password: 'password-1' },
    });
    t.equal(plain.status, 201);
    t.same(plain.body.user.roles, ['agent']);
  });
});
