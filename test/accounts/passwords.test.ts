import t from 'tap';
import {
  DEFAULT_SCRYPT_COST,
  dummyHash,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../server/accounts/passwords.js';
import { FAST_SCRYPT } from './helper.js';

t.test('the production cost is scrypt N=2^15, r=8, p=1', async (t) => {
  t.same(DEFAULT_SCRYPT_COST, { N: 32768, r: 8, p: 1 });
  const started = performance.now();
  const h = await hashPassword('a password', DEFAULT_SCRYPT_COST);
  const ms = performance.now() - started;
  t.match(h, { alg: 'scrypt', N: 32768, r: 8, p: 1 });
  t.ok(await verifyPassword('a password', h), 'verifies at production cost');
  t.ok(ms > 5, `takes real work (${ms.toFixed(0)} ms)`);
});

t.test('hash and verify', async (t) => {
  const h = await hashPassword('correct horse', FAST_SCRYPT);
  t.equal(Buffer.from(h.salt, 'base64').length, 16, '16-byte salt');
  t.equal(Buffer.from(h.hash, 'base64').length, 32, '32-byte key');
  t.notOk(JSON.stringify(h).includes('correct horse'), 'the password itself is not stored');
  t.ok(await verifyPassword('correct horse', h));
  t.notOk(await verifyPassword('correct hors', h));
  t.notOk(await verifyPassword('Correct horse', h));
  t.notOk(await verifyPassword('', h));
  const again = await hashPassword('correct horse', FAST_SCRYPT);
  t.not(again.hash, h.hash, 'salted: the same password hashes differently');
});

t.test('the same password typed composed or decomposed verifies (NFC)', async (t) => {
  const h = await hashPassword('caf\u00e9-siri', FAST_SCRYPT);
  t.ok(await verifyPassword('cafe\u0301-siri', h));
});

t.test('a hash at a lower cost than the current one needs re-hashing', async (t) => {
  const cheap = await hashPassword('x', FAST_SCRYPT);
  t.ok(needsRehash(cheap, DEFAULT_SCRYPT_COST));
  t.notOk(needsRehash(cheap, FAST_SCRYPT));
});

t.test('the dummy hash matches no password anyone sends', async (t) => {
  const d = await dummyHash(FAST_SCRYPT);
  t.notOk(await verifyPassword('', d));
  t.notOk(await verifyPassword('password', d));
});
