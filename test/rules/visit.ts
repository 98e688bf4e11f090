import t from 'tap';
import { engines } from './fixtures/engines.js';
import { alice, bob, edited, sam, server, stored, tombstone, visit } from './fixtures/docs.js';

const e = await engines();
t.teardown(() => e.dispose());

t.test('valid visits are accepted', async (t) => {
  e.accepts(t, visit(), null, alice);
  e.accepts(
    t,
    visit({ notes: 'n'.repeat(2000), location: { lat: -8.9, lon: 33.45 }, activity: 'follow-up' }),
    null,
    alice,
    'team',
  );
  for (const activity of ['training', 'input-distribution', 'follow-up', 'survey']) {
    e.accepts(t, visit({ activity }), null, alice);
  }
});

t.test('field rules', async (t) => {
  e.refuses(
    t,
    visit({ activity: 'dance' }),
    null,
    alice,
    'visit.activity must be one of training, input-distribution, follow-up, survey',
  );
  e.refuses(
    t,
    visit({ notes: 'n'.repeat(2001) }),
    null,
    alice,
    'visit.notes must be at most 2000 characters',
  );
  e.refuses(
    t,
    visit({ visited_at: '2023-02-29T08:00:00+03:00' }),
    null,
    alice,
    /^visit\.visited_at must be an ISO 8601 date-time/,
  );
  e.refuses(t, visit({ farmer_id: '' }), null, alice, 'visit.farmer_id must not be empty');
  const { farmer_id: _f, ...noFarmer } = visit();
  e.refuses(t, noFarmer, null, alice, 'visit.farmer_id is required');
});

t.test('location must be inside Tanzania', async (t) => {
  // Kampala is north of the box, Lusaka south-west of it.
  e.refuses(
    t,
    visit({ location: { lat: 0.35, lon: 32.58 } }),
    null,
    alice,
    /^visit\.location\.lat must be a latitude inside Tanzania/,
  );
  e.refuses(
    t,
    visit({ location: { lat: -15.4, lon: 28.3 } }),
    null,
    alice,
    /^visit\.location\.lat must be a latitude inside Tanzania \(-11\.8 to -0\.95\); visit\.location\.lon must be a longitude inside Tanzania \(29\.3 to 40\.5\)$/,
  );
  e.refuses(t, visit({ location: { lat: -6.8 } }), null, alice, 'visit.location.lon is required');
  e.refuses(
    t,
    visit({ location: { lat: -6.8, lon: 39.3, alt: 5 } }),
    null,
    alice,
    'visit.location.alt is not an allowed field',
  );
  e.refuses(t, visit({ location: '-6.8,39.3' }), null, alice, 'visit.location must be an object');
});

t.test('append-only: never changed once written, by anyone', async (t) => {
  const old = stored(visit());
  const reason = 'visit documents cannot be changed once written';
  e.refuses(t, edited(old, { notes: 'more' }), old, alice, reason);
  e.refuses(t, edited(old, { notes: 'more' }), old, sam, reason);
  e.refuses(t, edited(old, { notes: 'more' }), old, server, reason);
});

t.test('deletes', async (t) => {
  const old = stored(visit());
  e.refuses(
    t,
    tombstone(old),
    old,
    alice,
    'visit documents can be deleted by supervisor, admin; you have none of these roles',
  );
  e.refuses(
    t,
    tombstone(old),
    old,
    bob,
    'visit documents can be deleted by supervisor, admin; you have none of these roles',
  );
  e.accepts(t, tombstone(old), old, sam);
});
