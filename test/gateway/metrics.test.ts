import t from 'tap';
import http from 'node:http';
import { phone } from '../helpers/phones.js';
import { testCouch } from '../helpers/store.js';
import { farmer, gateway, Session } from './helper.js';
import { raw } from './raw.js';
import { unique } from '../helpers/fixtures.js';
import { jobContext, afterDbUpdates } from '../jobs/helpers.js';
import { testFleet } from '../helpers/fleet.js';
import { runPayments as runPaymentsNow } from '../../server/jobs/integrations/payments/index.js';
import { holdConflict } from '../../server/conflicts/held.js';

/** Runs see what phones just pushed: on CouchDB `_db_updates` lists a write late. */
const runPayments = afterDbUpdates(runPaymentsNow);

// Its users, named apart from every other file's (user databases are server-wide).
const U = {
  metered: unique('metered'),
  seriesA: unique('series-a'),
  seriesB: unique('series-b'),
  synced: unique('synced'),
  busy: unique('busy'),
  calm: unique('calm'),
};

// Metering, /metrics, "last synced" and the per-user rate limit, through the real service.

const TOKEN = 'metrics-token-for-the-ops-network';
const store = await testCouch(t);

/** One request on its own connection; the client's socket counters are the truth. */
function measured(base: string, path: string, headers: Record<string, string>) {
  const url = new URL(base);
  return new Promise<{ status: number; sent: number; received: number }>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => {
          const socket = req.socket as import('node:net').Socket;
          socket.once('close', () =>
            resolve({
              status: res.statusCode ?? 0,
              sent: socket.bytesWritten,
              received: socket.bytesRead,
            }),
          );
          socket.destroy();
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const parts = (m[2] ?? '').split(',');
    if (want.every((w) => parts.includes(w))) return Number(m[3]);
  }
  return undefined;
}

t.test('/metrics is off without METRICS_TOKEN', async (t) => {
  const gw = await gateway(t, { store });
  t.equal((await raw(gw.url, 'GET', '/metrics')).status, 404);
});

t.test(
  'metrics: protected, per route and status, bytes per user and device as on the wire',
  async (t) => {
    const gw = await gateway(t, { store, env: { METRICS_TOKEN: TOKEN } });
    const metrics = async () =>
      (await raw(gw.url, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` })).body.toString();
    t.equal((await raw(gw.url, 'GET', '/metrics')).status, 401, 'no token');
    t.equal(
      (await raw(gw.url, 'GET', '/metrics', { authorization: 'Bearer wrong-token-wrong-token' }))
        .status,
      401,
      'wrong token',
    );
    const amina = await gw.signup(U.metered);
    const db = amina.dbs.user;
    const H = { authorization: `Bearer ${amina.access_token}`, 'accept-encoding': 'gzip' };

    const pull = await measured(gw.url, `/sync/${db}/_changes?since=0`, {
      ...H,
      'x-sawa-device': 'tecno-a1',
    });
    t.equal(pull.status, 200);
    await measured(gw.url, `/sync/${db}/_all_docs`, { ...H, 'x-sawa-device': 'bad device!' });

    const res = await raw(gw.url, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` });
    t.equal(res.status, 200);
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const text = await metrics();
    const who = { user: U.metered, device: 'tecno-a1' };
    t.equal(
      sample(text, 'sawa_wire_bytes_total', { direction: 'in', ...who }),
      pull.sent,
      'bytes in = what the phone sent',
    );
    t.equal(
      sample(text, 'sawa_wire_bytes_total', { direction: 'out', ...who }),
      pull.received,
      'bytes out = what the phone received',
    );
    t.ok(
      sample(text, 'sawa_wire_bytes_total', {
        direction: 'out',
        user: U.metered,
        device: 'unknown',
      }),
      'odd device → unknown',
    );
    t.ok(
      sample(text, 'sawa_wire_bytes_total', {
        direction: 'in',
        user: '_anonymous',
        device: 'unknown',
      }),
      'signup traffic is anonymous',
    );
    t.equal(
      sample(text, 'sawa_http_requests_total', {
        route: '/sync/{db}/_changes',
        method: 'GET',
        status: '200',
      }),
      1,
    );
    t.equal(
      sample(text, 'sawa_http_requests_total', {
        route: '/auth/signup',
        method: 'POST',
        status: '201',
      }),
      1,
    );
    const allDocs = { route: '/sync/{db}/_all_docs', method: 'GET', status: '200' };
    t.equal(sample(text, 'sawa_http_request_duration_seconds_count', allDocs), 1, 'one latency');
    t.equal(
      sample(text, 'sawa_http_request_duration_seconds_bucket', { ...allDocs, le: '+Inf' }),
      1,
      'in the +Inf bucket',
    );
    t.ok(
      (sample(text, 'sawa_http_request_duration_seconds_sum', allDocs) ?? 0) > 0,
      'its time is summed',
    );
    t.match(text, /^process_cpu_user_seconds_total \d/m, 'default process metrics');
    t.notMatch(text, new RegExp(db), 'no database names (or document ids) in labels');

    // Refusals by the rules are counted.
    const session = new Session(gw.url, amina);
    const p = phone();
    await p.bulkDocs([farmer(U.metered, 'ok-1'), farmer(U.metered, 'bad-1', { phone: '07' })]);
    await p.replicate.to(session.db(db));
    t.equal(sample(await metrics(), 'sawa_sync_write_rejections_total', { db_kind: 'private' }), 1);
  },
);

t.test('METRICS_USER_SERIES bounds the (user, device) series', async (t) => {
  const gw = await gateway(t, { store, env: { METRICS_TOKEN: TOKEN, METRICS_USER_SERIES: '1' } });
  const a = await gw.signup(U.seriesA);
  const b = await gw.signup(U.seriesB);
  await raw(gw.url, 'GET', `/sync/${a.dbs.user}/`, {
    authorization: `Bearer ${a.access_token}`,
    'x-sawa-device': 'p1',
  });
  await raw(gw.url, 'GET', `/sync/${b.dbs.user}/`, {
    authorization: `Bearer ${b.access_token}`,
    'x-sawa-device': 'p2',
  });
  const text = (
    await raw(gw.url, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` })
  ).body.toString();
  t.notMatch(
    text,
    new RegExp(`user="${U.seriesB}"`),
    'the pair over budget has no series of its own',
  );
  t.ok(
    sample(text, 'sawa_wire_bytes_total', { direction: 'out', user: '_other', device: '_other' }),
    'it is counted under _other',
  );
});

t.test('a pull and a push are recorded for the "last synced" list', async (t) => {
  const gw = await gateway(t, { store });
  const auth = await gw.signup(U.synced);
  const me = async () =>
    (await gw.call('GET', '/me', { auth: `Bearer ${auth.access_token}` })).body;
  t.match(await me(), { last_pull_at: null, last_push_at: null });
  const session = new Session(gw.url, auth);
  const p = phone();
  await p.replicate.from(session.db(auth.dbs.user));
  await p.put(farmer(U.synced, 'farmer-1'));
  await p.replicate.to(session.db(auth.dbs.user));
  await gw.svc.app.accounts.flushSyncTimes();
  const after = await me();
  t.ok(after.last_pull_at, 'pull recorded');
  t.ok(after.last_push_at, 'push recorded');
});

t.test('per-user rate limit: 429, CouchDB-shaped, Retry-After; others unaffected', async (t) => {
  const gw = await gateway(t, { store, env: { SYNC_RATE_LIMIT_PER_MIN: '5' } });
  const a = await gw.signup(U.busy);
  const b = await gw.signup(U.calm);
  const H = { authorization: `Bearer ${a.access_token}` };
  for (let i = 0; i < 5; i++) {
    const ok = await raw(gw.url, 'GET', `/sync/${a.dbs.user}/`, H);
    t.equal(ok.status, 200);
    t.notOk(ok.headers['x-ratelimit-remaining'], 'no rate-limit headers on ordinary answers');
  }
  const limited = await raw(gw.url, 'GET', `/sync/${a.dbs.user}/`, H);
  t.equal(limited.status, 429);
  t.equal(limited.json.error, 'too_many_requests');
  t.match(limited.json.reason, /limited to 5 requests a minute/);
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After');
  const other = await raw(gw.url, 'GET', `/sync/${b.dbs.user}/`, {
    authorization: `Bearer ${b.access_token}`,
  });
  t.equal(other.status, 200, 'another user is not limited');
});

t.test('job lag, conflicts held and provider call outcomes, after real runs', async (t) => {
  const gw = await gateway(t, { store, env: { METRICS_TOKEN: TOKEN } });
  const metrics = async () =>
    (await raw(gw.url, 'GET', '/metrics', { authorization: `Bearer ${TOKEN}` })).body.toString();
  const app = gw.svc.app;
  const before = await metrics();
  t.notMatch(before, /^sawa_job_lag_seconds\{job="reconcile"\}/m, 'no lag before a good run');
  t.equal(sample(before, 'sawa_conflicts_held', {}), 0, 'nothing held');

  // A run of the reconciler through the scheduler leaves its record in the lease; it finds
  // one farmer edited on two phones.
  const editor = await gw.signup(testFleet().user('editor'));
  const base = { type: 'farmer', owner: editor.user.name, created_at: '2026-03-01T08:00:00Z' };
  const branch = (rev: string, village: string) => ({
    ...base,
    _id: 'farmer-twice',
    _rev: rev,
    updated_at: `2026-03-0${rev[2] === 'a' ? 2 : 3}T08:00:00Z`,
    name: 'Asha',
    village,
    district: 'Mbeya',
  });
  const twice = await raw(
    gw.store.url,
    'POST',
    `/${editor.dbs.user}/_bulk_docs`,
    {
      authorization: gw.store.adminAuth,
      'content-type': 'application/json',
    },
    JSON.stringify({
      docs: [branch('1-aa', 'Isyesye'), branch('1-bb', 'Iyunga')],
      new_edits: false,
    }),
  );
  t.equal(twice.status, 201, 'two branches stored');
  t.match(await app.jobs.run('reconcile'), { ran: true, ok: true });
  const { jobs } = testFleet().dbs;
  await holdConflict(app.couch.nano, jobs, {
    db: testFleet().userDb(testFleet().user()),
    doc_id: unique('visit'),
    doc_type: 'visit',
    strategy: 'manual',
    reason: 'manual type',
    leaves: ['1-a', '1-b'],
    rule_hash: null,
  });

  // A payment request synced from a phone, paid through a provider double: one accepted
  // submit, then a status query the double cannot answer (it throws).
  const auth = await gw.signup(testFleet().user('payer'));
  const p = phone();
  await p.put({
    _id: `payment_request-${unique('p')}`,
    type: 'payment_request',
    owner: auth.user.name,
    created_at: '2026-03-02T10:00:00+03:00',
    updated_at: '2026-03-02T10:00:00+03:00',
    farmer_id: 'farmer-1',
    msisdn: '+255712345678',
    amount: 1000,
    provider: 'mpesa',
    reason: 'seed',
  });
  await p.replicate.to(new Session(gw.url, auth).db(auth.dbs.user));
  let clock = Date.parse('2026-03-02T08:00:00Z');
  const provider = {
    name: 'double',
    submit: async () => ({ kind: 'accepted' as const, reference: 'R-1' }),
    query: async (): Promise<never> => {
      throw new Error('connection reset');
    },
  };
  const pay = () =>
    runPayments(jobContext(store, { env: { PAYMENTS_RETRY_BASE_SEC: '10' } }), {
      provider: () => provider,
      now: () => new Date(clock),
      random: () => 0.5,
    });
  await pay();
  clock += 60_000;
  await pay().catch(() => undefined);

  const text = await metrics();
  const lag = sample(text, 'sawa_job_lag_seconds', { job: 'reconcile' });
  t.ok(lag !== undefined && lag >= 0 && lag < 60, `reconcile lag ${lag} s`);
  t.equal(sample(text, 'sawa_conflicts_held', {}), 1, 'one conflict held');
  const found = ['resolved', 'held', 'superseded'].map((outcome) =>
    sample(text, 'sawa_conflicts_found_last_run', { outcome }),
  );
  t.same(found, [1, 0, 0], 'the run found one conflict and resolved it');
  const calls = (kind: string, outcome: string) =>
    sample(text, 'sawa_provider_calls_total', { provider: 'double', kind, outcome });
  t.equal(calls('payment', 'accepted'), 1, 'one accepted payment call');
  t.equal(calls('payment_status', 'error'), 1, 'one status query that threw');
  t.notMatch(text, /255712345678/, 'no phone number in the labels');

  // The same, as JSON for the operator's page; admins only.
  const refused = await gw.call('GET', '/admin/operations', {
    auth: `Bearer ${auth.access_token}`,
  });
  t.equal(refused.status, 403, 'an agent is refused');
  const boss = await gw.member(unique('boss'), ['admin'], []);
  const ops = await gw.call('GET', '/admin/operations', { auth: `Bearer ${boss.access_token}` });
  t.equal(ops.status, 200);
  const reconcile = ops.body.jobs.find((j: { job: string }) => j.job === 'reconcile');
  t.match(reconcile, { last_run_ok: true, last_error: null, failures_here: 0 });
  t.ok(reconcile.lag_seconds >= 0 && reconcile.lag_seconds < 60, 'its lag');
  t.match(
    ops.body.jobs.find((j: { job: string }) => j.job === 'retention'),
    {
      last_run_at: null,
      lag_seconds: null,
    },
  );
  t.equal(ops.body.payments.by_state.submitted.count, 1, 'the payment waits for its status');
  t.equal(ops.body.payments.by_state.submitted.amount, 1000);
  t.same(
    ops.body.provider_calls.filter((c: { provider: string }) => c.provider === 'double'),
    [
      { provider: 'double', kind: 'payment', outcome: 'accepted', count: 1 },
      { provider: 'double', kind: 'payment_status', outcome: 'error', count: 1 },
    ],
  );
});
