import t from 'tap';
import { gateway, Session } from '../gateway/helper.js';
import { jobContext } from '../jobs/helpers.js';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import { testFleet } from '../helpers/fleet.js';
import { runSms } from '../../server/jobs/integrations/sms/index.js';
import { AT, BEEM, fakeSms, type SentSms } from './fakes/sms.js';

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
};
const gw = await gateway(t, { env: ENV });
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
    await run('africastalking');
    await run('africastalking');
    const [sms, ...more] = sentTo(a.to, 'africastalking');
    t.equal(more.length, 0, 'one send, re-runs send nothing');
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
  t.match(unknown.body, { result: 'unknown-reference' });
  const other = await atReport({ ...fake.atReport(sms, 'Failed'), phoneNumber: '+255700000001' });
  t.match(other.body, { result: 'mismatch' }, 'a report for another number');
  const beemForAt = await beemReport({
    request_id: sms.reference,
    dest_addr: sms.to.slice(1),
    status: 'UNDELIVERED',
  });
  t.match(
    beemForAt.body,
    { result: 'unknown-reference' },
    "one provider cannot settle another's SMS",
  );
  const after = await a.status();
  t.equal(after?._rev, before?._rev, 'the status document was not written');
  t.equal(after?.status, 'sent');
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
