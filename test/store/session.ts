import t from 'tap';
import { testCouch, couch } from '../helpers/store.js';
import { client, createDb, createUser } from '../helpers/fixtures.js';

const server = await testCouch(t);
const user = await createUser(server, 'sess', ['field']);
const db = await createDb(server, 'sessdb', {
  admins: { names: [], roles: [] },
  members: { names: [user.name], roles: [] },
});

/** The AuthSession cookie from a Set-Cookie header. */
function sessionCookie(headers: Headers): string | undefined {
  const set = headers.get('set-cookie') ?? '';
  return /AuthSession=([^;]*)/.exec(set)?.[1];
}

t.test('POST /_session with JSON: 200, the user, and an HttpOnly AuthSession cookie', async (t) => {
  const res = await couch(server.url, 'POST', '/_session', {
    body: { name: user.name, password: user.password },
  });
  t.equal(res.status, 200);
  t.same(res.body, { ok: true, name: user.name, roles: ['field'] });
  const set = res.headers.get('set-cookie') ?? '';
  t.match(set, /^AuthSession=[A-Za-z0-9_-]+;/);
  t.match(set, /HttpOnly/i);
  t.match(set, /Path=\//);
  const cookie = sessionCookie(res.headers);
  t.ok(cookie);

  const who = await couch(server.url, 'GET', '/_session', {
    headers: { cookie: `AuthSession=${cookie}` },
  });
  t.equal(who.status, 200);
  t.same(who.body.userCtx, { name: user.name, roles: ['field'] });
  t.equal(who.body.info.authenticated, 'cookie');
  t.notOk('authentication_db' in who.body.info, 'CouchDB 3.5 names no authentication_db');
  t.ok(who.body.info.authentication_handlers.includes('cookie'));

  const read = await couch(server.url, 'GET', `/${db}`, {
    headers: { cookie: `AuthSession=${cookie}` },
  });
  t.equal(read.status, 200, 'the cookie opens the member database');
  const write = await couch(server.url, 'PUT', `/${db}/by-cookie`, {
    body: { a: 1 },
    headers: { cookie: `AuthSession=${cookie}` },
  });
  t.equal(write.status, 201);
});

t.test('POST /_session with an HTML form', async (t) => {
  const form = new URLSearchParams({ name: user.name, password: user.password }).toString();
  const res = await couch(server.url, 'POST', '/_session', {
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.equal(res.status, 200);
  t.equal(res.body.name, user.name);
  t.ok(sessionCookie(res.headers));
  const next = await fetch(`${server.url}/_session?next=/${db}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  t.equal(next.status, 302, '?next= redirects after login');
  t.match(next.headers.get('location'), new RegExp(`/${db}$`));
});

t.test('wrong or missing credentials: 401, no cookie', async (t) => {
  for (const body of [
    { name: user.name, password: 'wrong' },
    { name: 'nobody-here', password: 'x' },
    { name: user.name },
  ]) {
    const res = await couch(server.url, 'POST', '/_session', { body });
    t.equal(res.status, 401, JSON.stringify(body));
    t.same(res.body, { error: 'unauthorized', reason: 'Name or password is incorrect.' });
    t.notOk(sessionCookie(res.headers));
  }
  const broken = await couch(server.url, 'POST', '/_session', {
    body: '{"name":',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(broken.status, 400);
});

t.test('GET /_session: anonymous and Basic', async (t) => {
  const anon = await couch(server.url, 'GET', '/_session');
  t.equal(anon.status, 200);
  t.equal(anon.body.ok, true);
  t.same(anon.body.userCtx, { name: null, roles: [] });
  t.notOk(anon.body.info.authenticated);
  const basic = await couch(server.url, 'GET', '/_session', { auth: user.auth });
  t.equal(basic.body.userCtx.name, user.name);
  t.equal(basic.body.info.authenticated, 'default');
  const admin = await client(server, server.adminAuth)('GET', '/_session');
  t.ok(admin.body.userCtx.roles.includes('_admin'));
});

t.test('DELETE /_session clears the cookie', async (t) => {
  const login = await couch(server.url, 'POST', '/_session', {
    body: { name: user.name, password: user.password },
  });
  const cookie = sessionCookie(login.headers);
  const res = await couch(server.url, 'DELETE', '/_session', {
    headers: { cookie: `AuthSession=${cookie}` },
  });
  t.equal(res.status, 200);
  t.same(res.body, { ok: true });
  t.equal(sessionCookie(res.headers), '', 'Set-Cookie empties AuthSession');
});

t.test('a forged cookie is not a session', async (t) => {
  const login = await couch(server.url, 'POST', '/_session', {
    body: { name: user.name, password: user.password },
  });
  const cookie = sessionCookie(login.headers) as string;
  const raw = Buffer.from(cookie, 'base64url');
  raw[raw.length - 1] = raw[raw.length - 1]! ^ 0xff;
  const forged = raw.toString('base64url');
  const res = await couch(server.url, 'GET', '/_session', {
    headers: { cookie: `AuthSession=${forged}` },
  });
  t.not(res.body?.userCtx?.name, user.name, 'not logged in as the user');
  const dbRes = await couch(server.url, 'GET', `/${db}`, {
    headers: { cookie: `AuthSession=${forged}` },
  });
  t.ok(dbRes.status === 401 || dbRes.status === 400, `refused (${dbRes.status})`);
  const other = Buffer.from(
    `${user.name}:${Math.floor(Date.now() / 1000)
      .toString(16)
      .toUpperCase()}:forged`,
  ).toString('base64url');
  const res2 = await couch(server.url, 'GET', `/${db}`, {
    headers: { cookie: `AuthSession=${other}` },
  });
  t.ok(
    res2.status === 401 || res2.status === 400,
    `a made-up signature is refused (${res2.status})`,
  );
});
