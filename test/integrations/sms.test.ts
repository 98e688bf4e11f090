import t from 'tap';
import type Nano from 'nano';
import { gateway, Session } from '../gateway/helper.js';
import { adminNano, jobContext, afterDbUpdates } from '../jobs/helpers.js';
import { lift, restrict } from '../../server/restriction/restriction.js';
import { onProviderCall, type ProviderCall } from '../../server/metrics/provider-calls.js';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import { testFleet } from '../helpers/fleet.js';
import { runSms as runSmsNow } from '../../server/jobs/integrations/sms/index.js';
import { AT, BEEM, fakeSms, type SentSms } from './fakes/sms.js';
import { smsProvider } from '../../server/integrations/sms-provider.js';
import { EARLY_KEEP_MS, sweepEarlyReports } from '../../server/jobs/integrations/sms/early.js';
import { fleetDbs } from '../../server/provisioning/fleet-dbs.js';
import { createUser } from '../../server/accounts/sessions.js';
import { otpId, phoneQuery, PHONE_INDEX, sweepExpiredCodes } from '../../server/accounts/otp.js';
import { ensureMangoIndexes } from '../../server/couch/mango-index.js';
import type { Accounts } from '../../server/accounts/service.js';
import { phoneClient } from '../client/helper.js';

/** Runs see what phones just pushed: on CouchDB `_db_updates` lists a write late. */
const runSms = afterDbUpdates(runSmsNow);

/**
 * The SMS worker end to end: a real PouchDB phone writes an sms_request offline and syncs, the
 * worker sends it through a local Africa's Talking or Beem (fakes/sms.ts, their wire formats),
 * delivery reports come back through the service, and the phone syncs one final sms_status.
 */
const fake = await fakeSms(t);
const AT_SECRET = 'at-delivery-secret-0123';
const BEEM_SECRET = 'beem-delivery-secret-0123';
const ENV = {
  AFRICASTALKING_URL: `${fake.url}/version1/messaging`,
  AFRICASTALKING_USERNAME: AT.username,
  AFRICASTALKING_API_KEY: AT.apiKey,
  AFRICASTALKING_DLR_SECRET: AT_SECRET,
  BEEM_URL: `${fake.url}/v1/send`,
  BEEM_API_KEY: BEEM.apiKey,
  BEEM_SECRET_KEY: BEEM.secretKey,
  BEEM_SOURCE_ADDR: BEEM.sourceAddr,
  BEEM_DLR_SECRET: BEEM_SECRET,
  PROVIDER_TIMEOUT_MS: '1000',
  SMS_RETRY_BASE_SEC: '10',
  // Africa's Talking processes in Kenya (server/transfers.ts).
  PERSONAL_DATA_ABROAD_ALLOWED: 'africastalking',
  PRIVACY_DB: unique('sawa-privacy'),
};
// The service sends sign-in codes through Africa's Talking; the job's runs choose per run.
const gw = await gateway(t, {
  env: { ...ENV, SMS_PROVIDER: 'africastalking', OTP_PER_ADDRESS_PER_HOUR: '30' },
});
let clock = Date.parse('2026-03-02T08:00:00Z');
const now = () => new Date(clock);
const advance = (sec: number) => void (clock += sec * 1000);

const run = (provider: 'africastalking' | 'beem' | null) =>
  runSms(jobContext(gw.store, { env: { ...ENV, ...(provider && { SMS_PROVIDER: provider }) } }), {
    now,
    random: () => 0.5,
  });

let n = 0;
const number = () =>
  `+2557${String(Date.now() % 1e5).padStart(5, '0')}${String(++n).padStart(3, '0')}`;

/** An agent's phone writes an SMS request offline, then syncs it. */
async function agentTexts(to = number()) {
  const auth = await gw.signup(testFleet().user('agent'));
  const local = phone();
  const remote = new Session(gw.url, auth).db(auth.dbs.user);
  const request = {
    _id: `sms_request-${unique('s')}`,
    type: 'sms_request',
    owner: auth.user.name,
    created_at: '2026-03-02T10:00:00+03:00',
    updated_at: '2026-03-02T10:00:00+03:00',
    to,
    text: `Malipo yako ya mahindi yamefika ${n}`,
  };
  await local.put(request);
  const pushed = await local.replicate.to(remote);
  if (pushed.docs_written !== 1) throw new Error(`push: ${JSON.stringify(pushed)}`);
  const status = async () => {
    await local.replicate.from(remote);
    return local.get(`sms_status-${request._id}`).catch(() => null) as Promise<
      (Record<string, unknown> & { status: string; _id: string }) | null
    >;
  };
  return { auth, local, remote, request, to, status };
}

const sentTo = (to: string, provider: SentSms['provider']) =>
  fake.sent.filter((s) => s.provider === provider && (s.to === to || `+${s.to}` === to));

const atReport = (form: Record<string, string>, secret = AT_SECRET) =>
  fetch(`${gw.url}/integrations/africastalking/delivery/${secret}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
const beemReport = (body: unknown, secret = BEEM_SECRET) =>
  couch(gw.url, 'POST', `/integrations/beem/delivery/${secret}`, { body });

t.test(
  "Africa's Talking: sent once, the delivery report twice, one delivered status",
  async (t) => {
    fake.setMode('accept');
    const a = await agentTexts();
    const calls: ProviderCall[] = [];
    t.teardown(onProviderCall((c) => calls.push(c)));
    await run('africastalking');
    await run('africastalking');
    const [sms, ...more] = sentTo(a.to, 'africastalking');
    t.equal(more.length, 0, 'one send, re-runs send nothing');
    t.same(
      calls.filter((c) => c.kind === 'sms'),
      [{ provider: 'africastalking', kind: 'sms', outcome: 'accepted' }],
      'the send is counted for /metrics',
    );
    t.equal(sms?.text, a.request.text);
    const call = fake.calls.find((c) => c.body.to === a.to);
    t.match(call, { contentType: 'form', body: { username: AT.username, to: a.to } });
    t.match(await a.status(), {
      status: 'sent',
      provider: 'africastalking',
      provider_reference: sms!.reference,
      attempts: 1,
    });

    const first = await atReport(fake.atReport(sms!, 'Success'));
    const second = await atReport(fake.atReport(sms!, 'Success'));
    const late = await atReport(fake.atReport(sms!, 'Buffered'));
    t.match(first.body, { received: true, result: 'recorded' });
    t.match(second.body, { received: true, result: 'duplicate' });
    t.match(
      late.body,
      { result: 'pending' },
      'an intermediate report arriving late changes nothing',
    );
    advance(60);
    await run('africastalking');
    t.equal(sentTo(a.to, 'africastalking').length, 1, 'still one send');
    const status = await a.status();
    t.match(status, { status: 'delivered', provider_reference: sms!.reference });
    t.notOk(status?.flagged);
    t.notOk((await a.local.get(status!._id, { conflicts: true }))._conflicts, 'one branch');
  },
);

t.test('a restricted person: the SMS is held, nothing sent, and sent once lifted', async (t) => {
  fake.setMode('accept');
  const a = await agentTexts();
  const nano = adminNano(gw.store);
  const who = a.auth.user.name;
  await restrict(nano, ENV.PRIVACY_DB, { subject: who, reason: 'a dispute', by: 'boss' });
  t.match(await run('beem'), { held: 1 });
  t.equal(sentTo(a.to, 'beem').length, 0, 'nothing sent while restricted');
  const held = await a.status();
  t.match(held, { status: 'queued', message: /^held: .*restricted/ });
  await run('beem');
  t.equal((await a.status())?._rev, held?._rev, 'held once: no write on every run');
  t.equal(await lift(nano, ENV.PRIVACY_DB, who), true);
  await run('beem');
  t.equal(sentTo(a.to, 'beem').length, 1, 'sent once the restriction is lifted');
  t.match(await a.status(), { status: 'sent', provider: 'beem' });
});

t.test('forged delivery reports change nothing', async (t) => {
  fake.setMode('accept');
  const a = await agentTexts();
  await run('africastalking');
  const sms = sentTo(a.to, 'africastalking')[0]!;
  const before = await a.status();
  const wrong = await atReport(
    fake.atReport(sms, 'Failed', 'UserInBlackList'),
    'not-the-secret-at-all',
  );
  t.equal(wrong.status, 404, 'wrong secret: no such route');
  t.match(wrong.body, { code: 'SAWA_CALLBACK_UNKNOWN' });
  const unknown = await atReport({ ...fake.atReport(sms, 'Failed'), id: 'ATXid_made_up' });
  t.match(unknown.body, { result: 'early' }, 'kept in case its send is still being answered');
  const other = await atReport({ ...fake.atReport(sms, 'Failed'), phoneNumber: '+255700000001' });
  t.match(other.body, { result: 'mismatch' }, 'a report for another number');
  const beemForAt = await beemReport({
    request_id: sms.reference,
    dest_addr: sms.to.slice(1),
    status: 'UNDELIVERED',
  });
  t.match(beemForAt.body, { result: 'early' }, "one provider cannot settle another's SMS");
  const after = await a.status();
  t.equal(after?._rev, before?._rev, 'the status document was not written');
  t.equal(after?.status, 'sent');
});

t.test("a delivery report that outruns the send's answer is kept and applied", async (t) => {
  fake.setMode('accept');
  const a = await agentTexts();
  const ctx = jobContext(gw.store, { env: { ...ENV, SMS_PROVIDER: 'africastalking' } });
  const real = smsProvider(ctx.config)!;
  const early: Array<Record<string, unknown>> = [];
  await runSms(ctx, {
    now,
    random: () => 0.5,
    provider: () => ({
      ...real,
      async submit(order) {
        const answer = await real.submit(order);
        // The handset reports delivery before this answer is back with the worker.
        const sms = sentTo(order.to, 'africastalking')[0];
        if (sms) early.push((await atReport(fake.atReport(sms, 'Success'))).body);
        return answer;
      },
    }),
  });
  t.match(early, [{ result: 'early' }], 'kept, not lost');
  const status = await a.status();
  t.match(status, {
    status: 'delivered',
    provider_reference: sentTo(a.to, 'africastalking')[0]!.reference,
  });
  t.equal(sentTo(a.to, 'africastalking').length, 1);

  // A kept report whose send never comes goes after a day.
  const stray = await atReport({
    ...fake.atReport(sentTo(a.to, 'africastalking')[0]!, 'Failed'),
    id: 'ATXid_stray',
  });
  t.match(stray.body, { result: 'early' });
  const jobs = adminNano(gw.store).use(fleetDbs(ctx.config).jobs);
  const later = new Date(Date.now() + EARLY_KEEP_MS + 60_000);
  t.ok((await sweepEarlyReports(jobs, later)) >= 1, 'the stray report is dropped');
  t.equal(await sweepEarlyReports(jobs, later), 0, 'once');
});

t.test('no SMS provider configured: the request waits and says so; then it is sent', async (t) => {
  fake.setMode('accept');
  const a = await agentTexts();
  await run(null);
  const waiting = await a.status();
  t.match(waiting, { status: 'queued', message: /no SMS provider/ });
  t.notOk(waiting?.provider);
  await run('beem');
  t.equal(sentTo(a.to, 'beem').length, 1);
  t.match(await a.status(), { status: 'sent', provider: 'beem' });
});

t.test('Beem: JSON send with Basic auth, delivery report twice, failures', async (t) => {
  fake.setMode('accept');
  const a = await agentTexts();
  await run('beem');
  const [sms, ...more] = sentTo(a.to, 'beem');
  t.equal(more.length, 0, 'one send');
  const call = fake.calls.find((c) => c.path === '/v1/send' && c.body.message === a.request.text);
  t.match(call?.body, {
    source_addr: BEEM.sourceAddr,
    encoding: 0,
    recipients: [{ dest_addr: a.to.slice(1) }],
  });
  const first = await beemReport(fake.beemReport(sms!, 'DELIVERED'));
  const second = await beemReport(fake.beemReport(sms!, 'DELIVERED'));
  t.match(first.body, { result: 'recorded' });
  t.match(second.body, { result: 'duplicate' });
  const contrary = await beemReport(fake.beemReport(sms!, 'UNDELIVERED'));
  t.match(contrary.body, { result: 'recorded' }, 'a contrary report is kept, for a person');
  t.match(await a.status(), { status: 'delivered', flagged: true });

  fake.setMode('invalid-number');
  const b = await agentTexts();
  await run('beem');
  t.match(await b.status(), { status: 'failed', message: /invalid number/ });

  fake.setMode('busy');
  const c = await agentTexts();
  await run('beem');
  t.match(await c.status(), { status: 'queued', message: /retrying/ });
  fake.setMode('accept');
  advance(60);
  await run('beem');
  t.equal(sentTo(c.to, 'beem').length, 1, 'sent once the provider answers again');
  t.match(await c.status(), { status: 'sent', attempts: 2 });
});

t.test(
  "Africa's Talking failures: per-recipient codes, an answer lost after sending",
  async (t) => {
    fake.setMode('invalid-number');
    const a = await agentTexts();
    await run('africastalking');
    t.match(await a.status(), { status: 'failed', message: 'InvalidPhoneNumber (403)' });

    fake.setMode('hang-after-accept');
    const b = await agentTexts();
    await run('africastalking');
    fake.release();
    fake.setMode('accept');
    advance(3600);
    await run('africastalking');
    t.equal(sentTo(b.to, 'africastalking').length, 1, 'never sent again');
    t.match(await b.status(), { status: 'sent', attempts: 1 });

    const undelivered = await agentTexts();
    await run('africastalking');
    const sms = sentTo(undelivered.to, 'africastalking')[0]!;
    await atReport(fake.atReport(sms, 'Failed', 'AbsentSubscriber'));
    t.match(await undelivered.status(), { status: 'failed', message: 'Failed: AbsentSubscriber' });
  },
);

// ---- Sign-in by SMS ----

const accounts = gw.svc.app.accounts as Accounts;
const otpDoc = (phone: string) =>
  accounts.ctx.nano
    .use(accounts.ctx.config.ACCOUNTS_DB)
    .get(otpId(phone))
    .catch(() => null) as Promise<Record<string, unknown> | null>;
const ask = (phone: string) => gw.call('POST', '/auth/otp/request', { body: { phone } });
const verify = (phone: string, code: string) =>
  gw.call('POST', '/auth/otp/verify', { body: { phone, code } });

/** The code of the newest SMS to `phone` (sent after the answer: waits for it). */
async function codeSentTo(phone: string, after: number) {
  for (let i = 0; i < 100; i++) {
    const sms = sentTo(phone, 'africastalking').slice(after);
    const code = /\b(\d{6})\b/.exec(sms.at(-1)?.text ?? '')?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no code sent to ${phone}`);
}

/** An agent whose user name is their number. */
async function agentWithPhone() {
  const phone = number();
  await gw.signup(phone);
  return phone;
}

t.test('sign-in by SMS: a code, the login answer, used once; the client library', async (t) => {
  fake.setMode('accept');
  const phone = await agentWithPhone();
  const before = sentTo(phone, 'africastalking').length;
  const local = `0${phone.slice(4)}`; // as typed in Tanzania
  const asked = await ask(local);
  t.equal(asked.status, 202);
  t.same(asked.body, { ok: true, expires_in: 300 });
  const code = await codeSentTo(phone, before);
  const stored = await otpDoc(phone);
  t.ok(stored, 'the code is stored');
  t.notMatch(JSON.stringify(stored), code, 'hashed, not in clear');
  t.notMatch(String(stored?._id), phone.slice(1), 'its id does not show the number');
  const wrong = code === '000000' ? '111111' : '000000';
  const bad = await verify(phone, wrong);
  t.equal(bad.status, 401);
  t.match(bad.body, { code: 'SAWA_CODE_INVALID' });
  const ok = await verify(local, code);
  t.equal(ok.status, 200);
  t.match(ok.body, { access_token: String, refresh_token: String, user: { name: phone } });
  t.ok(ok.body.dbs.user, 'the databases to sync, as /auth/login answers');
  const again = await verify(phone, code);
  t.equal(again.status, 401, 'a code is used once');

  // A number on the record (not the user name), through the client library.
  const other = number();
  await createUser(accounts.ctx, {
    name: unique('agent'),
    password: 'habari-za-asubuhi',
    roles: ['agent'],
    teams: [],
    phone: other,
  });
  const { client } = phoneClient(gw.url);
  const n0 = sentTo(other, 'africastalking').length;
  t.same(await client.requestCode(other), { expires_in: 300 });
  const user = await client.verifyCode(other, await codeSentTo(other, n0));
  t.match(user, { name: /^agent/ });
  t.equal(client.user?.name, user.name, 'signed in');
});

t.test('sign-in by SMS: expiry, five attempts, an unknown number answers alike', async (t) => {
  fake.setMode('accept');
  const phone = await agentWithPhone();
  let n0 = sentTo(phone, 'africastalking').length;
  await ask(phone);
  let code = await codeSentTo(phone, n0);
  // Five minutes pass: the stored code's time is up.
  const db = accounts.ctx.nano.use(accounts.ctx.config.ACCOUNTS_DB);
  const doc = (await db.get(otpId(phone))) as unknown as Record<string, unknown>;
  await db.insert({
    ...doc,
    expires_at: new Date(Date.now() - 1000).toISOString(),
  } as unknown as Nano.MaybeDocument);
  await sweepExpiredCodes(accounts.ctx);
  t.notOk(await otpDoc(phone), 'the expired code is swept away');
  t.equal((await verify(phone, code)).status, 401, 'expired');
  const explained = (await accounts.ctx.nano.request({
    db: accounts.ctx.config.ACCOUNTS_DB,
    method: 'POST',
    path: '_explain',
    body: phoneQuery(phone),
  })) as { index: { name: string } };
  t.equal(explained.index.name, PHONE_INDEX, 'the number is looked up by index');

  n0 = sentTo(phone, 'africastalking').length;
  await ask(phone);
  code = await codeSentTo(phone, n0);
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) t.equal((await verify(phone, wrong)).status, 401);
  t.equal((await verify(phone, code)).status, 401, 'the right code after five wrong ones fails');

  const unknown = number();
  const a = await ask(unknown);
  const b = await ask(phone);
  t.same([a.status, a.body], [b.status, b.body], 'the same answer for an unknown number');
  t.notOk(await otpDoc(unknown), 'nothing stored for it');
  t.equal((await verify(unknown, '123456')).status, 401);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(sentTo(unknown, 'africastalking').length, 0, 'and nothing sent');

  // Similar timing: the answer does not wait for the code to be made or sent. With the
  // provider hanging (a send would take PROVIDER_TIMEOUT_MS, 1 s), a known number still
  // answers at once, as an unknown one does.
  const known = await agentWithPhone();
  fake.setMode('hang-after-accept');
  const start = performance.now();
  t.equal((await ask(known)).status, 202);
  const took = performance.now() - start;
  fake.release();
  fake.setMode('accept');
  t.ok(took < 700, `a known number answered in ${took.toFixed(0)} ms with the provider hanging`);
});

t.test('sign-in by SMS: limits per number and per address', async (t) => {
  fake.setMode('accept');
  const phone = await agentWithPhone();
  const stranger = number();
  for (let i = 0; i < 5; i++) {
    t.equal((await ask(phone)).status, 202);
    t.equal((await ask(stranger)).status, 202);
  }
  const known = await ask(phone);
  const unknown = await ask(stranger);
  t.equal(known.status, 429, 'the sixth code for a number in an hour');
  t.match(known.body, { code: 'SAWA_RATE_LIMITED' });
  t.same(
    [unknown.status, unknown.body.code],
    [known.status, known.body.code],
    'alike for an unknown one',
  );
  t.ok(Number(known.headers.get('retry-after')) > 0);
  // Fresh numbers from this one address: refused within the address's 30 an hour.
  let refused = 0;
  for (let i = 0; i < 30 && !refused; i++)
    if ((await ask(number())).status === 429) refused = i + 1;
  t.ok(refused > 0, `the address is limited too (after ${refused} more)`);
  t.equal((await ask('12345')).status, 400, 'not a number');
});

t.test(
  'indexes of one design document made at once (two instances starting): all made',
  async (t) => {
    const nano = adminNano(gw.store);
    const name = unique('sawa-indexes');
    await nano.db.create(name);
    t.teardown(() => nano.db.destroy(name).catch(() => undefined));
    const db = nano.use(name);
    const wanted = ['phone', 'expires_at', 'kind', 'state'].map((field) => ({
      index: { fields: [field] },
      ddoc: 'shared',
      name: `by-${field}`,
    }));
    // CouchDB 3.5 keeps them in one design document: creations at once meet in a conflict.
    await Promise.all([
      ensureMangoIndexes(db, wanted),
      ensureMangoIndexes(db, [...wanted].reverse()),
    ]);
    const listed = (await nano.request({ db: name, path: '_index' })) as {
      indexes: Array<{ ddoc: string | null; name: string }>;
    };
    t.same(
      listed.indexes
        .filter((i) => i.ddoc === '_design/shared')
        .map((i) => i.name)
        .sort(),
      wanted.map((w) => w.name).sort(),
    );
  },
);
