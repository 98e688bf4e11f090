import { request } from 'node:http';
import t from 'tap';
import { userDbName } from '../../server/provisioning/names.js';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';

/** Sends a raw body (any bytes, any content type) and returns status and parsed JSON. */
async function raw(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, {
    method,
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

t.test('bad input on the auth routes: 4xx with a message that says what is wrong', async (t) => {
  const s = await setup(t);
  const dbsBefore: string[] = (await s.admin('GET', '/_all_dbs')).body;
  const huge = JSON.stringify({ username: 'amina', password: 'x'.repeat(10_000) });
  const cases: Array<[string, string | undefined, number, RegExp, Record<string, string>?]> = [
    ['{}', undefined, 400, /must have required property 'username'/],
    ['{"username":"amina"}', undefined, 400, /must have required property 'password'/],
    ['{"username":42,"password":"password123"}', undefined, 400, /username must be string/],
    ['{"username":"amina","password":["a"]}', undefined, 400, /password must be string/],
    ['{"username":null,"password":"password123"}', undefined, 400, /username must be string/],
    [
      '{"username":"amina","password":"password123","admin":true}',
      undefined,
      400,
      /must NOT have additional properties/,
    ],
    ['[]', undefined, 400, /body must be object/],
    ['null', undefined, 400, /body must be object|null/],
    ['"amina"', undefined, 400, /body must be object/],
    ['{"username": "amina", ', undefined, 400, /JSON/],
    ['', undefined, 400, /empty|body/i],
    [huge, undefined, 413, /too large/i],
    [
      '{"username":"","password":"password123"}',
      undefined,
      400,
      /must NOT have fewer than 1 characters/,
    ],
    [
      JSON.stringify({ username: 'a'.repeat(65), password: 'password123' }),
      undefined,
      400,
      /must NOT have more than 64 characters/,
    ],
    [
      '{"username":"Amina","password":"password123"}',
      undefined,
      400,
      /usernames are lower-case.*use "amina"/,
    ],
    [
      '{"username":"ａdmin","password":"password123"}',
      undefined,
      400,
      /"ａ" \(U\+FF41\) is not allowed/,
    ],
    ['{"username":"ami\\u0301na","password":"password123"}', undefined, 400, /U\+0301/],
    ['{"username":"ali\\u0000ce","password":"password123"}', undefined, 400, /U\+0000/],
    [
      '{"username":"a/b","password":"password123"}',
      undefined,
      400,
      /"\/" \(U\+002F\) is not allowed/,
    ],
    ['{"username":"..","password":"password123"}', undefined, 400, /must start with a letter/],
    ['{"username":"a..b","password":"password123"}', undefined, 400, /must not contain "\.\."/],
    ['{"username":"_admin","password":"password123"}', undefined, 400, /must start with a letter/],
    ['{"username":"+255","password":"password123"}', undefined, 400, /E\.164/],
    [
      'username=amina&password=x',
      undefined,
      415,
      /Unsupported Media Type|content-type/i,
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
  ];
  for (const route of ['/auth/signup', '/auth/login']) {
    for (const [body, , status, message, headers] of cases) {
      const res = await raw(s.svc.url, 'POST', route, body, headers);
      t.equal(res.status, status, `${route} ${body.slice(0, 60)}`);
      t.match(res.body.message, message, `${route} ${body.slice(0, 60)}: ${res.body.message}`);
      t.match(res.body, { statusCode: status, error: String }, 'Fastify-shaped');
    }
  }
  const short = await s.call('POST', '/auth/signup', { username: 'amina', password: 'short' });
  t.equal(short.status, 400);
  t.equal(short.body.message, 'password must be at least 8 characters');
  const reserved = await s.call('POST', '/auth/signup', {
    username: 'admin',
    password: 'password123',
  });
  t.equal(reserved.status, 400);
  t.match(reserved.body.message, /reserved/);
  const users = await s.admin(
    'GET',
    `/${s.svc.config.ACCOUNTS_DB}/_all_docs?startkey="user:"&endkey="user:\ufff0"`,
  );
  t.same(users.body.rows, [], 'nothing was stored');
  const dbs = await s.admin('GET', '/_all_dbs');
  const made = (dbs.body as string[]).filter(
    (d) => d.startsWith('userdb-') && !dbsBefore.includes(d),
  );
  // On a server other test files share, only the names sent here can be told apart.
  const sent = [userDbName('amina'), userDbName('admin')];
  t.same(s.store.shared ? made.filter((d) => sent.includes(d)) : made, [], 'no database was made');
});

t.test('bad input on refresh, logout and the admin routes', async (t) => {
  const s = await setup(t);
  const bossName = unique('boss');
  const boss = await s.user(bossName, ['admin']);
  const tok = boss.access_token;
  const bad: Array<[string, string, unknown, number, RegExp]> = [
    ['POST', '/auth/refresh', {}, 400, /required property 'refresh_token'/],
    ['POST', '/auth/refresh', { refresh_token: 7 }, 400, /must be string/],
    ['POST', '/auth/refresh', { refresh_token: 'x'.repeat(300) }, 400, /more than 256/],
    ['POST', '/auth/refresh', { refresh_token: 'garbage' }, 401, /invalid, expired or revoked/],
    [
      'POST',
      '/auth/refresh',
      { refresh_token: `${'A'.repeat(22)}.0.${'B'.repeat(43)}` },
      401,
      /invalid, expired or revoked/,
    ],
    ['POST', '/auth/logout', {}, 400, /required property 'refresh_token'/],
    ['POST', '/auth/logout', { refresh_token: 'garbage' }, 401, /refresh token is invalid/],
    ['POST', '/admin/users', { username: 'x' }, 400, /required property 'password'/],
    [
      'POST',
      '/admin/users',
      { username: 'juma', password: 'password123', roles: ['god'] },
      400,
      /must be equal to one of the allowed values/,
    ],
    [
      'POST',
      '/admin/users',
      { username: 'juma', password: 'password123', roles: [] },
      400,
      /fewer than 1 items/,
    ],
    [
      'POST',
      '/admin/users',
      { username: 'juma', password: 'password123', teams: [{ team: 'North Team' }] },
      400,
      /team "North Team" is not a valid team name/,
    ],
    ['POST', '/admin/users', { username: 'Juma', password: 'password123' }, 400, /lower-case/],
    ['GET', '/admin/users?inactive_days=abc', undefined, 400, /inactive_days must match pattern/],
    ['GET', '/admin/users?inactive_days=-1', undefined, 400, /inactive_days must match pattern/],
    [
      'GET',
      '/admin/users?limit=99999',
      undefined,
      400,
      /limit must NOT have more than 4 characters/,
    ],
    [
      'GET',
      '/admin/users?role=king',
      undefined,
      400,
      /role must be equal to one of the allowed values/,
    ],
    ['GET', '/admin/users?color=red', undefined, 400, /additional properties/],
    ['GET', '/admin/users/%EF%BD%81dmin', undefined, 400, /U\+FF41/],
    ['GET', '/admin/users/a%2Fb', undefined, 400, /U\+002F/],
    ['GET', '/admin/users/a%00b', undefined, 400, /U\+0000/],
    ['GET', '/admin/users/a..b', undefined, 400, /must not contain "\.\."/],
    ['GET', `/admin/users/B${bossName.slice(1)}`, undefined, 400, new RegExp(`use "${bossName}"`)],
    ['GET', '/admin/users/nobody', undefined, 404, /no user "nobody"/],
    ['POST', '/admin/users/nobody/disable', undefined, 404, /no user "nobody"/],
    ['PUT', `/admin/users/${bossName}/roles`, { roles: 'admin' }, 400, /roles must be array/],
    ['PUT', '/admin/users/nobody/roles', { roles: ['agent'] }, 404, /no user/],
    ['PUT', `/admin/users/${bossName}/teams/North`, {}, 400, /not a valid team name/],
    [
      'PUT',
      `/admin/users/${bossName}/teams/north`,
      { mode: 'admin' },
      400,
      /mode must be equal to one of the allowed values/,
    ],
    ['PUT', '/admin/users/nobody/teams/north', {}, 404, /no user/],
    ['DELETE', `/admin/users/${bossName}/teams/a..b`, undefined, 400, /not a valid team name/],
    [
      'DELETE',
      '/admin/users/nobody?keep_data=yes',
      undefined,
      400,
      /keep_data must be equal to one of the allowed values/,
    ],
    ['DELETE', '/admin/users/nobody', undefined, 404, /no user/],
    ['DELETE', `/admin/users/${bossName}`, undefined, 409, /cannot delete their own account/],
    [
      'POST',
      `/admin/users/${bossName}/disable`,
      undefined,
      409,
      /cannot disable their own account/,
    ],
    [
      'PUT',
      `/admin/users/${bossName}/roles`,
      { roles: ['agent'] },
      409,
      /cannot remove the admin role/,
    ],
  ];
  for (const [method, path, body, status, message] of bad) {
    const res = await s.call(method, path, body, tok);
    t.equal(res.status, status, `${method} ${path} ${JSON.stringify(body) ?? ''}`);
    t.match(res.body?.message, message, `${method} ${path}: ${res.body?.message}`);
  }
  // fetch (WHATWG URLs) would resolve a `..` segment away; a raw request sends it as is.
  const dotdot = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const { hostname, port } = new URL(s.svc.url);
    const opts = {
      hostname,
      port,
      path: '/admin/users/..',
      headers: { authorization: `Bearer ${tok}` },
    };
    const req = request(opts, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(dotdot.status, 400, 'GET /admin/users/..');
  t.match(dotdot.body.message, /must start with a letter/);
  const big = await raw(
    s.svc.url,
    'POST',
    '/admin/users',
    JSON.stringify({ username: 'x', password: 'y'.repeat(70_000) }),
    {
      authorization: `Bearer ${tok}`,
    },
  );
  t.equal(big.status, 413);
  t.equal(
    (await s.call('GET', '/me', undefined, tok)).body.roles[0],
    'admin',
    'the admin is unchanged',
  );
});
