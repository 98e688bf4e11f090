import t from 'tap';
import { gateway, Session, type AuthAnswer } from '../gateway/helper.js';
import { adminNano, jobContext, afterDbUpdates } from '../jobs/helpers.js';
import { lift, restrict } from '../../server/restriction/restriction.js';
import { phone } from '../helpers/phones.js';
import { couch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import { testFleet } from '../helpers/fleet.js';
import { runPayments as runPaymentsNow } from '../../server/jobs/integrations/payments/index.js';
import { settle } from '../../server/jobs/integrations/outbox/outcome.js';
import type {
  PaymentOrder,
  PaymentProvider,
  QueryOutcome,
  SubmitOutcome,
} from '../../server/integrations/payment-types.js';
import type { Claim } from '../../server/jobs/integrations/outbox/claim.js';
import { CREDS, fakeAzamPay } from './fakes/azampay.js';
import { fakeMpesa, MPESA_CREDS } from './fakes/mpesa.js';
import { paymentProviders } from '../../server/integrations/payment-provider.js';
import { ProviderUnreachable } from '../../server/integrations/http.js';
import { dueQuery, OPEN_CLAIMS_INDEX } from '../../server/jobs/integrations/outbox/due.js';
import { fleetDbs } from '../../server/provisioning/fleet-dbs.js';
import { scrubUrl } from '../../server/app.js';
import { onProviderCall, type ProviderCall } from '../../server/metrics/provider-calls.js';
import { loadConfig } from '../../server/config.js';
import { runCli } from '../helpers/cli.js';
import { digitsOnly, toE164 } from '../../server/integrations/phone.js';
import { main as reportMain } from '../../scripts/payments-report.js';

/** Runs see what phones just pushed: on CouchDB `_db_updates` lists a write late. */
const runPayments = afterDbUpdates(runPaymentsNow);

/**
 * The payments worker against the real store and gateway, with a provider double that keeps
 * every call; then end to end with AzamPay's wire format on a local fake (fakes/azampay.ts).
 */
const azam = await fakeAzamPay(t);
const CALLBACK_SECRET = 'callback-secret-0123456789';
const AZAMPAY_ENV = {
  AZAMPAY_AUTH_URL: azam.url,
  AZAMPAY_CHECKOUT_URL: azam.url,
  AZAMPAY_APP_NAME: CREDS.appName,
  AZAMPAY_CLIENT_ID: CREDS.clientId,
  AZAMPAY_CLIENT_SECRET: CREDS.clientSecret,
  AZAMPAY_API_KEY: CREDS.apiKey,
  AZAMPAY_CALLBACK_SECRET: CALLBACK_SECRET,
  PROVIDER_TIMEOUT_MS: '1000',
};
const mp = await fakeMpesa(t);
const MPESA_SECRET = 'mpesa-result-secret-0123456789';
const MPESA_ENV = {
  MPESA_BASE_URL: mp.url,
  MPESA_API_KEY: MPESA_CREDS.apiKey,
  MPESA_PUBLIC_KEY: mp.publicKey,
  MPESA_SERVICE_PROVIDER_CODE: MPESA_CREDS.serviceProviderCode,
  MPESA_CALLBACK_SECRET: MPESA_SECRET,
  PROVIDER_TIMEOUT_MS: '1000',
};
const gw = await gateway(t, { env: { ...AZAMPAY_ENV, ...MPESA_ENV } });
let clock = Date.parse('2026-03-02T08:00:00Z');
const now = () => new Date(clock);
const advance = (sec: number) => void (clock += sec * 1000);

interface Ledger {
  submits: PaymentOrder[];
  queries: string[];
  provider: PaymentProvider;
}
function provider(
  onSubmit: (o: PaymentOrder, n: number) => SubmitOutcome | Promise<SubmitOutcome>,
  onQuery: (id: string) => QueryOutcome = () => ({ kind: 'pending' }),
): Ledger {
  const l: Ledger = {
    submits: [],
    queries: [],
    provider: {
      name: 'double',
      async submit(o) {
        l.submits.push(o);
        return onSubmit(o, l.submits.filter((s) => s.externalId === o.externalId).length);
      },
      async query(q) {
        l.queries.push(q.externalId);
        return onQuery(q.externalId);
      },
    },
  };
  return l;
}

const PRIVACY_DB = unique('sawa-privacy');
const run = (l: Ledger | null, env: Record<string, string> = {}) =>
  runPayments(
    jobContext(gw.store, { env: { PAYMENTS_RETRY_BASE_SEC: '10', PRIVACY_DB, ...env } }),
    {
      provider: () => l?.provider ?? null,
      now,
      random: () => 0.5,
    },
  );

let n = 0;
const msisdn = () =>
  `+2557${String(Date.now() % 1e5).padStart(5, '0')}${String(++n).padStart(3, '0')}`;

/** A field agent whose phone writes a payment request offline and syncs it through the gateway. */
async function agentPays(amount = 5000, given?: AuthAnswer, network = 'mpesa') {
  // A user of the file's fleet: the payments job scans only the fleet's databases.
  const auth = given ?? (await gw.signup(testFleet().user('agent')));
  const session = new Session(gw.url, auth);
  const local = phone();
  const number = msisdn();
  const request = {
    _id: `payment_request-${unique('p')}`,
    type: 'payment_request',
    owner: auth.user.name,
    created_at: '2026-03-02T10:00:00+03:00',
    updated_at: '2026-03-02T10:00:00+03:00',
    farmer_id: 'farmer-1',
    msisdn: number,
    amount,
    provider: network,
    reason: 'maize delivery',
  };
  await local.put(request);
  const remote = session.db(auth.dbs.user);
  const pushed = await local.replicate.to(remote);
  if (pushed.docs_written !== 1) throw new Error(`push: ${JSON.stringify(pushed)}`);
  const status = async () => {
    await local.replicate.from(remote);
    return local.get(`payment_status-${request._id}`).catch(() => null) as Promise<
      (Record<string, unknown> & { status: string }) | null
    >;
  };
  return { auth, session, local, remote, request, number, status };
}

const mine = (l: Ledger, number: string) => l.submits.filter((s) => s.msisdn === number);

t.test('paid once: accepted, then settled by the status query; re-runs pay nothing', async (t) => {
  const a = await agentPays();
  const l = provider(
    () => ({ kind: 'accepted', reference: 'AZ-1' }),
    () => ({
      kind: 'succeeded',
      reference: 'MP-77',
    }),
  );
  await run(l);
  t.equal(mine(l, a.number).length, 1, 'one payment call');
  t.match(await a.status(), { status: 'submitted', provider_reference: 'AZ-1', attempts: 1 });
  await run(l);
  t.equal(mine(l, a.number).length, 1, 'a re-run before the query is due calls nothing');
  advance(11);
  await run(l);
  await run(l);
  t.equal(mine(l, a.number).length, 1, 'never paid again');
  const status = await a.status();
  t.match(status, { status: 'succeeded', provider_reference: 'MP-77', provider: 'mpesa' });
  t.equal(mine(l, a.number)[0]?.externalId.startsWith('sawa-'), true);
  t.equal(mine(l, a.number)[0]?.amount, 5000);
});

t.test('no provider configured: the request waits and says so; then it is paid', async (t) => {
  const a = await agentPays();
  await run(null);
  t.match(await a.status(), { status: 'queued', message: /no payment provider/ });
  const l = provider(() => ({ kind: 'succeeded', reference: 'R1' }));
  await run(l);
  t.match(await a.status(), { status: 'succeeded', provider_reference: 'R1' });
  t.equal(mine(l, a.number).length, 1);
});

t.test(
  'a restricted person: the payment is held, nothing sent, and paid once lifted',
  async (t) => {
    const a = await agentPays();
    const b = await agentPays();
    const nano = adminNano(gw.store);
    const who = a.auth.user.name;
    await restrict(nano, PRIVACY_DB, { subject: who, reason: 'disputes', by: 'boss' });
    const l = provider(() => ({ kind: 'succeeded', reference: 'R2' }));
    const first = await run(l);
    t.equal(mine(l, a.number).length, 0, 'nothing sent for the restricted person');
    t.equal(mine(l, b.number).length, 1, 'another person is paid');
    t.match(first, { held: 1 });
    const held = await a.status();
    t.match(held, { status: 'queued', message: /^held: .*restricted/ });
    t.match(await run(l), { held: 1 }, 'still held');
    t.equal((await a.status())?._rev, held?._rev, 'held once: no write on every run');
    t.equal(mine(l, a.number).length, 0);
    t.equal(await lift(nano, PRIVACY_DB, who), true);
    await run(l);
    t.equal(mine(l, a.number).length, 1, 'sent once the restriction is lifted');
    t.match(await a.status(), { status: 'succeeded', provider_reference: 'R2' });
  },
);

t.test(
  'a timeout after sending is settled by the status query, never by paying again',
  async (t) => {
    const a = await agentPays();
    const l = provider(
      () => Promise.reject(new Error('timeout')),
      () => ({ kind: 'succeeded', reference: 'Q-1' }),
    );
    await run(l);
    t.match(await a.status(), { status: 'submitted' });
    for (let i = 0; i < 3; i++) {
      advance(60);
      await run(l);
    }
    t.equal(mine(l, a.number).length, 1, 'one call only');
    t.match(await a.status(), { status: 'succeeded', provider_reference: 'Q-1' });
  },
);

t.test('retryable refusals back off and retry with the same external id', async (t) => {
  const a = await agentPays();
  const l = provider((_o, k) =>
    k < 3 ? { kind: 'rejected', retryable: true, reason: 'busy' } : { kind: 'succeeded' },
  );
  await run(l);
  t.match(await a.status(), { status: 'queued', message: 'retrying: busy', attempts: 1 });
  await run(l);
  t.equal(mine(l, a.number).length, 1, 'not before the backoff');
  advance(8); // base 10 s, jitter 0.5: the first wait is 7.5 s
  await run(l);
  t.equal(mine(l, a.number).length, 2);
  advance(16);
  await run(l);
  const calls = mine(l, a.number);
  t.equal(calls.length, 3);
  t.equal(new Set(calls.map((c) => c.externalId)).size, 1, 'one idempotency key');
  t.match(await a.status(), { status: 'succeeded', attempts: 3 });
});

t.test('a final refusal fails at once; the amount no longer counts against the day', async (t) => {
  const a = await agentPays(600_000);
  const l = provider(() => ({ kind: 'rejected', retryable: false, reason: 'invalid number' }));
  await run(l);
  t.match(await a.status(), { status: 'failed', message: 'invalid number' });
  advance(3600);
  await run(l);
  t.equal(mine(l, a.number).length, 1);
});

t.test('over the daily limit per agent: failed with the reason, nothing sent', async (t) => {
  const a = await agentPays(300_000);
  const l = provider(() => ({ kind: 'succeeded' }));
  await run(l, { PAYMENTS_DAILY_LIMIT_TZS: '250000' });
  t.equal(mine(l, a.number).length, 0);
  t.match(await a.status(), { status: 'failed', message: /daily limit of 250000/ });
});

t.test('two workers at once: one payment call', async (t) => {
  const a = await agentPays();
  const l = provider(async () => {
    await new Promise((r) => setTimeout(r, 50));
    return { kind: 'accepted' };
  });
  await Promise.all([run(l), run(l), run(l)]);
  t.equal(mine(l, a.number).length, 1);
});

t.test('a stuck payment is flagged for a person after the allowed queries', async (t) => {
  const a = await agentPays();
  const l = provider(
    () => ({ kind: 'accepted' }),
    () => ({ kind: 'not-found' }),
  );
  await run(l);
  for (let i = 0; i < 6; i++) {
    advance(3600);
    await run(l);
  }
  t.equal(mine(l, a.number).length, 1);
  t.match(await a.status(), { status: 'submitted', flagged: true, message: /does not know/ });
});

t.test('a late outcome that disagrees with a final state is kept and flagged', async (t) => {
  const base = { state: 'failed', reason: 'insufficient balance' } as Claim;
  const at = new Date(0);
  const late = settle(base, { state: 'succeeded', reference: 'X' }, 'callback', at);
  t.match(late, {
    state: 'failed',
    flagged: true,
    late: [{ outcome: 'succeeded', reference: 'X' }],
  });
  t.equal(settle(late as Claim, { state: 'succeeded' }, 'callback', at), false, 'duplicate');
  t.equal(settle(base, { state: 'failed' }, 'callback', at), false, 'same outcome again');
});

t.test('phones cannot write payment status: not by _bulk_docs, not by replication', async (t) => {
  const a = await agentPays();
  const forged = {
    _id: `payment_status-${a.request._id}`,
    type: 'payment_status',
    owner: a.auth.user.name,
    created_at: '2026-03-02T10:00:00+03:00',
    updated_at: '2026-03-02T10:00:00+03:00',
    request_id: a.request._id,
    provider: 'mpesa',
    status: 'succeeded',
  };
  const auth = `Bearer ${a.auth.access_token}`;
  const bulk = await couch(gw.url, 'POST', `/sync/${a.auth.dbs.user}/_bulk_docs`, {
    auth,
    body: { docs: [forged] },
  });
  t.match(bulk.body, [{ error: 'forbidden' }]);
  const replicated = await couch(gw.url, 'POST', `/sync/${a.auth.dbs.user}/_bulk_docs`, {
    auth,
    body: {
      new_edits: false,
      docs: [{ ...forged, _rev: '1-abc', _revisions: { start: 1, ids: ['abc'] } }],
    },
  });
  t.match(replicated.body, [{ error: 'forbidden' }]);
  await a.local.put({ ...forged, _id: `${forged._id}-2` });
  const pushed = await a.local.replicate.to(a.remote);
  t.equal(pushed.docs_written, 0);
  t.equal(pushed.doc_write_failures, 1);
  const l = provider(() => ({ kind: 'accepted' }));
  await run(l);
  t.match(await a.status(), { status: 'submitted' }, 'the server writes the status');
});

t.test("above the threshold: waits for a supervisor's payment_approval in the team", async (t) => {
  const team = unique('team').replace(/[^a-z0-9-]/g, '-');
  const agentAuth = await gw.member(
    testFleet().user('agent'),
    ['agent'],
    [{ team, mode: 'write' }],
  );
  const sup = await gw.member(unique('sup'), ['supervisor'], [{ team, mode: 'write' }]);
  const teamDb = sup.dbs.shared[0]!;
  const a = await agentPays(20_000, agentAuth);
  const b = await agentPays(30_000, agentAuth);
  const l = provider(() => ({ kind: 'accepted', reference: 'AP-1' }));
  // The job reads the agent's teams from the service's accounts database.
  const env = { PAYMENTS_APPROVE_ABOVE_TZS: '10000', ACCOUNTS_DB: gw.svc.app.config.ACCOUNTS_DB };
  await run(l, env);
  t.equal(mine(l, a.number).length, 0, 'nothing sent before the approval');
  t.match(await a.status(), { status: 'queued', message: /supervisor's approval/ });

  const approval = (req: typeof a.request, owner: string, decision: string) => ({
    _id: `payment_approval-${req._id}`,
    type: 'payment_approval',
    owner,
    created_at: '2026-03-02T11:00:00+03:00',
    updated_at: '2026-03-02T11:00:00+03:00',
    request_id: req._id,
    agent: agentAuth.user.name,
    amount: req.amount,
    decision,
  });
  const write = (auth: AuthAnswer, doc: unknown) =>
    couch(gw.url, 'POST', `/sync/${teamDb}/_bulk_docs`, {
      auth: `Bearer ${auth.access_token}`,
      body: { docs: [doc] },
    });
  const own = await write(agentAuth, approval(a.request, agentAuth.user.name, 'approved'));
  t.match(own.body, [{ error: 'forbidden' }], 'an agent cannot approve');
  const yes = await write(sup, approval(a.request, sup.user.name, 'approved'));
  t.match(yes.body, [{ ok: true }], 'the supervisor approves');
  await write(sup, approval(b.request, sup.user.name, 'rejected'));
  advance(60);
  await run(l, env);
  t.equal(mine(l, a.number).length, 1, 'sent once approved');
  t.match(await a.status(), { status: 'submitted' });
  t.equal(mine(l, b.number).length, 0);
  t.match(await b.status(), { status: 'failed', message: /not approved by/ });
});

// ---- AzamPay, end to end: its wire format on the fake, callbacks through the service ----

/** A run with the provider the configuration builds (AzamPay on the fake). */
const runAzam = () =>
  runPayments(jobContext(gw.store, { env: { PAYMENTS_RETRY_BASE_SEC: '10', ...AZAMPAY_ENV } }), {
    now,
    random: () => 0.5,
  });
const digits = (e164: string) => e164.slice(1);
const callback = (body: unknown, secret = CALLBACK_SECRET) =>
  couch(gw.url, 'POST', `/integrations/azampay/callback/${secret}`, { body });

t.test(
  'AzamPay: one checkout, the callback twice, one succeeded status on the phone',
  async (t) => {
    azam.setMode('accept');
    const a = await agentPays(12_000);
    await runAzam();
    const [call, ...more] = azam.checkouts(digits(a.number));
    t.equal(more.length, 0, 'one checkout');
    t.match(call?.body, {
      accountNumber: digits(a.number),
      amount: '12000',
      currency: 'TZS',
      provider: 'Mpesa',
      externalId: /^sawa-[0-9a-f]{32}$/,
    });
    t.match(await a.status(), { status: 'submitted' });
    const txn = azam.settle(String(call?.body.externalId), 'SUCCESS');
    const first = await callback(azam.callbackBody(txn, 'success'));
    const second = await callback(azam.callbackBody(txn, 'success'));
    t.match(first.body, { received: true, result: 'recorded' });
    t.match(second.body, { received: true, result: 'duplicate' });
    await runAzam();
    t.equal(azam.checkouts(digits(a.number)).length, 1, 'still one checkout');
    const status = await a.status();
    t.match(status, { status: 'succeeded', provider_reference: txn.transactionId });
    t.notOk((await a.local.get(String(status?._id), { conflicts: true }))._conflicts, 'one branch');
  },
);

t.test('AzamPay: forged callbacks change nothing', async (t) => {
  azam.setMode('accept');
  const a = await agentPays();
  await runAzam();
  const externalId = String(azam.checkouts(digits(a.number))[0]?.body.externalId);
  const txn = azam.txns.get(externalId)!;
  const wrong = await callback(azam.callbackBody(txn, 'success'), 'not-the-secret-at-all');
  t.equal(wrong.status, 404, 'wrong secret: no such route');
  t.match(wrong.body, { code: 'SAWA_CALLBACK_UNKNOWN' });
  const unknown = await callback({
    ...azam.callbackBody(txn, 'success'),
    utilityref: 'sawa-' + '0'.repeat(32),
  });
  t.match(unknown.body, { result: 'unknown-reference' });
  const unconfirmed = await callback(azam.callbackBody(txn, 'success'));
  t.match(unconfirmed.body, { result: 'unconfirmed' }, 'the status query says PENDING');
  t.match(await a.status(), { status: 'submitted' });
});

t.test('AzamPay: accepted, then the answer lost: the status query settles it', async (t) => {
  azam.setMode('hang-after-accept');
  const a = await agentPays();
  await runAzam();
  azam.release();
  t.match(await a.status(), { status: 'submitted' });
  const externalId = [...azam.txns.values()].find(
    (x) => x.accountNumber === digits(a.number),
  )!.externalId;
  azam.settle(externalId, 'SUCCESS');
  azam.setMode('accept');
  advance(11);
  await runAzam();
  t.equal(azam.checkouts(digits(a.number)).length, 1, 'no second charge');
  t.match(await a.status(), { status: 'succeeded' });
});

t.test(
  'AzamPay: invalid number fails at once; busy is retried; no balance ends failed',
  async (t) => {
    azam.setMode('invalid-number');
    const bad = await agentPays();
    await runAzam();
    t.match(await bad.status(), { status: 'failed', message: /Invalid accountNumber/ });

    azam.setMode('busy');
    const busy = await agentPays();
    await runAzam();
    t.match(await busy.status(), { status: 'queued', message: /retrying/ });
    azam.setMode('accept');
    advance(8);
    await runAzam();
    t.equal(azam.checkouts(digits(busy.number)).length, 2);
    t.match(await busy.status(), { status: 'submitted' });

    azam.setMode('insufficient-balance');
    const poor = await agentPays();
    await runAzam();
    advance(11);
    await runAzam();
    t.match(await poor.status(), { status: 'failed' });
    azam.setMode('accept');
  },
);

// ---- Vodacom M-Pesa OpenAPI, end to end: its wire format and RSA handshake on the fake ----

const mpesaContext = (env: Record<string, string> = {}) =>
  jobContext(gw.store, { env: { PAYMENTS_RETRY_BASE_SEC: '10', ...MPESA_ENV, ...env } });
/** A run with the provider the configuration builds (M-Pesa on the fake). */
const runMpesa = () => runPayments(mpesaContext(), { now, random: () => 0.5 });
const mpesaCallback = (body: unknown, secret = MPESA_SECRET) =>
  couch(gw.url, 'POST', `/integrations/mpesa/callback/${secret}`, { body });

t.test(
  'M-Pesa: one C2B call, the result callback twice, one succeeded status on the phone',
  async (t) => {
    mp.setMode('accept');
    const sessions = mp.calls.filter((c) => c.path === '/getSession/').length;
    const a = await agentPays(12_000);
    await runMpesa();
    const [call, ...more] = mp.c2b(digits(a.number));
    t.equal(more.length, 0, 'one C2B call');
    t.match(call?.body, {
      input_Amount: '12000',
      input_Country: 'TZN',
      input_Currency: 'TZS',
      input_CustomerMSISDN: digits(a.number),
      input_ServiceProviderCode: MPESA_CREDS.serviceProviderCode,
      input_ThirdPartyConversationID: /^sawa[0-9a-f]{32}$/,
      input_TransactionReference: /^[0-9A-Za-z]{1,20}$/,
    });
    t.ok(
      mp.calls.filter((c) => c.path === '/getSession/').length > sessions,
      'a session was opened with the encrypted API key (the fake decrypts it)',
    );
    t.match(await a.status(), { status: 'submitted' });
    const txn = mp.complete(mp.txnOf(digits(a.number))!, 'Completed');
    const answers = await mp.callback(
      `${gw.url}/integrations/mpesa/callback/${MPESA_SECRET}`,
      txn,
      2,
    );
    t.match(answers, [
      { status: 200, body: { output_ResponseCode: '0', result: 'recorded' } },
      { status: 200, body: { output_ResponseCode: '0', result: 'duplicate' } },
    ]);
    t.equal(answers[0]?.body.output_ThirdPartyConversationID, txn.thirdPartyConversationId);
    await runMpesa();
    t.equal(mp.c2b(digits(a.number)).length, 1, 'still one C2B call');
    const status = await a.status();
    t.match(status, { status: 'succeeded', provider_reference: txn.transactionId });
    t.notOk((await a.local.get(String(status?._id), { conflicts: true }))._conflicts, 'one branch');
  },
);

t.test('M-Pesa: forged result callbacks change nothing', async (t) => {
  mp.setMode('accept');
  const a = await agentPays();
  await runMpesa();
  const txn = mp.txnOf(digits(a.number))!;
  const success = { ...mp.resultBody(txn), input_ResultCode: 'INS-0' };
  const wrong = await mpesaCallback(success, 'not-the-mpesa-secret-at-all');
  t.equal(wrong.status, 404, 'wrong secret: no such route');
  const unknown = await mpesaCallback({
    ...success,
    input_ThirdPartyConversationID: 'sawa' + '0'.repeat(32),
  });
  t.match(unknown.body, { result: 'unknown-reference', output_ResponseCode: '0' });
  const unconfirmed = await mpesaCallback(success);
  t.match(unconfirmed.body, { result: 'unconfirmed' }, 'the status query says Pending');
  const bad = await mpesaCallback({ input_ResultCode: 7 });
  t.equal(bad.status, 400, 'a malformed body is refused, not a 500');
  t.match(await a.status(), { status: 'submitted' });
});

t.test(
  'M-Pesa: accepted, then the answer lost: the status query settles it; a late callback is a duplicate',
  async (t) => {
    mp.setMode('timeout-after-accept');
    const a = await agentPays();
    await runMpesa();
    mp.release();
    mp.setMode('accept');
    t.match(await a.status(), { status: 'submitted' });
    const txn = mp.complete(mp.txnOf(digits(a.number))!, 'Completed');
    advance(11);
    await runMpesa();
    t.equal(mp.c2b(digits(a.number)).length, 1, 'no second charge');
    t.match(await a.status(), { status: 'succeeded' });
    const late = await mpesaCallback(mp.resultBody(txn));
    t.match(late.body, { result: 'duplicate' }, 'a delayed callback changes nothing');
  },
);

t.test(
  'M-Pesa: insufficient balance and an invalid number fail at once; busy is retried',
  async (t) => {
    mp.setMode('insufficient-balance');
    const poor = await agentPays();
    await runMpesa();
    t.match(await poor.status(), { status: 'failed', message: /INS-2006/ });
    mp.setMode('invalid-number');
    const bad = await agentPays();
    await runMpesa();
    t.match(await bad.status(), { status: 'failed', message: /INS-2051/ });
    mp.setMode('busy');
    const busy = await agentPays();
    await runMpesa();
    t.match(await busy.status(), { status: 'queued', message: /retrying: INS-16/ });
    mp.setMode('accept');
    advance(8);
    await runMpesa();
    const calls = mp.c2b(digits(busy.number));
    t.equal(calls.length, 2);
    t.equal(
      calls[0]?.body.input_ThirdPartyConversationID,
      calls[1]?.body.input_ThirdPartyConversationID,
      'the same key again',
    );
    t.match(await busy.status(), { status: 'submitted' });
  },
);

t.test('M-Pesa: a duplicate key is never taken as a new payment', async (t) => {
  mp.setMode('accept');
  const adapter = paymentProviders(mpesaContext().config).mpesa!;
  const order = {
    externalId: `sawa-${'ab'.repeat(16)}`,
    msisdn: msisdn(),
    amount: 700,
    network: 'mpesa',
  };
  t.match(await adapter.submit(order), { kind: 'accepted' });
  await t.rejects(adapter.submit(order), ProviderUnreachable, 'INS-10: outcome unknown');
  t.match(await adapter.submit({ ...order, network: 'airtel' }), {
    kind: 'rejected',
    retryable: false,
  });
  t.match(await adapter.query({ externalId: `sawa-${'cd'.repeat(16)}`, network: 'mpesa' }), {
    kind: 'not-found',
  });
  // A session call that times out asked for no payment: safe to send later.
  mp.hangSessions(true);
  const fresh = paymentProviders(mpesaContext().config).mpesa!;
  const lost = await fresh
    .submit({ ...order, externalId: `sawa-${'ef'.repeat(16)}` })
    .catch((e) => e);
  mp.hangSessions(false);
  mp.release();
  t.match(lost, { name: 'ProviderUnreachable', sent: false });
});

t.test('M-Pesa: a duplicate answer is asked about, never paid again', async (t) => {
  mp.setMode('duplicate');
  const a = await agentPays();
  await runMpesa();
  mp.setMode('accept');
  t.match(await a.status(), { status: 'submitted' }, 'INS-10: the outcome is unknown');
  mp.complete(mp.txnOf(digits(a.number))!, 'Completed');
  advance(11);
  await runMpesa();
  t.equal(mp.c2b(digits(a.number)).length, 1, 'not sent again');
  t.match(await a.status(), { status: 'succeeded' });
});

t.test('both configured: M-Pesa wallets to M-Pesa, the others to AzamPay', async (t) => {
  mp.setMode('accept');
  azam.setMode('accept');
  const m = await agentPays(4000);
  const a = await agentPays(4000, undefined, 'airtel');
  const calls: ProviderCall[] = [];
  t.teardown(onProviderCall((c) => calls.push(c)));
  await runPayments(mpesaContext(AZAMPAY_ENV), { now, random: () => 0.5 });
  t.equal(mp.c2b(digits(m.number)).length, 1, 'the M-Pesa wallet through M-Pesa');
  t.equal(azam.checkouts(digits(m.number)).length, 0);
  t.equal(azam.checkouts(digits(a.number)).length, 1, 'the Airtel wallet through AzamPay');
  t.equal(mp.c2b(digits(a.number)).length, 0);
  const names = new Set(calls.filter((c) => c.kind === 'payment').map((c) => c.provider));
  t.ok(names.has('mpesa') && names.has('azampay'), '/metrics names the provider used');
});

t.test('a token or session revoked early: one new one, and the call goes through', async (t) => {
  const config = loadConfig({ ...process.env, ...AZAMPAY_ENV, ...MPESA_ENV });
  const { azampay, mpesa } = paymentProviders(config);
  const ask = (p: PaymentProvider | null) =>
    p!.query({ externalId: unique('sawa'), network: 'mpesa' });
  const logins = () => ({
    azam: azam.calls.filter((c) => c.path === '/AppRegistration/GenerateToken').length,
    mpesa: mp.calls.filter((c) => c.path === '/getSession/').length,
  });
  await ask(azampay);
  await ask(mpesa);
  const before = logins();
  await ask(azampay);
  await ask(mpesa);
  t.same(logins(), before, 'a credential is reused while it lasts');
  azam.revokeTokens();
  mp.revokeSessions();
  t.match(await ask(azampay), { kind: /^(not-found|pending)$/ }, 'AzamPay answered after a 401');
  t.match(await ask(mpesa), { kind: /^(not-found|pending)$/ }, 'M-Pesa answered after a 401');
  t.same(logins(), { azam: before.azam + 1, mpesa: before.mpesa + 1 }, 'one new credential each');
});

t.test('M-Pesa: two Sawa instances at once: one C2B call', async (t) => {
  mp.setMode('accept');
  const a = await agentPays();
  // Each run has its own configuration, CouchDB client and M-Pesa session: two instances.
  await Promise.all([runMpesa(), runMpesa()]);
  t.equal(mp.c2b(digits(a.number)).length, 1);
});

t.test(
  'M-Pesa: a worker killed mid-call: no second charge; the status query settles it',
  async (t) => {
    mp.setMode('accept');
    const a = await agentPays();
    const real = paymentProviders(mpesaContext().config).mpesa!;
    let revive = () => {};
    let acted = () => {};
    const called = new Promise<void>((r) => (acted = r));
    // The provider acts, then the worker dies before it reads the answer: its run never ends.
    const dying = runPayments(mpesaContext(), {
      now,
      random: () => 0.5,
      provider: () => ({
        ...real,
        async submit(order) {
          if (order.msisdn !== a.number) return real.submit(order);
          await real.submit(order);
          acted();
          return new Promise<never>((_, reject) => {
            revive = () => reject(new Error('killed'));
          });
        },
      }),
    });
    await called;
    t.match(await a.status(), { status: 'submitted' });
    mp.complete(mp.txnOf(digits(a.number))!, 'Completed');
    advance(11);
    await runMpesa(); // another instance, or the restarted one
    t.equal(mp.c2b(digits(a.number)).length, 1, 'no second charge');
    t.match(await a.status(), { status: 'succeeded' });
    revive();
    await dying;
    t.match(await a.status(), { status: 'succeeded' }, 'the dead worker changes nothing');
  },
);

t.test('a run reads the open claims through their index, not every claim ever made', async (t) => {
  const jobsDb = fleetDbs(mpesaContext().config).jobs;
  const explained = (await adminNano(gw.store).request({
    db: jobsDb,
    method: 'POST',
    path: '_explain',
    body: dueQuery('payment', 'submitted', now(), 200),
  })) as { index: { ddoc: string; name: string } };
  t.match(explained.index, { ddoc: '_design/outbox-claims', name: OPEN_CLAIMS_INDEX });
});

t.test('the callback secrets never reach the log', async (t) => {
  t.equal(
    scrubUrl(`/integrations/azampay/callback/${CALLBACK_SECRET}`),
    '/integrations/azampay/callback/…',
  );
  t.equal(
    scrubUrl(`/integrations/mpesa/callback/${MPESA_SECRET}`),
    '/integrations/mpesa/callback/…',
  );
});

t.test(
  'M-Pesa settings: a bad public key is refused at start-up; it is a transfer to TZ',
  async (t) => {
    t.throws(
      () => loadConfig({ MPESA_PUBLIC_KEY: 'A'.repeat(120) }),
      /MPESA_PUBLIC_KEY: not an RSA public key/,
    );
    const creds = {
      MPESA_API_KEY: 'k',
      MPESA_PUBLIC_KEY: mp.publicKey,
      MPESA_SERVICE_PROVIDER_CODE: '000000',
    };
    t.ok(loadConfig(creds).MPESA_PUBLIC_KEY, 'a real key is taken');
    t.throws(() => loadConfig({ ...creds, DATA_RESIDENCY: 'KE' }), /mpesa sends personal data/);
  },
);

t.test(
  'npm run payments-report: by state, flagged and stuck, as table, json and csv',
  async (t) => {
    const url = new URL(gw.store.url);
    url.username = gw.store.admin.name;
    url.password = gw.store.admin.password;
    const env = { ...testFleet().env, COUCHDB_URL: url.toString(), LOG_LEVEL: 'warn' };
    const json = await runCli(reportMain, ['--format', 'json', '--stuck-after', '1d'], env);
    t.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      summary: { by_state: Record<string, { count: number; amount: number }>; flagged: number };
      rows: Array<{ state: string; flagged: boolean; amount: number }>;
    };
    t.ok(report.summary.by_state.succeeded!.count >= 5, 'the succeeded payments of this file');
    t.ok(report.summary.flagged >= 1, 'the stuck payment flagged above');
    t.ok(report.rows.some((r) => r.state === 'failed' && r.amount === 300_000));
    t.notMatch(json.stdout, /\+255/, 'no phone numbers in the report');
    const table = await runCli(reportMain, ['--fail-above', '0'], env);
    t.equal(table.code, 1, 'flagged payments fail --fail-above 0');
    t.match(table.stdout, /AGENT\s+NETWORK\s+AMOUNT\s+STATE/);
    t.match(table.stdout, /flagged/);
    const csv = await runCli(reportMain, ['--format', 'csv'], env);
    t.match(csv.stdout.split('\n')[0], /^claim,owner,request_id,network,amount,state/);
    const bad = await runCli(reportMain, ['--format', 'xml'], env);
    t.equal(bad.code, 2);
  },
);

t.test('phone numbers: E.164 in, as people type them; digits out for AzamPay', async (t) => {
  for (const typed of [
    '0712345678',
    '255712345678',
    '+255712345678',
    '+255 712-345-678',
    '00255712345678',
  ]) {
    t.equal(toE164(typed), '+255712345678', typed);
  }
  for (const bad of ['712345678', '+25571234567', '0812345678', 'abc', '+2557123456789']) {
    t.equal(toE164(bad), null, bad);
  }
  t.equal(toE164('+254712345678'), '+254712345678', 'other countries pass as E.164');
  t.equal(digitsOnly('+255712345678'), '255712345678');
});
