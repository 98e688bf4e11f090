import t from 'tap';
import { setup } from './helper.js';
t.test('smoke', async (t) => {
  const s = await setup(t);
  const r = await s.call('POST', '/auth/signup', { username: 'amina', password: 'password123' });
  console.log(r.status, r.body);
  const me = await s.call('GET', '/me', undefined, r.body.access_token);
  console.log(me.status, me.body);
  const sec = await s.admin('GET', '/' + r.body.dbs.user + '/_security');
  console.log(sec.status, sec.body);
  const dd = await s.admin('GET', '/' + r.body.dbs.user + '/_design/sawa');
  console.log(dd.status, Object.keys(dd.body ?? {}));
});
