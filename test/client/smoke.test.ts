import t from 'tap';
import { gateway } from '../gateway/helper.js';
import { unique } from '../helpers/fixtures.js';
import { phoneClient, visit } from './helper.js';

t.test('smoke', async (t) => {
  const gw = await gateway(t);
  const name = unique('amina');
  const a = phoneClient(gw.url);
  await a.signup(name, 'habari-za-asubuhi');
  t.equal(a.state, 'idle');
  for (let i = 0; i < 5; i++) await a.databases.user.put(visit(name));
  const r1 = await a.syncOnce();
  t.match(r1, { pushed: 5, rejected: [], complete: true });
  const b = phoneClient(gw.url);
  await b.login(name, 'habari-za-asubuhi');
  const r2 = await b.syncOnce();
  t.match(r2, { pulled: 5, pushed: 0 });
  const r3 = await b.syncOnce();
  t.match(r3, { pulled: 0, pushed: 0 });
  console.log(r1, r2, r3);
});
