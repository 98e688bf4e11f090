import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';

t.test('guessing at a name blocks the guesser, never the owner on another address', async (t) => {
  const s = await setup(t, {
    env: { AUTH_RATE_LIMIT_PER_MIN: '5', AUTH_IP_RATE_LIMIT_PER_MIN: '50' },
  });
  const amina = (await s.user(unique('amina'), ['agent'], 'the-right-password')).name;
  const attempt = (address: string, username: string, password: string) =>
    s.svc.app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: address,
      payload: { username, password },
    });

  // Five wrong passwords from one address: that address waits for that name.
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++)
    statuses.push((await attempt('10.0.0.66', amina, `guess-${i}`)).statusCode);
  t.same(statuses, [401, 401, 401, 401, 401, 429]);
  const limited = await attempt('10.0.0.66', amina, 'the-right-password');
  t.equal(limited.statusCode, 429, 'even the right password waits on the guessing address');
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
  const body = limited.json() as { code: string; message: string };
  t.equal(body.code, 'SAWA_RATE_LIMITED');
  t.match(body.message, /too many attempts: retry in \d+ seconds/);

  // The owner, elsewhere, is not locked out (before: 429 from every address for a minute).
  t.equal((await attempt('10.0.0.7', amina, 'the-right-password')).statusCode, 200);
  t.equal(
    (await attempt('10.0.0.8', amina, 'one-wrong-guess')).statusCode,
    401,
    'another address gets its own count',
  );
});

t.test('signing up over an existing name with a wrong password counts as a guess', async (t) => {
  const s = await setup(t, {
    env: { AUTH_RATE_LIMIT_PER_MIN: '3', AUTH_IP_RATE_LIMIT_PER_MIN: '50' },
  });
  const neema = (await s.user(unique('neema'), ['agent'], 'the-right-password')).name;
  const signup = (password: string) =>
    s.svc.app.inject({
      method: 'POST',
      url: '/auth/signup',
      remoteAddress: '10.1.0.1',
      payload: { username: neema, password },
    });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await signup(`guess-${i}-long`)).statusCode);
  t.same(statuses, [409, 409, 409, 429]);
  const login = await s.svc.app.inject({
    method: 'POST',
    url: '/auth/login',
    remoteAddress: '10.1.0.1',
    payload: { username: 'other-name', password: 'whatever-it-is' },
  });
  t.equal(login.statusCode, 401, 'the address is not blocked for other names');
});

t.test('the IP limit covers junk and signups too', async (t) => {
  const newbie = unique('newbie');
  const s = await setup(t, { env: { AUTH_IP_RATE_LIMIT_PER_MIN: '5' } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++)
    statuses.push(
      (await s.call('POST', '/auth/login', { username: `user${i}`, password: 'x' })).status,
    );
  statuses.push((await s.call('POST', '/auth/login', { nonsense: true })).status);
  statuses.push(
    (await s.call('POST', '/auth/signup', { username: newbie, password: 'password123' })).status,
  );
  statuses.push(
    (await s.call('POST', '/auth/signup', { username: `${newbie}2`, password: 'password123' }))
      .status,
  );
  statuses.push(
    (await s.call('POST', '/auth/login', { username: newbie, password: 'password123' })).status,
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
