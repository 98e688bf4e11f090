import t from 'tap';
import { testCouch, couch } from '../helpers/store.js';
import { testService } from '../helpers/service.js';
import { unique } from '../helpers/fixtures.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The service exactly as production builds it (scrypt N=2^15): a wrong password and an
 * unknown user take the same time, so timing does not tell which names exist.
 */
t.test('at production cost, unknown users and wrong passwords take the same time', async (t) => {
  const store = await testCouch(t);
  const amina = unique('amina');
  const svc = await testService(t, store, {
    AUTH_RATE_LIMIT_PER_MIN: '1000',
    AUTH_IP_RATE_LIMIT_PER_MIN: '1000',
  });
  const call = (path: string, body: unknown) => couch(svc.url, 'POST', path, { body });
  const up = await call('/auth/signup', { username: amina, password: 'password123' });
  t.equal(up.status, 201);
  const doc = await couch(store.url, 'GET', `/${svc.config.ACCOUNTS_DB}/user:${amina}`, {
    auth: store.adminAuth,
  });
  t.match(doc.body.password, { N: 32768, r: 8, p: 1 });

  const time = async (body: unknown, status: number) => {
    const started = performance.now();
    const res = await call('/auth/login', body);
    t.equal(res.status, status);
    return performance.now() - started;
  };
  await time({ username: 'ghost', password: 'x' }, 401); // warm the dummy hash
  const wrong: number[] = [];
  const unknown: number[] = [];
  const right: number[] = [];
  for (let i = 0; i < 7; i++) {
    wrong.push(await time({ username: amina, password: 'wrong-password' }, 401));
    unknown.push(await time({ username: `ghost${i}`, password: 'wrong-password' }, 401));
    right.push(await time({ username: amina, password: 'password123' }, 200));
  }
  const [w, u, r] = [median(wrong), median(unknown), median(right)];
  t.comment(
    `login medians: right ${r.toFixed(1)} ms, wrong password ${w.toFixed(1)} ms, unknown user ${u.toFixed(1)} ms`,
  );
  t.ok(u > 10 && w > 10, 'both do the scrypt work');
  t.ok(Math.abs(w - u) < 0.5 * Math.max(w, u), 'within the noise of each other');
});
