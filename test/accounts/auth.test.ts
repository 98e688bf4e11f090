import t from 'tap';
import { userDbName } from '../../server/provisioning/names.js';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';

const PW = 'habari-za-asubuhi';

// Every subtest shares the file's store (or a real CouchDB shared by every file): unique names.
const [amina, baraka, chausiku, dotto, esther, nobody, faraja, gati, hamisi, imani, sneaky] = [
  'amina',
  'baraka',
  'chausiku',
  'dotto',
  'esther',
  'nobody',
  'faraja',
  'gati',
  'hamisi',
  'imani',
  'sneaky',
].map(unique) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

// One service for the file's tests: each names its users uniquely. A test that needs an empty
// accounts database starts its own (setup), on the same store.
let service: ReturnType<typeof setup> | undefined;
const shared = () => (service ??= setup(t));

t.test('signup, login, me, refresh rotation, logout', async (t) => {
  const s = await shared();

  const signup = await s.call('POST', '/auth/signup', { username: amina, password: PW });
  t.equal(signup.status, 201);
  t.same(Object.keys(signup.body).sort(), [
    'access_token',
    'dbs',
    'expires_in',
    'refresh_token',
    'user',
  ]);
  t.same(signup.body.user, { name: amina, roles: ['agent'] });
  t.same(signup.body.dbs, { user: `userdb-${Buffer.from(amina).toString('hex')}`, shared: [] });
  t.equal(signup.body.expires_in, 900);
  t.match(signup.body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
  const claims = JSON.parse(
    Buffer.from(signup.body.access_token.split('.')[1], 'base64url').toString(),
  );
  t.match(claims, { sub: amina, roles: ['agent'] });
  t.equal(claims.exp - claims.iat, 900);

  const again = await s.call('POST', '/auth/signup', {
    username: amina,
    password: 'someone-else',
  });
  t.equal(again.status, 409, 'the name is taken');
  t.equal(again.body.code, 'SAWA_USERNAME_TAKEN');
  const retry = await s.call('POST', '/auth/signup', { username: amina, password: PW });
  t.equal(retry.status, 200, 'a retried signup (same password) answers as a login');
  t.equal(retry.body.user.name, amina);

  const login = await s.call('POST', '/auth/login', { username: amina, password: PW });
  t.equal(login.status, 200);
  t.same(login.body.dbs, signup.body.dbs);

  const me = await s.call('GET', '/me', undefined, login.body.access_token);
  t.equal(me.status, 200);
  t.match(me.body, {
    name: amina,
    roles: ['agent'],
    teams: [],
    disabled: false,
    last_pull_at: null,
  });
  t.notOk('password' in me.body || 'uid' in me.body, 'no hash, no uid');

  const r1 = await s.call('POST', '/auth/refresh', { refresh_token: login.body.refresh_token });
  t.equal(r1.status, 200);
  t.not(r1.body.refresh_token, login.body.refresh_token, 'a new refresh token');
  t.same(r1.body.user, { name: amina, roles: ['agent'] });
  t.equal((await s.call('GET', '/me', undefined, r1.body.access_token)).status, 200);
  const r2 = await s.call('POST', '/auth/refresh', { refresh_token: r1.body.refresh_token });
  t.equal(r2.status, 200, 'the new one works');

  const out = await s.call(
    'POST',
    '/auth/logout',
    { refresh_token: r2.body.refresh_token },
    r2.body.access_token,
  );
  t.equal(out.status, 200);
  t.same(out.body, { ok: true });
  const dead = await s.call('POST', '/auth/refresh', { refresh_token: r2.body.refresh_token });
  t.equal(dead.status, 401, 'logged-out session cannot refresh');
  t.equal(dead.body.code, 'SAWA_REFRESH_INVALID');
  const other = await s.call('POST', '/auth/refresh', { refresh_token: signup.body.refresh_token });
  t.equal(other.status, 200, 'another session (the signup one) is untouched by that logout');
});

t.test('a used refresh token revokes its whole family', async (t) => {
  const s = await shared();
  const first = await s.user(baraka);
  const second = await s.call('POST', '/auth/refresh', { refresh_token: first.refresh_token });
  t.equal(second.status, 200);
  // The thief replays the first token: refused, and the session ends for everyone.
  const replay = await s.call('POST', '/auth/refresh', { refresh_token: first.refresh_token });
  t.equal(replay.status, 401);
  t.equal(replay.body.code, 'SAWA_REFRESH_REUSED');
  const victim = await s.call('POST', '/auth/refresh', {
    refresh_token: second.body.refresh_token,
  });
  t.equal(victim.status, 401, 'the latest token of the family is revoked too');
  t.equal(victim.body.code, 'SAWA_REFRESH_INVALID');
  const fresh = await s.call('POST', '/auth/login', {
    username: baraka,
    password: 'correct horse battery',
  });
  t.equal(fresh.status, 200, 'logging in again starts a new family');
  t.equal(
    (await s.call('POST', '/auth/refresh', { refresh_token: fresh.body.refresh_token })).status,
    200,
  );
});

t.test('two refreshes racing with one token: one wins, the family is revoked', async (t) => {
  const s = await shared();
  const { refresh_token } = await s.user(chausiku);
  const results = await Promise.all(
    Array.from({ length: 4 }, () => s.call('POST', '/auth/refresh', { refresh_token })),
  );
  const ok = results.filter((r) => r.status === 200);
  t.equal(ok.length, 1, 'exactly one request got new tokens');
  t.ok(
    results.some((r) => r.body.code === 'SAWA_REFRESH_REUSED'),
    'the others were treated as reuse',
  );
  const winner = await s.call('POST', '/auth/refresh', {
    refresh_token: ok[0]!.body.refresh_token,
  });
  t.equal(winner.status, 401, "and the winner's next token is revoked with the family");
});

t.test('refresh tokens are stored only as hashes and survive a restart', async (t) => {
  const s = await shared();
  const { refresh_token } = await s.user(dotto);
  const [family, generation, secret] = refresh_token.split('.');
  const doc = await s.admin('GET', `/${s.svc.config.ACCOUNTS_DB}/refresh:${family}`);
  t.equal(doc.status, 200);
  t.match(doc.body, {
    type: 'refresh',
    family,
    user: dotto,
    generation: Number(generation),
    revoked_at: null,
  });
  t.match(doc.body.secret_sha256, /^[0-9a-f]{64}$/);
  t.notOk(JSON.stringify(doc.body).includes(secret!), 'the secret itself is not stored');

  // A second service on the same CouchDB (a restart) accepts the session.
  const { accountsService } = await import('./helper.js');
  const restarted = await accountsService(t, s.store, {
    env: { ACCOUNTS_DB: s.svc.config.ACCOUNTS_DB },
  });
  const res = await fetch(`${restarted.url}/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token }),
  });
  t.equal(res.status, 200);
});

t.test('wrong password and unknown user answer alike', async (t) => {
  const s = await shared();
  await s.user(esther);
  const wrong = await s.call('POST', '/auth/login', {
    username: esther,
    password: 'not-her-password',
  });
  const unknown = await s.call('POST', '/auth/login', {
    username: nobody,
    password: 'not-her-password',
  });
  t.equal(wrong.status, 401);
  t.same(wrong.body, unknown.body, 'same body');
  t.same(wrong.body, {
    statusCode: 401,
    code: 'SAWA_BAD_CREDENTIALS',
    error: 'Unauthorized',
    message: 'wrong username or password',
  });
});

t.test('a disabled user is refused at once, and works again when re-enabled', async (t) => {
  const s = await shared();
  const boss = await s.user(unique('boss'), ['admin']);
  const agent = await s.user(faraja);
  t.equal((await s.call('GET', '/me', undefined, agent.access_token)).status, 200);

  const off = await s.call('POST', `/admin/users/${faraja}/disable`, undefined, boss.access_token);
  t.equal(off.status, 200);
  t.equal(off.body.disabled, true);
  const me = await s.call('GET', '/me', undefined, agent.access_token);
  t.equal(me.status, 401, 'the unexpired access token stops working');
  t.equal(me.body.code, 'SAWA_ACCOUNT_DISABLED');
  t.equal(
    (await s.call('POST', '/auth/refresh', { refresh_token: agent.refresh_token })).body.code,
    'SAWA_ACCOUNT_DISABLED',
  );
  const login = await s.call('POST', '/auth/login', {
    username: faraja,
    password: 'correct horse battery',
  });
  t.equal(login.status, 401);
  t.equal(login.body.code, 'SAWA_ACCOUNT_DISABLED');
  t.equal(
    (await s.accounts.getUser(faraja))?.disabled,
    true,
    'the gateway sees it through accounts.getUser',
  );

  t.equal(
    (await s.call('POST', `/admin/users/${faraja}/enable`, undefined, boss.access_token)).status,
    200,
  );
  t.equal((await s.call('GET', '/me', undefined, agent.access_token)).status, 200);
});

t.test('access tokens: missing, malformed, forged, expired, from a deleted account', async (t) => {
  const s = await shared();
  const boss = await s.user(unique('boss'), ['admin']);
  const a = await s.user(gati);
  const codes = async (token: string | undefined, header?: string) => {
    const res = await fetch(`${s.svc.url}/me`, {
      headers: header
        ? { authorization: header }
        : token
          ? { authorization: `Bearer ${token}` }
          : {},
    });
    t.equal(
      res.headers.get('www-authenticate')?.startsWith('Bearer'),
      true,
      'WWW-Authenticate: Bearer',
    );
    return ((await res.json()) as { code: string }).code;
  };
  t.equal(await codes(undefined), 'SAWA_TOKEN_MISSING');
  t.equal(
    await codes(undefined, `Basic ${Buffer.from(`${gati}:x`).toString('base64')}`),
    'SAWA_TOKEN_MISSING',
  );
  t.equal(await codes('not-a-jwt'), 'SAWA_TOKEN_INVALID');
  const [h, p] = a.access_token.split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['admin'] }),
  ).toString('base64url');
  t.equal(
    await codes(`${h}.${forged}.${a.access_token.split('.')[2]}`),
    'SAWA_TOKEN_INVALID',
    'changed claims break the signature',
  );
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  t.equal(await codes(`${none}.${p}.`), 'SAWA_TOKEN_INVALID', 'alg none is refused');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
  const expired = s.svc.app.jwt.sign(
    { sub: claims.sub, uid: claims.uid, roles: claims.roles },
    { clockTimestamp: Date.now() - 3600_000 },
  );
  t.equal(await codes(expired), 'SAWA_TOKEN_EXPIRED');

  // Deleted, then the name signed up again: the old token must not open the new account.
  t.equal(
    (await s.call('DELETE', `/admin/users/${gati}`, undefined, boss.access_token)).status,
    200,
  );
  t.equal(await codes(a.access_token), 'SAWA_TOKEN_INVALID');
  await s.call('POST', '/auth/signup', { username: gati, password: 'a-new-person-1' });
  t.equal(await codes(a.access_token), 'SAWA_TOKEN_INVALID');
  t.equal((await s.call('POST', '/auth/refresh', { refresh_token: a.refresh_token })).status, 401);
});

t.test("a user cannot touch another user's records through the accounts routes", async (t) => {
  const s = await shared();
  const a = await s.user(hamisi);
  const b = await s.user(imani);
  t.equal((await s.call('GET', '/me', undefined, a.access_token)).body.name, hamisi);
  const steal = await s.call(
    'POST',
    '/auth/logout',
    { refresh_token: b.refresh_token },
    a.access_token,
  );
  t.equal(steal.status, 401, "logging out someone else's session is refused");
  t.equal(steal.body.code, 'SAWA_REFRESH_INVALID');
  t.equal(
    (await s.call('POST', '/auth/refresh', { refresh_token: b.refresh_token })).status,
    200,
    "b's session lives",
  );
  for (const [method, path, body] of [
    ['GET', '/admin/users', undefined],
    ['GET', `/admin/users/${imani}`, undefined],
    ['POST', `/admin/users/${imani}/disable`, undefined],
    ['PUT', `/admin/users/${imani}/roles`, { roles: ['admin'] }],
    ['PUT', `/admin/users/${hamisi}/roles`, { roles: ['admin'] }],
    ['PUT', `/admin/users/${imani}/teams/north`, { mode: 'write' }],
    ['DELETE', `/admin/users/${imani}`, undefined],
    ['POST', '/admin/users', { username: sneaky, password: 'password123', roles: ['admin'] }],
  ] as const) {
    const res = await s.call(method, path, body, a.access_token);
    t.equal(res.status, 403, `${method} ${path}`);
    t.equal(res.body.code, 'SAWA_ADMIN_REQUIRED');
  }
  const still = await s.call('GET', '/me', undefined, b.access_token);
  t.match(still.body, { name: imani, roles: ['agent'], disabled: false, teams: [] }, 'b unchanged');
  t.equal(
    (await s.call('GET', '/me', undefined, a.access_token)).body.roles[0],
    'agent',
    'a did not promote themself',
  );
});

t.test('no default admin exists', async (t) => {
  const s = await setup(t);
  for (const [username, password] of [
    ['admin', 'admin'],
    ['admin', 'password'],
    ['root', 'root'],
  ] as const) {
    t.equal((await s.call('POST', '/auth/login', { username, password })).status, 401, username);
  }
  const users = await s.admin(
    'GET',
    `/${s.svc.config.ACCOUNTS_DB}/_all_docs?startkey="user:"&endkey="user:\ufff0"`,
  );
  t.same(users.body.rows, []);
  t.equal(userDbName('admin'), 'userdb-61646d696e');
});
