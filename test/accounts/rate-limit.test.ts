import t from 'tap';
import { setup } from './helper.js';

t.test('login is limited per user name, whatever the address', async (t) => {
  const s = await setup(t, { env: { AUTH_RATE_LIMIT_PER_MIN: '5' } });
  // inject lets each attempt come from its own address, so only the name limit applies.
  let n = 0;
  const attempt = (username: string) =>
    s.svc.app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: `10.0.0.${++n}`,
      payload: { username, password: 'guess-guess' },
    });

  // Five guesses at one name from five addresses, then 429; other names still get answers.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await attempt('amina')).statusCode);
  t.same(statuses, [401, 401, 401, 401, 401, 429]);
  t.equal((await attempt('baraka')).statusCode, 401, 'another name is not limited');
  const limited = await attempt('amina');
  t.equal(limited.statusCode, 429);
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
  const body = limited.json() as { code: string; message: string };
  t.equal(body.code, 'SAWA_RATE_LIMITED');
  t.match(body.message, /too many attempts: retry in \d+ seconds/);
});

t.test('the IP limit covers junk and signups too', async (t) => {
  const s = await setup(t, { env: { AUTH_RATE_LIMIT_PER_MIN: '5' } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++)
    statuses.push(
      (await s.call('POST', '/auth/login', { username: `user${i}`, password: 'x' })).status,
    );
  statuses.push((await s.call('POST', '/auth/login', { nonsense: true })).status);
  statuses.push(
    (await s.call('POST', '/auth/signup', { username: 'newbie', password: 'password123' })).status,
  );
  statuses.push(
    (await s.call('POST', '/auth/signup', { username: 'newbie2', password: 'password123' })).status,
  );
  statuses.push(
    (await s.call('POST', '/auth/login', { username: 'newbie', password: 'password123' })).status,
  );
  t.same(
    statuses,
    [401, 401, 401, 400, 201, 429, 429],
    'six requests from one IP: the sixth and later wait',
  );
  t.equal(
    (await s.call('POST', '/auth/refresh', { refresh_token: 'x' })).status,
    401,
    'refresh is not counted against logins',
  );
});
