import t from 'tap';
import {
  PasswordError,
  VerifiedCache,
  hashPassword,
  pbkdf2Hex,
  simpleHash,
  verifyPassword,
} from '../../server/store/auth/passwords.js';
import { CouchError } from '../../server/store/errors.js';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

t.test(
  'PBKDF2-HMAC-SHA1: RFC 6070 vectors, as couch_passwords_tests.erl checks them',
  async (t) => {
    t.equal(
      await pbkdf2Hex('password', 'salt', 1, 'sha'),
      '0c60c80f961f0e71f3a9b524af6012062fe037a6',
    );
    t.equal(
      await pbkdf2Hex('password', 'salt', 2, 'sha'),
      'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957',
    );
    t.equal(
      await pbkdf2Hex('password', 'salt', 4096, 'sha'),
      '4b007901b765489abead49d926f721d065a429c1',
    );
    t.equal(
      await pbkdf2Hex(
        'passwordPASSWORDpassword',
        'saltSALTsaltSALTsaltSALTsaltSALTsalt',
        4096,
        'sha',
        25,
      ),
      '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038',
    );
    t.equal(
      await pbkdf2Hex('pass\0word', 'sa\0lt', 4096, 'sha', 16),
      '56fa6aa75548099dcc37d7f03425e0c3',
    );
  },
);

t.test('PBKDF2-HMAC-SHA256: published vectors; the key is as long as the digest', async (t) => {
  t.equal(
    await pbkdf2Hex('password', 'salt', 1, 'sha256'),
    '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b',
  );
  t.equal(
    await pbkdf2Hex('password', 'salt', 4096, 'sha256'),
    'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a',
  );
  // RFC 7914 section 11.
  t.equal(
    await pbkdf2Hex('passwd', 'salt', 1, 'sha256', 64),
    '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc' +
      '49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783',
  );
});

t.test('the legacy simple scheme is SHA-1 of password then salt (FIPS 180 "abc")', async (t) => {
  t.equal(simpleHash('ab', 'c'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  t.ok(
    await verifyPassword('ab', {
      password_sha: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      salt: 'c',
    }),
  );
  t.ok(
    await verifyPassword('ab', {
      password_scheme: 'simple',
      password_sha: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      salt: 'c',
    }),
  );
  t.ok(
    await verifyPassword('abc', { password_sha: 'a9993e364706816aba3e25717850c26c9cd0d89d' }),
    'no salt: the empty salt',
  );
  t.notOk(
    await verifyPassword('ab', {
      password_sha: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      salt: 'd',
    }),
  );
  t.notOk(await verifyPassword('ab', { salt: 'c' }), 'no password_sha: nothing verifies');
});

t.test('user documents and admin hashes from the CouchDB documentation verify', async (t) => {
  // intro/security.rst: user "jan", password "apple", stored by CouchDB before 3.4 (SHA-1, 10 iterations).
  const jan = {
    _id: 'org.couchdb.user:jan',
    _rev: '1-e0ebfb84005b920488fc7a8cc5470cc0',
    derived_key: 'e579375db0e0c6a6fc79cd9e36a36859f71575c3',
    iterations: 10,
    name: 'jan',
    password_scheme: 'pbkdf2',
    roles: [],
    salt: '1112283cf988a34f124200a050d308a1',
    type: 'user',
  };
  t.ok(await verifyPassword('apple', jan));
  t.notOk(await verifyPassword('orange', jan));
  // The same document's [admins] forms: "-pbkdf2-KEY,SALT,10".
  t.ok(
    await verifyPassword('password', {
      password_scheme: 'pbkdf2',
      derived_key: '71c01cb429088ac1a1e95f3482202622dc1e53fe',
      salt: '226701bece4ae0fc9a373a5e02bf5d07',
      iterations: 10,
    }),
  );
  t.ok(
    await verifyPassword('secret', {
      password_scheme: 'pbkdf2',
      derived_key: '2d86831c82b440b8887169bd2eebb356821d621b',
      salt: '5e11b9a9228414ab92541beeeacbf125',
      iterations: 10,
    }),
  );
});

t.test('hashPassword writes what CouchDB 3.4 writes', async (t) => {
  const h = await hashPassword('s3cret', { iterations: 10 });
  t.equal(h.password_scheme, 'pbkdf2');
  t.equal(h.pbkdf2_prf, 'sha256');
  t.equal(h.iterations, 10);
  t.match(h.salt, /^[0-9a-f]{32}$/, 'salt: 16 random bytes as hex');
  t.match(h.derived_key, /^[0-9a-f]{64}$/, 'sha256 key: 32 bytes as hex');
  t.equal(h.derived_key, await pbkdf2Hex('s3cret', h.salt, 10, 'sha256'), 'salt used as its text');
  t.same(Object.keys(h).sort(), [
    'derived_key',
    'iterations',
    'password_scheme',
    'pbkdf2_prf',
    'salt',
  ]);
  t.ok(await verifyPassword('s3cret', h));
  t.notOk(await verifyPassword('S3cret', h));

  const again = await hashPassword('s3cret', { iterations: 10 });
  t.not(again.salt, h.salt, 'a new salt every time');

  const sha1 = await hashPassword('s3cret', { iterations: 10, prf: 'sha1' });
  t.equal(sha1.pbkdf2_prf, 'sha', 'SHA-1 is named as CouchDB names it');
  t.match(sha1.derived_key, /^[0-9a-f]{40}$/);
  t.ok(await verifyPassword('s3cret', sha1));

  const salted = await hashPassword('password', { iterations: 1, salt: 'salt' });
  t.equal(salted.salt, 'salt', 'a given salt is kept');
  t.equal(salted.derived_key, '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b');
  await t.rejects(hashPassword('x', { iterations: 0 }), RangeError);
});

t.test('pbkdf2 documents: defaults and refusals as couch_httpd_auth', async (t) => {
  const key10000 = await pbkdf2Hex('pw', 'NaCl', 10000, 'sha');
  t.ok(
    await verifyPassword('pw', { password_scheme: 'pbkdf2', salt: 'NaCl', derived_key: key10000 }),
    'no iterations: 10000; no pbkdf2_prf: SHA-1',
  );
  const key512 = await pbkdf2Hex('pw', 'NaCl', 3, 'sha512');
  t.equal(key512.length, 128);
  t.ok(
    await verifyPassword('pw', {
      password_scheme: 'pbkdf2',
      pbkdf2_prf: 'sha512',
      salt: 'NaCl',
      iterations: 3,
      derived_key: key512,
    }),
  );
  const doc = {
    password_scheme: 'pbkdf2',
    salt: 'NaCl',
    iterations: 3,
    derived_key: await pbkdf2Hex('pw', 'NaCl', 3, 'sha'),
  };
  t.notOk(
    await verifyPassword('pw', { ...doc, derived_key: doc.derived_key.toUpperCase() }),
    'hex compared as text',
  );
  t.notOk(await verifyPassword('pw', { ...doc, derived_key: undefined }));
  t.notOk(await verifyPassword('pw', { ...doc, iterations: '3' }));
  t.notOk(await verifyPassword('pw', { ...doc, password_scheme: 'bcrypt' }));
  t.notOk(await verifyPassword('pw', { ...doc, salt: 7 }));

  t.match(await failure(verifyPassword('pw', { ...doc, pbkdf2_prf: 'md5' })), {
    status: 403,
    error: 'forbidden',
    reason: 'PRF is invalid',
  });
  t.match(await failure(verifyPassword('pw', doc, { minIterations: 4 })), {
    reason: 'Iteration count is too low for this server',
  });
  t.match(await failure(verifyPassword('pw', doc, { maxIterations: 2 })), {
    reason: 'Iteration count is too high for this server',
  });
  const err = await verifyPassword('pw', { ...doc, pbkdf2_prf: 'md5' }).catch((e: unknown) => e);
  t.ok(err instanceof PasswordError && err instanceof CouchError);
});

t.test('hashing runs off the event loop', async (t) => {
  let ticked = false;
  setImmediate(() => {
    ticked = true;
  });
  const pending = hashPassword('pw', { iterations: 200_000 });
  t.ok(pending instanceof Promise);
  await pending;
  t.ok(ticked, 'the event loop turned while PBKDF2 ran');
});

t.test('VerifiedCache remembers a verified password per user document revision', async (t) => {
  const cache = new VerifiedCache();
  const hashed = await hashPassword('pw', { iterations: 5 });
  const doc = { _id: 'org.couchdb.user:bob', _rev: '1-a', name: 'bob', ...hashed };

  t.equal(cache.check('bob', '1-a', 'pw'), undefined, 'nothing known at first');
  t.ok(await verifyPassword('pw', doc, { cache }));
  t.equal(cache.size, 1);
  t.equal(cache.check('bob', '1-a', 'pw'), true);
  t.equal(cache.check('bob', '1-a', 'wrong'), false, 'one revision, one password');

  // Same revision: the cache answers without looking at the (here broken) hash.
  const broken = { ...doc, derived_key: 'not-a-key' };
  t.ok(await verifyPassword('pw', broken, { cache }));
  t.notOk(await verifyPassword('nope', broken, { cache }));
  // A new revision is a new key: the real check runs again.
  t.notOk(await verifyPassword('pw', { ...broken, _rev: '2-b' }, { cache }));
  t.equal(cache.check('bob', '2-b', 'pw'), undefined, 'failures are not remembered');

  const noRev = { ...hashed, name: 'admin' };
  t.ok(
    await verifyPassword('pw', noRev, { cache }),
    'documents without _rev are checked, not cached',
  );
  t.equal(cache.size, 1);
});

t.test('VerifiedCache is a bounded LRU', async (t) => {
  const cache = new VerifiedCache(2);
  cache.remember('a', '1', 'pa');
  cache.remember('b', '1', 'pb');
  t.equal(cache.check('a', '1', 'pa'), true, 'touching a makes b the oldest');
  cache.remember('c', '1', 'pc');
  t.equal(cache.size, 2);
  t.equal(cache.check('b', '1', 'pb'), undefined, 'b evicted');
  t.equal(cache.check('a', '1', 'pa'), true);
  t.equal(cache.check('c', '1', 'pc'), true);
  t.equal(cache.check('a:1', '', 'pa'), undefined, 'name and rev cannot run into each other');
  cache.clear();
  t.equal(cache.size, 0);
  t.throws(() => new VerifiedCache(0), RangeError);
});
