import { createHmac } from 'node:crypto';
import t from 'tap';
import {
  ProxyAuthError,
  proxyAuthHeaders,
  proxyToken,
  readProxyAuth,
} from '../../server/store/auth/proxy.js';
import { CouchError } from '../../server/store/errors.js';

const secret = 'the_secret';
const sha1Token = (name: string, key: string) => createHmac('sha1', key).update(name).digest('hex');

t.test('the documented token and request (api/server/authn.rst)', async (t) => {
  // echo -n "foo" | openssl dgst -sha256 -hmac "the_secret"
  t.equal(
    proxyToken('foo', secret),
    '3f0786e96b20b0102b77f1a49c041be6977cfb3bf78c41a12adc121cd9b4e68a',
  );
  const headers = {
    'x-auth-couchdb-roles': 'users,blogger',
    'x-auth-couchdb-username': 'foo',
    'x-auth-couchdb-token': '3f0786e96b20b0102b77f1a49c041be6977cfb3bf78c41a12adc121cd9b4e68a',
  };
  t.same(readProxyAuth(headers, secret), { name: 'foo', roles: ['users', 'blogger'] });
});

t.test(
  'SHA-1 tokens (CouchDB before 3.3.2, still accepted by its default hash_algorithms)',
  async (t) => {
    const headers = {
      'X-Auth-CouchDB-UserName': 'couch@apache.org',
      'X-Auth-CouchDB-Roles': 'test',
      'X-Auth-CouchDB-Token': sha1Token('couch@apache.org', secret),
    };
    t.same(
      readProxyAuth(headers, secret),
      { name: 'couch@apache.org', roles: ['test'] },
      'header names in any case',
    );
  },
);

t.test('no proxy headers, or no secret: proxy authentication does not apply', async (t) => {
  t.equal(readProxyAuth({}, secret), null);
  t.equal(
    readProxyAuth({ 'x-auth-couchdb-roles': '_admin' }, secret),
    null,
    'roles alone are nothing',
  );
  t.equal(readProxyAuth({ 'x-auth-couchdb-username': '' }, secret), null);
  const signed = {
    'x-auth-couchdb-username': 'foo',
    'x-auth-couchdb-token': proxyToken('foo', secret),
  };
  t.equal(readProxyAuth(signed, undefined), null, 'unsigned trust is never on');
  t.equal(readProxyAuth(signed, ''), null);
});

t.test(
  'a missing or wrong token proves nothing (CouchDB falls through to the next method)',
  async (t) => {
    const name = { 'x-auth-couchdb-username': 'foo', 'x-auth-couchdb-roles': '_admin' };
    const cases: Record<string, Record<string, string>> = {
      missing: name,
      wrong: { ...name, 'x-auth-couchdb-token': proxyToken('foo', 'other secret') },
      'for another name': { ...name, 'x-auth-couchdb-token': proxyToken('bar', secret) },
      'upper-case hex': {
        ...name,
        'x-auth-couchdb-token': proxyToken('foo', secret).toUpperCase(),
      },
      truncated: { ...name, 'x-auth-couchdb-token': proxyToken('foo', secret).slice(0, 40) },
      empty: { ...name, 'x-auth-couchdb-token': '' },
    };
    for (const [label, headers] of Object.entries(cases)) {
      t.equal(readProxyAuth(headers, secret), null, label);
      const err = (() => {
        try {
          readProxyAuth(headers, secret, { rejectBadToken: true });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      t.ok(
        err instanceof ProxyAuthError && err instanceof CouchError,
        `${label}: rejected when asked`,
      );
      t.match(err, { status: 401, error: 'unauthorized' });
    }
  },
);

t.test('roles are split as CouchDB 3.3+ splits them', async (t) => {
  const as = (roles: string | undefined) =>
    readProxyAuth(
      {
        'x-auth-couchdb-username': 'foo',
        'x-auth-couchdb-token': proxyToken('foo', secret),
        ...(roles === undefined ? {} : { 'x-auth-couchdb-roles': roles }),
      },
      secret,
    )?.roles;
  t.same(as(undefined), []);
  t.same(as(''), []);
  t.same(as('a'), ['a']);
  t.same(as('a, b ,c'), ['a', 'b', 'c']);
  t.same(as('a,,b'), ['a', '', 'b']);
  t.same(as('a,'), ['a']);
  t.same(as(' a'), [' a']);
  t.same(as('_admin'), ['_admin'], 'the signed proxy is trusted with server-admin rights');
});

t.test('non-ASCII names travel as UTF-8 bytes and verify', async (t) => {
  const headers = proxyAuthHeaders({
    name: 'Zawadi Mwangâ',
    roles: ['mhudumu', 'kanda-ya-ziwa'],
    secret,
  });
  t.equal(headers['X-Auth-CouchDB-Token'], proxyToken('Zawadi Mwangâ', secret));
  // What Node's HTTP parser hands over: each byte one latin1 char.
  t.notMatch(headers['X-Auth-CouchDB-UserName'] ?? '', /[^\u0000-\u00ff]/);
  t.same(readProxyAuth(headers, secret), {
    name: 'Zawadi Mwangâ',
    roles: ['mhudumu', 'kanda-ya-ziwa'],
  });
  // What an in-process caller (inject) may pass: the text itself.
  const inProcess = {
    'x-auth-couchdb-username': 'Ωmega',
    'x-auth-couchdb-token': proxyToken('Ωmega', secret),
  };
  t.same(readProxyAuth(inProcess, secret), { name: 'Ωmega', roles: [] });
});
