import t from 'tap';
import { phone, remote } from '../helpers/phones.js';
import { setup } from './helper.js';

/** The promise, end to end: sign an agent up, log in, point a stock PouchDB at Sawa. */
t.test('a field agent signs up and a stock PouchDB syncs through the gateway', async (t) => {
  const s = await setup(t, { syncWriteIntervalMs: 10 });
  const signup = await s.call('POST', '/auth/signup', {
    username: '+255712345678',
    password: 'habari-yako',
  });
  t.equal(signup.status, 201);
  const { access_token, dbs } = signup.body;
  const local = phone();
  const server = remote(`${s.svc.url}/sync/${dbs.user}`, () => ({
    authorization: `Bearer ${access_token}`,
  }));
  const now = new Date().toISOString();
  await local.put({
    _id: 'farmer-1',
    type: 'farmer',
    owner: '+255712345678',
    created_at: now,
    updated_at: now,
    name: 'Bibi Rehema',
    village: 'Usa River',
    district: 'Arumeru',
  });
  const push = await local.replicate.to(server);
  t.equal(push.docs_written, 1);
  const stored = await s.admin('GET', `/${dbs.user}/farmer-1`);
  t.equal(stored.status, 200, 'the document reached CouchDB');
  t.equal(stored.body.name, 'Bibi Rehema');
  const other = phone();
  const pull = await other.replicate.from(server);
  t.equal(pull.ok, true);
  t.equal(
    (await other.get('farmer-1')).name,
    'Bibi Rehema',
    'a second phone of the same agent pulls it',
  );

  await s.accounts.flushSyncTimes();
  const me = await s.call('GET', '/me', undefined, access_token);
  t.ok(me.body.last_push_at, 'the push was recorded');
  t.ok(me.body.last_pull_at, 'the pull was recorded');
});
