import t from 'tap';
import { engines } from './fixtures/engines.js';
import {
  ada,
  alice,
  edited,
  paymentStatus,
  sam,
  server,
  smsStatus,
  stored,
  tombstone,
} from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

t.test('status documents are read-only to users', async (t) => {
  for (const [make, type] of [
    [paymentStatus, 'payment_status'],
    [smsStatus, 'sms_status'],
  ] as const) {
    const reason = `${type} documents are written by the server only`;
    e.refuses(t, make(), null, alice, reason);
    e.refuses(t, make({ owner: 'ada' }), null, ada, reason);
    const old = stored(make());
    e.refuses(t, edited(old, { status: 'failed' }), old, alice, reason);
    e.refuses(t, tombstone(old), old, sam, reason);
  }
});

t.test('the server writes them, and is held to the schema', async (t) => {
  e.accepts(t, paymentStatus(), null, server);
  e.accepts(
    t,
    smsStatus({ provider: 'beem', provider_reference: 'ATXid_1', attempts: 1 }),
    null,
    server,
  );
  const old = stored(paymentStatus());
  e.accepts(
    t,
    edited(old, { status: 'succeeded', provider_reference: 'MP240501.1234.A' }),
    old,
    server,
  );
  e.refuses(
    t,
    paymentStatus({ status: 'done' }),
    null,
    server,
    'payment_status.status must be one of pending, queued, submitted, succeeded, failed',
  );
  e.refuses(t, smsStatus({ attempts: -1 }), null, server, 'sms_status.attempts must be at least 0');
  e.refuses(t, edited(old, { request_id: 'pay-2' }), old, server, 'request_id cannot change');
  e.refuses(t, edited(old, { owner: 'bob' }), old, server, 'owner cannot change');
});
