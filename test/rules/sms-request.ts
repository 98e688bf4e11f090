import t from 'tap';
import { engines } from './fixtures/engines.js';
import { ada, alice, edited, sam, smsRequest, stored, tombstone } from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

t.test('valid SMS requests are accepted', async (t) => {
  e.accepts(t, smsRequest(), null, alice);
  e.accepts(t, smsRequest({ owner: 'ada', to: '+447700900123', text: 't'.repeat(480) }), null, ada);
});

t.test('field rules', async (t) => {
  e.refuses(
    t,
    smsRequest({ to: '0712345678' }),
    null,
    alice,
    /^sms_request\.to must be an E\.164 number/,
  );
  e.refuses(t, smsRequest({ text: '' }), null, alice, 'sms_request.text must not be empty');
  e.refuses(
    t,
    smsRequest({ text: 't'.repeat(481) }),
    null,
    alice,
    'sms_request.text must be at most 480 characters',
  );
  e.refuses(t, smsRequest({ text: null }), null, alice, 'sms_request.text must be a string');
});

t.test('immutable once written', async (t) => {
  const old = stored(smsRequest());
  e.refuses(
    t,
    edited(old, { text: 'changed' }),
    old,
    alice,
    'sms_request documents cannot be changed once written',
  );
  e.refuses(t, tombstone(old), old, sam, 'sms_request documents cannot be deleted by users');
  e.refuses(
    t,
    smsRequest(),
    null,
    alice,
    'sms_request documents cannot be stored in a team database',
    'team',
  );
});
