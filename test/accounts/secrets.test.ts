import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';

t.test('no password, token, hash or salt is ever logged or answered', async (t) => {
  const lines: string[] = [];
  const s = await setup(t, {
    env: { LOG_LEVEL: 'trace' },
    logs: { write: (line) => void lines.push(line) },
  });
  const password = 'SECRET-pw-4242';
  const amina = unique('amina');
  const up = await s.call('POST', '/auth/signup', { username: amina, password });
  await s.call('POST', '/auth/login', { username: amina, password: 'SECRET-wrong-99' });
  await s.call('POST', '/auth/login', { username: 'ghost', password });
  const r = await s.call('POST', '/auth/refresh', { refresh_token: up.body.refresh_token });
  await s.call('POST', '/auth/refresh', { refresh_token: up.body.refresh_token });
  await s.call('GET', '/me', undefined, r.body.access_token);
  await s.call(
    'POST',
    '/auth/logout',
    { refresh_token: r.body.refresh_token },
    r.body.access_token,
  );
  await s.call('POST', '/auth/login', { username: 'Amina', password });

  // CouchDB failing mid-request: a 503 without details, and a log line without the body.
  await s.admin('DELETE', `/${s.svc.config.ACCOUNTS_DB}`);
  const down = await s.call('POST', '/auth/login', { username: amina, password });
  t.equal(down.status, 503);
  t.same(down.body, {
    statusCode: 503,
    code: 'SAWA_COUCH_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'the database is unavailable: retry later',
  });

  const stored = await s.admin('GET', '/_all_dbs');
  t.ok(stored.status === 200);
  const log = lines.join('');
  t.ok(lines.length > 10, `${lines.length} log lines`);
  t.match(log, /CouchDB request failed/, 'the failure was logged');
  const secrets = [
    password,
    'SECRET-wrong-99',
    up.body.refresh_token,
    up.body.access_token,
    r.body.refresh_token,
    r.body.access_token,
  ];
  for (const secret of secrets)
    t.notOk(log.includes(secret), `not logged: ${secret.slice(0, 12)}…`);
  for (const word of ['"salt"', '"hash"', 'secret_sha256', 'scrypt'])
    t.notOk(log.includes(word), `no ${word} in the logs`);
  for (const res of [up, r])
    t.notOk(JSON.stringify(res.body).match(/salt|secret_sha256|scrypt|uid/), 'nor in answers');
});
