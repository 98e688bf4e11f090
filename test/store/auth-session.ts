import { createHmac } from 'node:crypto';
import t from 'tap';
import {
  SessionCookieError,
  clearCookieHeader,
  mintSessionCookie,
  readSessionCookie,
  sessionCookieFromHeader,
  setCookieHeader,
} from '../../server/store/auth/session.js';
import { CouchError } from '../../server/store/errors.js';

const secret = '92de07df7e7a3fe14808cef90a7cc0d91';
const salt = '1112283cf988a34f124200a050d308a1';
const T0 = 0x4ab397eb;
const users: Record<string, { salt: string; roles: string[] }> = {
  anna: { salt, roles: ['editor'] },
  'Zawadi Mwangâ': { salt: 'abc', roles: [] },
};
const lookupUser = (name: string) => users[name] ?? null;
const read = (value: string | undefined, over: Record<string, unknown> = {}) =>
  readSessionCookie(value, { secret, lookupUser, timeoutSec: 600, now: T0 + 1, ...over });

t.test("the cookie has CouchDB's shape: base64url of name:HEXTIME:raw-HMAC", async (t) => {
  // Set-Cookie values from CouchDB's documentation (SHA-1 era, before 3.3).
  for (const [docCookie, name, time] of [
    ['YW5uYTo0QUIzOTdFQjrC4ipN-D-53hw1sJepVzcVxnriEw', 'anna', 0x4ab397eb],
    ['cm9vdDo1MEJCRkYwMjq0LO0ylOIwShrgt8y-UkhI-c6BGw', 'root', 0x50bbff02],
  ] as const) {
    const raw = Buffer.from(docCookie, 'base64url');
    t.equal(
      raw.subarray(0, raw.length - 21).toString(),
      `${name}:${time.toString(16).toUpperCase()}`,
    );
    const ours = mintSessionCookie({ name, userSalt: salt, secret, now: time, hash: 'sha1' });
    t.equal(ours.length, docCookie.length, 'same length: 20-byte SHA-1 HMAC, no padding');
    t.equal(ours.slice(0, 18), docCookie.slice(0, 18), 'same name and upper-case hex time');
  }
  const value = mintSessionCookie({ name: 'anna', userSalt: salt, secret, now: T0 });
  const raw = Buffer.from(value, 'base64url');
  t.notMatch(value, /[=+/]/, 'base64url without padding');
  t.equal(raw.length, 'anna:4AB397EB:'.length + 32, 'SHA-256 HMAC by default');
  const expected = createHmac('sha256', secret + salt)
    .update('anna:4AB397EB')
    .digest();
  t.same(raw.subarray(14), expected, 'HMAC over name:time keyed by secret then salt');
});

t.test('a fresh cookie proves its user', async (t) => {
  const value = mintSessionCookie({ name: 'anna', userSalt: salt, secret, now: T0 });
  t.same(await read(value), { name: 'anna', user: users.anna, needsRefresh: false });
  const asyncLookup = async (name: string) => lookupUser(name);
  t.match(await read(value, { lookupUser: asyncLookup }), { name: 'anna' });

  const utf8 = mintSessionCookie({ name: 'Zawadi Mwangâ', userSalt: 'abc', secret, now: T0 });
  t.match(await read(utf8), { name: 'Zawadi Mwangâ' });
  t.throws(() => mintSessionCookie({ name: 'a:b', userSalt: '', secret }), TypeError);
});

t.test('expiry and refresh follow the timeout, as couch_httpd_auth', async (t) => {
  const value = mintSessionCookie({ name: 'anna', userSalt: salt, secret, now: T0 });
  t.match(await read(value, { now: T0 + 60 }), { needsRefresh: false }, '10% used: not yet');
  t.match(await read(value, { now: T0 + 61 }), { needsRefresh: true }, 'past 10%: re-issue');
  t.match(await read(value, { now: T0 + 599 }), { name: 'anna', needsRefresh: true });
  t.equal(await read(value, { now: T0 + 600 }), null, 'expired at issued + timeout');
  t.equal(await read(value, { now: T0 + 100_000 }), null);
  t.match(await read(value, { now: T0 + 3599, timeoutSec: 3600 }), { name: 'anna' });
});

t.test('tampered, foreign or orphaned cookies prove nothing', async (t) => {
  const value = mintSessionCookie({ name: 'anna', userSalt: salt, secret, now: T0 });
  const raw = Buffer.from(value, 'base64url');
  const flipped = Buffer.from(raw);
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  t.equal(await read(flipped.toString('base64url')), null, 'HMAC changed');
  const mac = raw.subarray(14).toString('latin1');
  const later = Buffer.from('anna:4AB39FFF:' + mac, 'latin1');
  t.equal(await read(later.toString('base64url')), null, 'time pushed forward');
  t.equal(await read(value, { secret: 'another secret' }), null, 'other server secret');
  t.equal(
    await read(value, { lookupUser: () => ({ salt: 'new salt after a password change' }) }),
    null,
    'password changed',
  );
  t.equal(await read(value, { lookupUser: () => null }), null, 'user gone');
  t.equal(await read(value, { secret: undefined }), null, 'no secret: cookies ignored');
  t.equal(await read(value, { secret: '' }), null);
  const badTime = Buffer.from('anna:zz:' + mac, 'latin1');
  t.equal(await read(badTime.toString('base64url')), null, 'time not hex');
  t.equal(await read(undefined), null);
  t.equal(await read(''), null, 'an empty cookie (what logout leaves) is no cookie');
});

t.test('SHA-1 cookies from CouchDB before 3.3 are read unless turned off', async (t) => {
  const old = mintSessionCookie({ name: 'anna', userSalt: salt, secret, now: T0, hash: 'sha1' });
  t.match(await read(old), { name: 'anna' });
  t.equal(await read(old, { hashes: ['sha256'] }), null);
});

t.test('a value that is not a cookie at all is a 400, as in CouchDB', async (t) => {
  const bad = [
    '!!!',
    'a',
    Buffer.from('no colons').toString('base64url'),
    Buffer.from('anna:only-one').toString('base64url'),
    'YW5uYTo0QUIzOTdFQjrC4ipN-D-53hw1sJepVzcVxnriEw==',
  ];
  for (const value of bad) {
    const err = await read(value).catch((e: unknown) => e);
    t.ok(err instanceof SessionCookieError && err instanceof CouchError, value);
    t.match(err, {
      status: 400,
      error: 'bad_request',
      reason: 'Malformed AuthSession cookie. Please clear your cookies.',
    });
  }
});

t.test('Set-Cookie as CouchDB writes it', async (t) => {
  const v = 'cm9vdDo1MEJCRkYwMjq0LO0ylOIwShrgt8y-UkhI-c6BGw';
  t.equal(
    setCookieHeader(v, { timeoutSec: 600, persistent: false }),
    `AuthSession=${v}; Version=1; Path=/; HttpOnly`,
    'the documented header, without persistent cookies',
  );
  t.equal(
    setCookieHeader(v, { timeoutSec: 600, now: 0 }),
    `AuthSession=${v}; Version=1; Expires=Thu, 01 Jan 1970 00:10:00 GMT; Max-Age=600; Path=/; HttpOnly`,
    'persistent by default (allow_persistent_cookies = true)',
  );
  t.equal(
    setCookieHeader(v, {
      timeoutSec: 60,
      now: 1_700_000_000,
      secure: true,
      domain: 'example.com',
      sameSite: 'STRICT',
    }),
    `AuthSession=${v}; Version=1; Expires=Tue, 14 Nov 2023 22:14:20 GMT; Max-Age=60; Secure; ` +
      'Domain=example.com; Path=/; HttpOnly; SameSite=Strict',
  );
  t.match(setCookieHeader(v, { timeoutSec: 1, sameSite: 'none' }), /; SameSite=None$/);
  t.match(setCookieHeader(v, { timeoutSec: 1, sameSite: 'lax' }), /; SameSite=Lax$/);
  t.notMatch(setCookieHeader(v, { timeoutSec: 1, sameSite: 'Invalid' }), /SameSite/);
  t.notMatch(setCookieHeader(v, { timeoutSec: 1, sameSite: '' }), /SameSite/);
});

t.test('logging out sends an empty AuthSession with the same attributes', async (t) => {
  t.equal(
    clearCookieHeader({ timeoutSec: 600, persistent: false }),
    'AuthSession=; Version=1; Path=/; HttpOnly',
    'the header DELETE /_session documents',
  );
  t.equal(
    clearCookieHeader({ timeoutSec: 600, now: 0 }),
    'AuthSession=; Version=1; Expires=Thu, 01 Jan 1970 00:10:00 GMT; Max-Age=600; Path=/; HttpOnly',
  );
});

t.test('the AuthSession value is found in a Cookie header', async (t) => {
  t.equal(sessionCookieFromHeader('a=1; AuthSession=abc-_; b=2'), 'abc-_');
  t.equal(sessionCookieFromHeader('AuthSession="abc"'), 'abc');
  t.equal(sessionCookieFromHeader('AuthSession='), '');
  t.equal(sessionCookieFromHeader('XAuthSession=abc'), undefined);
  t.equal(sessionCookieFromHeader(undefined), undefined);
  t.equal(sessionCookieFromHeader(['a=1', 'AuthSession=x']), 'x');
});
