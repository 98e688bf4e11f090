import t from 'tap';
import { loadConfig, ConfigError } from '../../server/config.js';
import { accountsService } from '../accounts/helper.js';
import { testCouch } from '../helpers/store.js';

const APP = 'capacitor://localhost';

async function preflight(url: string, path: string, origin: string, method = 'POST') {
  return fetch(url + path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,content-type,content-encoding,x-sawa-device',
    },
  });
}

t.test('CORS for the origins configured, and only those', async (t) => {
  const store = await testCouch(t);
  const on = await accountsService(t, store, {
    env: { CORS_ORIGINS: `${APP}, http://localhost:8100` },
  });
  const paths: Array<[string, string]> = [
    ['/auth/login', 'POST'],
    ['/auth/signup', 'POST'],
    ['/auth/refresh', 'POST'],
    ['/me', 'GET'],
    ['/me/password', 'POST'],
    ['/sync/userdb-616d696e61/_changes', 'GET'],
    ['/sync/userdb-616d696e61/_bulk_docs', 'POST'],
    ['/sync/userdb-616d696e61/doc-1', 'PUT'],
    ['/reports/payments', 'GET'],
    ['/admin/invites', 'POST'],
  ];
  for (const [path, method] of paths) {
    const res = await preflight(on.url, path, APP, method);
    t.equal(res.status, 204, `${method} ${path}`);
    t.equal(res.headers.get('access-control-allow-origin'), APP, path);
    t.match(res.headers.get('access-control-allow-methods'), method, path);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'content-encoding', 'x-sawa-device'])
      t.ok(allowed.includes(h), `${path} allows ${h}`);
    t.ok(Number(res.headers.get('access-control-max-age')) > 0, 'preflights are cached');
  }

  const real = await fetch(`${on.url}/auth/login`, {
    method: 'POST',
    headers: { origin: APP, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
  });
  t.equal(real.status, 401);
  t.equal(real.headers.get('access-control-allow-origin'), APP);
  t.match(real.headers.get('access-control-expose-headers'), /WWW-Authenticate/);
  t.match(real.headers.get('access-control-expose-headers'), /Retry-After/);
  t.equal(
    real.headers.get('access-control-allow-credentials'),
    'true',
    "PouchDB fetches with credentials: 'include'",
  );

  const stranger = await preflight(on.url, '/auth/login', 'https://evil.example');
  t.equal(stranger.headers.get('access-control-allow-origin'), null, 'another origin gets nothing');

  // The new routes are in OpenAPI, with their bodies.
  const spec = await (await fetch(`${on.url}/docs/json`)).json();
  const ops: Array<[string, string]> = [
    ['/admin/invites', 'post'],
    ['/admin/invites', 'get'],
    ['/admin/invites/{id}', 'delete'],
    ['/admin/users/import', 'post'],
    ['/admin/users/{name}/password', 'post'],
    ['/me/password', 'post'],
  ];
  for (const [path, method] of ops) t.ok(spec.paths[path]?.[method], `OpenAPI ${method} ${path}`);
  t.ok(
    spec.paths['/admin/users/import'].post.requestBody.content['text/csv'],
    'the import documents CSV',
  );
  t.ok(
    spec.paths['/auth/signup'].post.requestBody.content['application/json'].schema.properties
      .invite,
    'signup documents invite',
  );

  const off = await accountsService(t, store);
  const none = await preflight(off.url, '/auth/login', APP);
  t.equal(none.headers.get('access-control-allow-origin'), null, 'no origins by default');
});

t.test('CORS_ORIGINS values are checked at start-up', async (t) => {
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', CORS_ORIGINS: '*', JWT_SECRET: 'x'.repeat(40) }),
    ConfigError,
    '* is refused in production',
  );
  t.doesNotThrow(() => loadConfig({ NODE_ENV: 'development', CORS_ORIGINS: '*' }));
  for (const bad of ['https://app.example.org/', 'app.example.org', 'https://a.org/path']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }), ConfigError, bad);
  }
  t.doesNotThrow(() =>
    loadConfig({ CORS_ORIGINS: 'capacitor://localhost, ionic://localhost, http://localhost:8100' }),
  );
});
