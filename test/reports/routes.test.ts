import t from 'tap';
import { gunzipSync } from 'node:zlib';
import type { Accounts } from '../../server/accounts/service.js';
import { createUser } from '../../server/accounts/sessions.js';
import type { Role } from '../../server/accounts/types.js';
import { accountsService } from '../accounts/helper.js';
import { couch, testCouch } from '../helpers/store.js';
import { testFleet } from '../helpers/fleet.js';
import {
  farmer,
  makeWorld,
  paymentRequest,
  paymentStatus,
  teamDbName,
  user,
  userDbName,
  visit,
} from './world.js';

const store = await testCouch(t);
const svc = await accountsService(t, store);
const ctx = (svc.app.accounts as Accounts).ctx;
// The file's fleet: the service reports from its AGGREGATES_DB, the world's aggregator writes it.
const world = await makeWorld(t, store, testFleet());
const [ALICE, BOB, SAM, ADA, NORTH, SOUTH] = ['alice', 'bob', 'sam', 'ada', 'north', 'south'].map(
  (n) => world.name(n),
) as [string, string, string, string, string, string];
const PASSWORD = 'correct horse battery';

async function person(name: string, roles: Role[], teams: string[]) {
  await createUser(
    ctx,
    {
      name,
      password: PASSWORD,
      roles,
      teams: teams.map((team) => ({ team, mode: 'write' as const })),
    },
    { allowReserved: true },
  );
  const res = await couch(svc.url, 'POST', '/auth/login', {
    body: { username: name, password: PASSWORD },
  });
  if (res.status !== 200) throw new Error(`login ${name}: ${res.status}`);
  return { token: res.body.access_token as string, user: user(name, teams, roles) };
}

const alice = await person(ALICE, ['agent'], [NORTH]);
const bob = await person(BOB, ['agent'], [SOUTH]);
const sam = await person(SAM, ['supervisor'], [NORTH]);
const ada = await person(ADA, ['admin'], []);

const D1 = '2024-05-01';
const D2 = '2024-05-02';
await world.push(alice.user, userDbName(ALICE), [
  farmer('f1', ALICE, 'Mbeya'),
  visit('v1', ALICE, 'f1', D1, 'training'),
  visit('v2', ALICE, 'f1', D2, 'training'),
  paymentRequest('p1', ALICE, 'mpesa', 25000),
  paymentRequest('p2', ALICE, 'mpesa', 5000),
]);
await world.serverWrite(
  userDbName(ALICE),
  paymentStatus('p1', ALICE, 'mpesa', 'succeeded', '2024-05-01T12:00:00+03:00'),
);
await world.push(bob.user, userDbName(BOB), [
  farmer('fb', BOB, 'Arusha'),
  visit('vb', BOB, 'fb', D1, 'survey'),
  paymentRequest('pb', BOB, 'airtel', 7000),
]);
await world.push(sam.user, teamDbName(NORTH), [
  farmer('fn', SAM, 'Iringa'),
  visit('vn', SAM, 'fn', D1, 'follow-up'),
]);
await world.run();

const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  couch(svc.url, 'GET', path, { auth: token ? `Bearer ${token}` : undefined, headers });

t.test('a supervisor sees their teams only: team database and members', async (t) => {
  const res = await get('/reports/visits', sam.token);
  t.equal(res.status, 200);
  t.same(res.body, {
    report: 'visits',
    from: null,
    to: null,
    group_by: ['day', 'district', 'activity'],
    rows: [
      { day: D1, district: 'Iringa', activity: 'follow-up', count: 1 },
      { day: D1, district: 'Mbeya', activity: 'training', count: 1 },
      { day: D2, district: 'Mbeya', activity: 'training', count: 1 },
    ],
    total: { count: 3 },
  });
  const scoped = await get('/reports/visits?group_by=scope', sam.token);
  t.same(scoped.body.rows, [
    { scope: teamDbName(NORTH), count: 1 },
    { scope: userDbName(ALICE), count: 2 },
  ]);
  const other = await get(`/reports/visits?team=${SOUTH}`, sam.token);
  t.equal(other.status, 403, 'another team: refused');
  t.equal(other.body.code, 'SAWA_REPORT_TEAM_FORBIDDEN');
});

t.test('an admin sees everything, and may narrow to a team', async (t) => {
  const res = await get('/reports/farmers', ada.token);
  t.equal(res.status, 200);
  t.same(res.body.rows, [
    { district: 'Arusha', count: 1 },
    { district: 'Iringa', count: 1 },
    { district: 'Mbeya', count: 1 },
  ]);
  const south = await get(`/reports/farmers?team=${SOUTH}`, ada.token);
  t.same(south.body.rows, [{ district: 'Arusha', count: 1 }]);
  const pay = await get('/reports/payments', ada.token);
  t.same(pay.body.rows, [
    { provider: 'airtel', status: 'pending', count: 1, amount: 7000 },
    { provider: 'mpesa', status: 'pending', count: 1, amount: 5000 },
    { provider: 'mpesa', status: 'succeeded', count: 1, amount: 25000 },
  ]);
  t.same(pay.body.total, { count: 3, amount: 37000 });
  const filtered = await get('/reports/payments?provider=mpesa&group_by=status', ada.token);
  t.same(filtered.body.rows, [
    { status: 'pending', count: 1, amount: 5000 },
    { status: 'succeeded', count: 1, amount: 25000 },
  ]);
  const range = await get(`/reports/visits?from=${D2}&to=${D2}&group_by=day`, ada.token);
  t.same(range.body.rows, [{ day: D2, count: 1 }]);
});

t.test('agents and strangers are refused', async (t) => {
  const agent = await get('/reports/visits', alice.token);
  t.equal(agent.status, 403);
  t.equal(agent.body.code, 'SAWA_REPORTS_FORBIDDEN');
  t.equal((await get('/reports/payments', bob.token)).status, 403);
  t.equal((await get('/reports/visits')).status, 401);
  t.equal((await get('/reports/visits', 'not-a-token')).status, 401);
});

t.test('bad query input is a 400, never a 500', async (t) => {
  for (const q of [
    'from=2024-13-01',
    'from=2024-02-30',
    'from=yesterday',
    `from=${D2}&to=${D1}`,
    'group_by=bogus',
    'group_by=day,day',
    'group_by=',
    'group_by=provider',
    'activity=dancing',
    'unknown=1',
    'team=Not_A_Team',
    'district=' + 'x'.repeat(101),
  ]) {
    const res = await get(`/reports/visits?${q}`, ada.token);
    t.equal(res.status, 400, q);
    t.type(res.body.message, 'string');
  }
});

t.test('ETag and Cache-Control: a dashboard revalidates with 304', async (t) => {
  const first = await get('/reports/visits', sam.token);
  const etag = first.headers.get('etag');
  t.match(etag, /^W\/".+"$/);
  t.match(first.headers.get('cache-control'), /private, max-age=\d+, must-revalidate/);
  const again = await get('/reports/visits', sam.token, { 'if-none-match': etag! });
  t.equal(again.status, 304);
  t.equal(again.body, undefined, 'no body');
  t.equal(again.headers.get('etag'), etag);
  const list = await get('/reports/visits', sam.token, { 'if-none-match': `"other", ${etag}` });
  t.equal(list.status, 304, 'one of several tags');
  const stale = await get('/reports/visits', sam.token, { 'if-none-match': 'W/"old"' });
  t.equal(stale.status, 200);

  // New data: the tag changes, so the next revalidation downloads.
  await world.push(alice.user, userDbName(ALICE), [visit('v3', ALICE, 'f1', D2, 'survey')]);
  await world.run();
  const changed = await get('/reports/visits', sam.token, { 'if-none-match': etag! });
  t.equal(changed.status, 200);
  t.not(changed.headers.get('etag'), etag);
  t.equal(changed.body.total.count, 4);
  // Someone else's view of the same report has its own tag.
  const admin = await get('/reports/visits', ada.token, { 'if-none-match': etag! });
  t.equal(admin.status, 200);
});

t.test('compressed for clients that accept it', async (t) => {
  const days = Array.from({ length: 28 }, (_, i) => `2024-06-${String(i + 1).padStart(2, '0')}`);
  await world.push(
    alice.user,
    userDbName(ALICE),
    days.map((d, i) => visit(`june-${i}`, ALICE, 'f1', d, 'survey')),
  );
  await world.run();
  const url = `/reports/visits?group_by=day,scope,district,activity`;
  const plain = await svc.app.inject({ url, headers: { authorization: `Bearer ${ada.token}` } });
  const gz = await svc.app.inject({
    url,
    headers: { authorization: `Bearer ${ada.token}`, 'accept-encoding': 'gzip' },
  });
  t.equal(gz.statusCode, 200);
  t.equal(gz.headers['content-encoding'], 'gzip');
  t.ok(gz.rawPayload.length < plain.rawPayload.length / 2, 'much smaller on the wire');
  t.same(JSON.parse(gunzipSync(gz.rawPayload).toString()), JSON.parse(plain.payload));
  t.equal(gz.headers.etag, plain.headers.etag, 'one tag whatever the encoding (weak)');
  t.match(String(gz.headers.vary), /accept-encoding/i);
});

t.test('OpenAPI documents the routes with their schemas', async (t) => {
  const res = await get('/docs/json');
  t.equal(res.status, 200);
  for (const r of ['visits', 'farmers', 'payments']) {
    const op = res.body.paths[`/reports/${r}`]?.get;
    t.ok(op, r);
    t.ok(
      op.responses['200'].content['application/json'].schema.properties.rows,
      `${r} rows schema`,
    );
    t.ok(
      op.parameters.some((p: { name: string }) => p.name === 'group_by'),
      `${r} parameters`,
    );
    t.ok(op.responses['304'], `${r} 304 documented`);
  }
});
