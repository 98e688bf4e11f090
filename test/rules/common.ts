import t from 'tap';
import { loadRules } from '../../server/rules/index.js';
import { syncRules } from '../../sync-rules/index.js';
import { engines } from './fixtures/engines.js';
import { alice, bob, farmer, server, stored, tombstone, visit } from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

const KNOWN =
  'farmer, visit, payment_request, sms_request, payment_status, sms_status, sawa_purge, payment_approval';

t.test('documents without a known type are refused', async (t) => {
  const { type: _t, ...untyped } = farmer();
  e.refuses(
    t,
    untyped,
    null,
    alice,
    `type is required: every document needs a type (one of ${KNOWN})`,
  );
  e.refuses(t, farmer({ type: 7 }), null, alice, /^type is required/);
  e.refuses(
    t,
    farmer({ type: 'cow' }),
    null,
    alice,
    `unknown document type "cow"; known types are ${KNOWN}`,
  );
  // Names every object has must not pass for rules.
  e.refuses(
    t,
    farmer({ type: 'constructor' }),
    null,
    alice,
    /^unknown document type "constructor"/,
  );
  e.refuses(t, farmer({ type: '__proto__' }), null, alice, /^unknown document type "__proto__"/);
  e.refuses(t, farmer({ type: 'cow' }), null, server, /^unknown document type "cow"/);
});

t.test('server admins skip ownership and role checks, not the schema', async (t) => {
  e.accepts(t, farmer({ owner: 'bob' }), null, server);
  e.accepts(t, visit({ owner: 'bob' }), null, server);
  e.refuses(t, farmer({ owner: 'bob', name: '' }), null, server, 'farmer.name must not be empty');
  e.refuses(
    t,
    farmer({ owner: 'bob', colour: 'red' }),
    null,
    server,
    'farmer.colour is not an allowed field',
  );
  const { owner: _o, ...ownerless } = farmer();
  e.refuses(t, ownerless, null, server, 'farmer.owner is required');
});

t.test('design documents are for server admins', async (t) => {
  const ddoc = { _id: '_design/sawa', views: {} };
  e.refuses(t, ddoc, null, alice, 'only server admins may change design documents');
  e.accepts(t, ddoc, null, server);
});

t.test('writers must be logged in', async (t) => {
  e.refuses(
    t,
    farmer({ owner: null }),
    null,
    { name: null, roles: [] },
    'writes need a logged-in user',
  );
});

t.test('deletes', async (t) => {
  const old = stored(farmer());
  // Nothing stored, nothing to protect (e.g. a replicated tombstone of an unseen document).
  e.accepts(t, tombstone(old), null, bob);
  // A tombstone with content is judged by the stored document, not its own fields.
  e.refuses(
    t,
    { ...old, _deleted: true, owner: 'bob' },
    old,
    bob,
    /^farmer documents can be deleted by supervisor, admin/,
  );
  // Writing over a tombstone is a create: the new writer must own it.
  const gone = { ...tombstone(old), _rev: '2-def' };
  e.accepts(t, farmer({ owner: 'bob', _rev: '2-def' }), gone, bob);
  e.refuses(t, farmer({ _rev: '2-def' }), gone, bob, 'farmer.owner must be the writing user (bob)');
});

t.test('a deployment id pattern', async (t) => {
  const rules = syncRules.map((r) =>
    r.type === 'farmer'
      ? {
          ...r,
          idPattern: { pattern: '^farmer:[0-9a-f-]{36}$', description: 'farmer: and a UUID' },
        }
      : r,
  );
  const custom = await engines(loadRules(rules));
  t.teardown(() => custom.dispose());
  const id = 'farmer:0d4b8c1e-2f57-4c4e-9a63-1c1f0c6b2a11';
  custom.accepts(t, farmer({ _id: id }), null, alice);
  custom.refuses(
    t,
    farmer({ _id: 'farmer-1' }),
    null,
    alice,
    'farmer._id must be farmer: and a UUID',
  );
  // The reference rules leave ids to the clients.
  e.accepts(t, farmer({ _id: 'any id at all' }), null, alice);
});

t.test('the owner never changes, even when a rule forgets to list it as immutable', async (t) => {
  const rules = syncRules.map((r) =>
    r.type === 'farmer' ? { ...r, immutable: ['created_at'] } : r,
  );
  const custom = await engines(loadRules(rules));
  t.teardown(() => custom.dispose());
  const old = stored(farmer());
  custom.refuses(t, { ...old, _rev: '2-x', owner: 'bob' }, old, alice, 'owner cannot change');
  custom.refuses(t, { ...old, _rev: '2-x', owner: 'bob' }, old, server, 'owner cannot change');
});
