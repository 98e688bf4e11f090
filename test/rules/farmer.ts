import t from 'tap';
import { engines } from './fixtures/engines.js';
import {
  alice,
  bob,
  edited,
  farmer,
  nobody,
  sam,
  server,
  stored,
  tombstone,
} from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

t.test('valid farmers are accepted', async (t) => {
  e.accepts(t, farmer(), null, alice);
  e.accepts(
    t,
    farmer({ phone: '+255712345678', gender: 'female', land_acres: 2.5 }),
    null,
    alice,
    'team',
  );
  e.accepts(t, farmer({ owner: 'sam', land_acres: 0 }), null, sam, 'private');
  // 200 characters counted as code points: each emoji is two UTF-16 units.
  e.accepts(t, farmer({ name: '🌽'.repeat(200) }), null, alice);
});

t.test('field rules', async (t) => {
  e.refuses(t, farmer({ name: '' }), null, alice, 'farmer.name must not be empty');
  e.refuses(
    t,
    farmer({ name: 'x'.repeat(201) }),
    null,
    alice,
    'farmer.name must be at most 200 characters',
  );
  e.refuses(t, farmer({ name: 42 }), null, alice, 'farmer.name must be a string');
  const phone = 'farmer.phone must be an E.164 number: +255 and 9 digits, e.g. +255712345678';
  e.refuses(t, farmer({ phone: '0712345678' }), null, alice, phone);
  e.refuses(t, farmer({ phone: '+2557123456789' }), null, alice, phone);
  e.refuses(t, farmer({ phone: '+254712345678' }), null, alice, phone);
  e.refuses(
    t,
    farmer({ gender: 'x' }),
    null,
    alice,
    'farmer.gender must be one of female, male, other',
  );
  const acres = 'farmer.land_acres must be a number of acres, 0 or more';
  e.refuses(t, farmer({ land_acres: -1 }), null, alice, acres);
  e.refuses(t, farmer({ land_acres: '3' }), null, alice, acres);
  const { village: _v, ...noVillage } = farmer();
  e.refuses(t, noVillage, null, alice, 'farmer.village is required');
  e.refuses(t, farmer({ colour: 'red' }), null, alice, 'farmer.colour is not an allowed field');
  e.refuses(
    t,
    farmer({ created_at: '2024-05-01T09:30:00' }),
    null,
    alice,
    /^farmer\.created_at must be an ISO 8601 date-time with a time zone/,
  );
  e.refuses(
    t,
    farmer({ updated_at: 'yesterday' }),
    null,
    alice,
    /^farmer\.updated_at must be an ISO 8601 date-time/,
  );
});

t.test('every problem is named, in one reason', async (t) => {
  e.refuses(
    t,
    farmer({ name: '', gender: 'x' }),
    null,
    alice,
    'farmer.name must not be empty; farmer.gender must be one of female, male, other',
  );
});

t.test('ownership', async (t) => {
  e.refuses(
    t,
    farmer({ owner: 'bob' }),
    null,
    alice,
    'farmer.owner must be the writing user (alice)',
  );
  const old = stored(farmer());
  e.accepts(t, edited(old, { name: 'Asha M.' }), old, alice);
  e.refuses(t, edited(old, { owner: 'bob' }), old, alice, 'owner cannot change');
  e.refuses(
    t,
    edited(old, { created_at: '2024-04-01T09:30:00+03:00' }),
    old,
    alice,
    'created_at cannot change',
  );
  e.refuses(
    t,
    edited(old, { name: 'Asha M.' }),
    old,
    bob,
    'only its owner (alice) may update this farmer',
  );
  e.accepts(t, edited(old, { name: 'Asha M.' }), old, sam, 'team');
  e.refuses(t, edited(old, { type: 'visit' }), old, alice, 'type cannot change (it is farmer)');
});

t.test('roles', async (t) => {
  e.refuses(
    t,
    farmer({ owner: 'nora' }),
    null,
    nobody,
    'farmer documents can be created by agent, supervisor, admin; you have none of these roles',
  );
  const old = stored(farmer());
  e.refuses(
    t,
    tombstone(old),
    old,
    alice,
    'farmer documents can be deleted by supervisor, admin; you have none of these roles',
  );
  e.accepts(t, tombstone(old), old, sam);
  e.accepts(t, tombstone(old), old, server);
});
