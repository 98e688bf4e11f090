import t from 'tap';
import { verifyPassword } from '../../server/store/auth/passwords.js';
import { anonymous, type UserCtx } from '../../server/store/user-ctx.js';
import {
  USERS_DB,
  UsersDbError,
  filterUserDocRead,
  notServerAdmin,
  prepareUserDocWrite,
  requiresServerAdmin,
  securityNotEditable,
  userDocId,
  userNameFromId,
  type UserDoc,
  type UsersWriteOptions,
} from '../../server/store/auth/users-db.js';
import { CouchError } from '../../server/store/errors.js';

const admin: UserCtx = { name: 'jan', roles: ['_admin'] };
const anon = anonymous();
const bob: UserCtx = { name: 'bob', roles: [] };
const opts: UsersWriteOptions = { iterations: 10 };

const user = (name: string, over: UserDoc = {}): UserDoc => ({
  _id: userDocId(name),
  type: 'user',
  name,
  roles: [],
  ...over,
});

/** bob's stored document, as a first write would leave it. */
const stored = (over: UserDoc = {}) =>
  user('bob', {
    _rev: '1-abc',
    password_scheme: 'pbkdf2',
    pbkdf2_prf: 'sha256',
    salt: 'ab'.repeat(16),
    iterations: 10,
    derived_key: 'cd'.repeat(32),
    ...over,
  });

// Structural, so both `t` and its subtests fit.
type Asserts = {
  ok: (...args: any[]) => unknown;
  match: (...args: any[]) => unknown;
};

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

async function refused(
  t: Asserts,
  write: Promise<unknown>,
  expected: { status: number; error: string; reason: string },
  label?: string,
) {
  const err = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof UsersDbError && err instanceof CouchError, label ?? expected.reason);
  t.match(err, expected, label ?? expected.reason);
}
const forbidden = (reason: string) => ({ status: 403, error: 'forbidden', reason });
const notFound = { status: 404, error: 'not_found', reason: 'missing' };

t.test('names', async (t) => {
  t.equal(USERS_DB, '_users');
  t.equal(userDocId('bob'), 'org.couchdb.user:bob');
  t.equal(userNameFromId('org.couchdb.user:a:b'), 'a:b');
  t.equal(userNameFromId('_design/_auth'), undefined);
  t.equal(userNameFromId(7), undefined);
});

t.test('signing up: the password is hashed away (couch_users_db:save_doc)', async (t) => {
  const input = user('tom', { password: 'mp3', email: 't@example.org' });
  const frozen = structuredClone(input);
  const doc = await prepareUserDocWrite(input, null, anon, opts);
  t.same(input, frozen, 'input untouched');
  t.notOk('password' in doc);
  t.equal(doc.password_scheme, 'pbkdf2');
  t.equal(doc.pbkdf2_prf, 'sha256');
  t.equal(doc.iterations, 10);
  t.match(doc.salt, /^[0-9a-f]{32}$/);
  t.match(doc.derived_key, /^[0-9a-f]{64}$/);
  t.equal(doc.email, 't@example.org', 'other fields kept');
  t.same(Object.keys(doc), [
    '_id',
    'password_scheme',
    'pbkdf2_prf',
    'salt',
    'iterations',
    'derived_key',
    'type',
    'name',
    'roles',
    'email',
  ]);
  t.ok(await verifyPassword('mp3', doc));

  const sha1 = await prepareUserDocWrite(user('tom', { password: 'mp3' }), null, anon, {
    ...opts,
    prf: 'sha1',
  });
  t.equal(sha1.pbkdf2_prf, 'sha');
  t.match(sha1.derived_key, /^[0-9a-f]{40}$/);
});

t.test('a new password replaces every old password field', async (t) => {
  const old = stored({ password_sha: 'x', preserve_salt: false });
  const doc = await prepareUserDocWrite({ ...old, password: 'couch' }, stored(), bob, opts);
  t.notOk('password' in doc);
  t.notOk('password_sha' in doc);
  t.notOk('preserve_salt' in doc);
  t.not(doc.salt, old.salt, 'a new salt');
  t.not(doc.derived_key, old.derived_key);
  t.equal(doc._rev, '1-abc');
  t.ok(await verifyPassword('couch', doc));

  const kept = await prepareUserDocWrite(
    { ...stored(), password: 'couch', preserve_salt: true },
    stored(),
    bob,
    opts,
  );
  t.equal(kept.salt, 'ab'.repeat(16), 'preserve_salt keeps the salt (hash upgrades keep sessions)');
  t.notOk('preserve_salt' in kept);
  t.ok(await verifyPassword('couch', kept));
});

t.test('without a password the document is stored as given', async (t) => {
  const doc = await prepareUserDocWrite(stored({ email: 'b@x' }), stored(), bob, opts);
  t.same(doc, stored({ email: 'b@x' }));
  const nulled = await prepareUserDocWrite(stored({ password: null }), stored(), bob, opts);
  t.equal(nulled.password, null, 'password: null is left alone, as CouchDB leaves it');
  t.equal(nulled.derived_key, stored().derived_key);
  const legacy = user('old', { password_scheme: 'simple', password_sha: 'ab', salt: 'cd' });
  t.same(
    await prepareUserDocWrite(legacy, null, anon, opts),
    legacy,
    'legacy hashed fields accepted',
  );
});

t.test('a password that is not text is refused', async (t) => {
  await refused(
    t,
    prepareUserDocWrite(user('tom', { password: 123 }), null, anon, opts),
    forbidden("Password value of '123' is invalid."),
  );
  await refused(
    t,
    prepareUserDocWrite(
      user('tom', { password: 'x', preserve_salt: true, salt: 5 }),
      null,
      anon,
      opts,
    ),
    forbidden("Salt value of '5' is invalid."),
  );
});

t.test('the shape of a user document (_design/_auth validate_doc_update)', async (t) => {
  const cases: [string, UserDoc, string][] = [
    ['type', user('tom', { type: 'person' }), 'doc.type must be user'],
    ['no type', user('tom', { type: undefined }), 'doc.type must be user'],
    ['no name', user('tom', { name: undefined }), 'doc.name is required'],
    ['empty name', { ...user(''), _id: 'org.couchdb.user:' }, 'doc.name is required'],
    ['no roles', user('tom', { roles: undefined }), 'doc.roles must exist'],
    ['roles not array', user('tom', { roles: 'admin' }), 'doc.roles must be an array'],
    ['roles of numbers', user('tom', { roles: [1] }), 'doc.roles can only contain strings'],
    [
      'bad id',
      { ...user('w00x'), _id: 'org.apache.couchdb:w00x' },
      'Doc ID must be of the form org.couchdb.user:name',
    ],
    [
      'name not text',
      { ...user('5'), name: 5 },
      'Doc ID must be of the form org.couchdb.user:name',
    ],
    [
      'password_sha without salt',
      user('tom', { password_sha: 'abc' }),
      'Users with password_sha must have a salt.See /_utils/script/couch.js for example code.',
    ],
    [
      'unknown scheme',
      user('tom', { password_scheme: 'bcrypt' }),
      'Password scheme `bcrypt` not supported.',
    ],
    [
      'pbkdf2 iterations',
      user('tom', { password_scheme: 'pbkdf2', iterations: '10', derived_key: 'ab' }),
      'iterations must be a number.',
    ],
    [
      'pbkdf2 derived_key',
      user('tom', { password_scheme: 'pbkdf2', iterations: 10, derived_key: 5 }),
      'derived_key must be a string.',
    ],
    ['underscore name', user('_why'), 'Username may not start with underscore.'],
    ['colon name', user('a:b'), 'Character `:` is not allowed in usernames.'],
  ];
  for (const [label, doc, reason] of cases) {
    await refused(t, prepareUserDocWrite(doc, null, anon, opts), forbidden(reason), label);
    await refused(
      t,
      prepareUserDocWrite(doc, null, admin, opts),
      forbidden(reason),
      `${label} (admin)`,
    );
  }
  const renamed = await prepareUserDocWrite(
    user('bob'),
    stored({ name: 'Bob' }),
    admin,
    opts,
  ).catch((e: unknown) => e);
  t.match(renamed, forbidden('Usernames can not be changed.'));
});

t.test('roles: only admins set or change them; no system roles', async (t) => {
  await refused(
    t,
    prepareUserDocWrite(user('tom', { roles: ['x'] }), null, anon, opts),
    forbidden('Only _admin may set roles'),
  );
  await refused(
    t,
    prepareUserDocWrite(stored({ roles: ['x'] }), stored(), bob, opts),
    forbidden('Only _admin may edit roles'),
  );
  await refused(
    t,
    prepareUserDocWrite(stored({ roles: ['b'] }), stored({ roles: ['a'] }), bob, opts),
    forbidden('Only _admin may edit roles'),
  );
  t.ok(
    await prepareUserDocWrite(
      stored({ roles: ['b', 'a'] }),
      stored({ roles: ['a', 'b'] }),
      bob,
      opts,
    ),
    'the same roles in another order are no change',
  );
  t.same((await prepareUserDocWrite(user('tom', { roles: ['x'] }), null, admin, opts)).roles, [
    'x',
  ]);
  await refused(
    t,
    prepareUserDocWrite(user('tom', { roles: ['_bar'] }), null, admin, opts),
    forbidden('No system roles (starting with underscore) in users db.'),
  );
  await refused(
    t,
    prepareUserDocWrite(user('tom', { roles: ['_admin'] }), null, admin, opts),
    forbidden('No system roles (starting with underscore) in users db.'),
  );
  t.same(
    (await prepareUserDocWrite(user('tom', { roles: ['_metrics'] }), null, admin, opts)).roles,
    ['_metrics'],
    '_metrics is the one system role allowed',
  );
});

t.test('whose document: a user edits only their own', async (t) => {
  const alice = user('alice', { _rev: '1-x' });
  await refused(
    t,
    prepareUserDocWrite({ ...alice, foo: 3 }, alice, bob, opts),
    notFound,
    'another user: 404 first',
  );
  await refused(
    t,
    prepareUserDocWrite(user('carol'), null, bob, opts),
    notFound,
    'a named user creating another',
  );
  await refused(
    t,
    prepareUserDocWrite({ ...user('w'), _id: 'org.apache.couchdb:w' }, null, bob, opts),
    notFound,
  );
  await refused(
    t,
    prepareUserDocWrite({ ...alice, foo: 3 }, alice, anon, opts),
    forbidden('You may only update your own user document.'),
  );
  t.ok(await prepareUserDocWrite(stored({ foo: 2, password: 'new' }), stored(), bob, opts));
  t.ok(await prepareUserDocWrite({ ...alice, foo: 3 }, alice, admin, opts), 'admins edit anyone');
});

t.test('database admins of _users count as admins, except for deletes', async (t) => {
  const speedy: UserCtx = { name: 'speedy', roles: ['user_admin'] };
  const byName = { security: { admins: { names: ['speedy'], roles: [] } } };
  const byRole = { security: { admins: { names: [], roles: ['user_admin'] } } };
  const spike = user('spike', { _rev: '1-s', roles: [] });
  for (const sec of [byName, byRole]) {
    const doc = await prepareUserDocWrite(
      { ...spike, password: 'mobile', roles: ['x'] },
      spike,
      speedy,
      {
        ...opts,
        ...sec,
      },
    );
    t.same(doc.roles, ['x']);
    t.ok(await verifyPassword('mobile', doc));
  }
  await refused(
    t,
    prepareUserDocWrite({ ...spike, foo: 1 }, spike, speedy, opts),
    notFound,
    'not without the security object',
  );
  await refused(
    t,
    prepareUserDocWrite({ _id: spike._id, _rev: '1-s', _deleted: true }, spike, speedy, {
      ...opts,
      ...byName,
    }),
    forbidden('Only admins may delete other user docs.'),
  );
});

t.test('deletes: admins, or the owner', async (t) => {
  const del = { _id: userDocId('bob'), _rev: '1-abc', _deleted: true };
  t.same(await prepareUserDocWrite(del, stored(), admin, opts), del);
  t.same(await prepareUserDocWrite(del, stored(), bob, opts), del);
  await refused(
    t,
    prepareUserDocWrite(del, stored(), anon, opts),
    forbidden('Only admins may delete other user docs.'),
  );
  await refused(t, prepareUserDocWrite(del, stored(), { name: 'eve', roles: [] }, opts), notFound);
  await refused(
    t,
    prepareUserDocWrite(del, null, anon, opts),
    forbidden('Only admins may delete other user docs.'),
  );
});

t.test('re-creating a deleted user validates against nothing, as CouchDB does', async (t) => {
  const tomb = { _id: userDocId('tom'), _rev: '2-d', _deleted: true };
  const doc = await prepareUserDocWrite(
    user('tom', { _rev: '2-d', password: 'pw' }),
    tomb,
    anon,
    opts,
  );
  t.ok(await verifyPassword('pw', doc));
});

t.test('design documents in _users are for admins', async (t) => {
  const ddoc = {
    _id: '_design/user_db_auth',
    views: { test: { map: 'function(doc) { emit(doc._id) }' } },
  };
  t.same(await prepareUserDocWrite(ddoc, null, admin, opts), ddoc);
  await refused(t, prepareUserDocWrite(ddoc, null, bob, opts), notFound);
  await refused(t, prepareUserDocWrite(ddoc, null, anon, opts), {
    status: 401,
    error: 'unauthorized',
    reason: 'You are not a db or server admin.',
  });
  const local = { _id: '_local/checkpoint', seq: 4 };
  t.same(
    await prepareUserDocWrite(local, null, bob, opts),
    local,
    '_local documents are not user documents',
  );
});

t.test('reading user documents (couch_users_db:after_doc_read)', async (t) => {
  const tom = user('tom', { _rev: '1-t', derived_key: 'k', salt: 's', nick: 'tommy' });
  t.same(filterUserDocRead(tom, admin), tom);
  t.same(
    filterUserDocRead(tom, { name: 'tom', roles: [] }),
    tom,
    'one reads one own document whole',
  );
  t.match(
    caught(() => filterUserDocRead(tom, bob)),
    notFound,
    'someone else: 404',
  );
  t.match(
    caught(() => filterUserDocRead(tom, anon)),
    notFound,
    'anonymous: 404',
  );
  t.same(
    filterUserDocRead(tom, bob, { publicFields: ['name', 'nick'] }),
    { _id: tom._id, _rev: '1-t', name: 'tom', nick: 'tommy' },
    'public_fields only, with the metadata',
  );
  t.match(
    caught(() => filterUserDocRead(tom, bob, { publicFields: ['avatar'] })),
    notFound,
    'no public field present: 404',
  );
  const speedy: UserCtx = { name: 'speedy', roles: [] };
  t.same(filterUserDocRead(tom, speedy, { security: { admins: { names: ['speedy'] } } }), tom);

  const ddoc = { _id: '_design/_auth', validate_doc_update: 'function(){}' };
  t.same(filterUserDocRead(ddoc, admin), ddoc);
  for (const ctx of [bob, anon]) {
    t.match(
      caught(() => filterUserDocRead(ddoc, ctx)),
      {
        status: 403,
        error: 'forbidden',
        reason: 'Only administrators can view design docs in the users database.',
      },
    );
  }
});

t.test('listing _users is for server admins only (chttpd_auth_request)', async (t) => {
  t.ok(requiresServerAdmin('GET', ['_all_docs']));
  t.ok(requiresServerAdmin('POST', ['_all_docs']));
  t.ok(requiresServerAdmin('GET', ['_changes']));
  t.ok(requiresServerAdmin('PUT', []));
  t.ok(requiresServerAdmin('DELETE', []));
  t.notOk(requiresServerAdmin('GET', []));
  t.notOk(requiresServerAdmin('GET', ['org.couchdb.user:bob']));
  t.notOk(requiresServerAdmin('GET', ['_design', '_auth']));
  t.match(notServerAdmin(), {
    status: 401,
    error: 'unauthorized',
    reason: 'You are not a server admin.',
  });
  t.match(securityNotEditable(), {
    status: 403,
    error: 'forbidden',
    reason: "You can't edit the security object of the user database.",
  });
});
