import t from 'tap';
import { engines } from './fixtures/engines.js';
import { alice, ada, edited, paymentRequest, server, stored, tombstone } from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

const AMOUNT =
  'payment_request.amount must be a whole number of Tanzanian shillings from 100 to 5,000,000';

t.test('valid payment requests are accepted', async (t) => {
  e.accepts(t, paymentRequest(), null, alice);
  e.accepts(t, paymentRequest({ amount: 100 }), null, alice);
  e.accepts(t, paymentRequest({ amount: 5_000_000 }), null, alice);
  for (const provider of ['mpesa', 'airtel', 'mixx', 'halopesa', 'azampesa']) {
    e.accepts(t, paymentRequest({ provider }), null, alice);
  }
});

t.test('field rules', async (t) => {
  for (const amount of [99, 5_000_001, 100.5, '1000', -500]) {
    e.refuses(t, paymentRequest({ amount }), null, alice, AMOUNT);
  }
  e.refuses(
    t,
    paymentRequest({ provider: 'tigopesa' }),
    null,
    alice,
    'payment_request.provider must be one of mpesa, airtel, mixx, halopesa, azampesa',
  );
  e.refuses(
    t,
    paymentRequest({ msisdn: '0712345678' }),
    null,
    alice,
    /^payment_request\.msisdn must be an E\.164 number: \+255 and 9 digits/,
  );
  const { reason: _r, ...noReason } = paymentRequest();
  e.refuses(t, noReason, null, alice, 'payment_request.reason is required');
});

t.test('who may write', async (t) => {
  e.refuses(
    t,
    paymentRequest({ owner: 'ada' }),
    null,
    ada,
    'payment_request documents can be created by agent, supervisor; you have none of these roles',
  );
  e.refuses(
    t,
    paymentRequest(),
    null,
    alice,
    'payment_request documents cannot be stored in a team database',
    'team',
  );
});

t.test('immutable once written', async (t) => {
  const old = stored(paymentRequest());
  e.refuses(
    t,
    edited(old, { amount: 30000 }),
    old,
    alice,
    'payment_request documents cannot be changed once written',
  );
  e.refuses(
    t,
    edited(old, { amount: 30000 }),
    old,
    server,
    'payment_request documents cannot be changed once written',
  );
  e.refuses(t, tombstone(old), old, alice, 'payment_request documents cannot be deleted by users');
  // The reconciler archives losing revisions of conflicts: a server admin may delete.
  e.accepts(t, tombstone(old), old, server);
});
