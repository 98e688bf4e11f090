import t from 'tap';
import { BasicAuthError, parseBasicAuth } from '../../server/store/auth/basic.js';
import { CouchError } from '../../server/store/errors.js';

const basic = (text: string) => 'Basic ' + Buffer.from(text, 'utf8').toString('base64');

t.test('headers from the CouchDB documentation and test suite', async (t) => {
  t.same(parseBasicAuth('Basic cm9vdDpyZWxheA=='), { name: 'root', password: 'relax' });
  t.same(parseBasicAuth('Basic Y291Y2hAYXBhY2hlLm9yZzp0ZXN0'), {
    name: 'couch@apache.org',
    password: 'test',
  });
});

t.test('the password is everything after the first colon, in UTF-8', async (t) => {
  t.same(parseBasicAuth(basic('bob:a:b::c')), { name: 'bob', password: 'a:b::c' });
  t.same(parseBasicAuth(basic('bob:')), { name: 'bob', password: '' });
  t.same(parseBasicAuth(basic(':pw')), { name: '', password: 'pw' });
  t.same(parseBasicAuth(basic('Zawadi Mwangâ:kahawa☕')), {
    name: 'Zawadi Mwangâ',
    password: 'kahawa☕',
  });
  t.same(parseBasicAuth([basic('a:b'), basic('c:d')]), { name: 'a', password: 'b' });
});

t.test('nothing to try: null, and the request goes on unauthenticated', async (t) => {
  t.equal(parseBasicAuth(undefined), null);
  t.equal(parseBasicAuth(''), null);
  t.equal(parseBasicAuth('Bearer abc.def.ghi'), null);
  t.equal(
    parseBasicAuth('basic ' + Buffer.from('a:b').toString('base64')),
    null,
    'CouchDB matches "Basic " exactly',
  );
  t.equal(parseBasicAuth(basic('no-colon-here')), null);
  t.equal(parseBasicAuth(basic('_:_')), null, "CouchDB's logout pair");
  t.same(parseBasicAuth(basic('_:__')), { name: '_', password: '__' });
});

t.test('base64 that does not decode is a 400, as in CouchDB', async (t) => {
  for (const bad of [
    'Basic !!!!',
    'Basic cm9v*DpyZWxheA==',
    'Basic a',
    'Basic cm9vdDpyZWxheA===',
  ]) {
    const err = (() => {
      try {
        parseBasicAuth(bad);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    t.ok(err instanceof BasicAuthError && err instanceof CouchError, bad);
    t.match(err, {
      status: 400,
      error: 'bad_request',
      reason: 'Authorization header has invalid base64 value',
    });
  }
  t.same(parseBasicAuth('Basic cm9vdDpyZWxheA'), { name: 'root', password: 'relax' }, 'unpadded');
  t.same(
    parseBasicAuth('Basic cm9vdDpy ZWxheA=='),
    { name: 'root', password: 'relax' },
    'spaces skipped',
  );
});

t.test('credentials that are not UTF-8 can match no user: 401', async (t) => {
  const latin1 = 'Basic ' + Buffer.from('j\xfcri:pw', 'latin1').toString('base64');
  let err: unknown;
  try {
    parseBasicAuth(latin1);
  } catch (e) {
    err = e;
  }
  t.match(err, {
    status: 401,
    error: 'unauthorized',
    reason: 'Name or password is incorrect.',
  });
});
