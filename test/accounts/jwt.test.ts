import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { jwtOptions } from '../../server/accounts/jwt-keys.js';
import { testCouch } from '../helpers/store.js';
import { accountsService, setup } from './helper.js';

t.test('JWT_SECRET is required outside development', async (t) => {
  for (const NODE_ENV of ['production', 'test']) {
    const config = loadConfig({ NODE_ENV });
    await t.rejects(jwtOptions(config), ConfigError);
    await t.rejects(jwtOptions(config), { message: /JWT_SECRET is required when NODE_ENV=/ });
  }
  const store = await testCouch(t);
  await t.rejects(
    accountsService(t, store, { env: { NODE_ENV: 'production', JWT_SECRET: '' } }),
    ConfigError,
    'the service does not start',
  );
});

t.test('development generates a secret once under DATA_DIR', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-jwt-'));
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
  const first = await jwtOptions(config);
  const second = await jwtOptions(config);
  t.type(first.secret, 'string');
  t.ok((first.secret as string).length >= 32);
  t.equal(second.secret, first.secret, 'kept across restarts');
  t.equal((await readFile(join(dir, 'jwt-secret'), 'utf8')).trim(), first.secret);
  t.equal((await stat(join(dir, 'jwt-secret'))).mode & 0o777, 0o600);
});

t.test('asymmetric keys: ES256 tokens, and no algorithm confusion', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-jwt-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  await writeFile(join(dir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'public.pem'), pub);
  await t.rejects(jwtOptions(loadConfig({ JWT_ALGORITHM: 'ES256' })), {
    message: /JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE are required/,
  });

  const s = await setup(t, {
    env: {
      NODE_ENV: 'production',
      JWT_SECRET: '',
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY_FILE: join(dir, 'private.pem'),
      JWT_PUBLIC_KEY_FILE: join(dir, 'public.pem'),
    },
  });
  const res = await s.call('POST', '/auth/signup', {
    username: unique('amina'),
    password: 'password123',
  });
  t.equal(res.status, 201);
  const [header, payload] = res.body.access_token.split('.');
  t.equal(JSON.parse(Buffer.from(header, 'base64url').toString()).alg, 'ES256');
  t.equal((await s.call('GET', '/me', undefined, res.body.access_token)).status, 200);

  // An HS256 token keyed with the public key (the classic confusion attack) must fail.
  const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const sig = createHmac('sha256', pub).update(`${h}.${payload}`).digest('base64url');
  const me = await s.call('GET', '/me', undefined, `${h}.${payload}.${sig}`);
  t.equal(me.status, 401);
  t.equal(me.body.code, 'SAWA_TOKEN_INVALID');
});
