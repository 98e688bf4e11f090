import t from 'tap';
import { loadConfig, ConfigError } from '../../server/config.js';

t.test('defaults come from one place', async (t) => {
  const c = loadConfig({});
  t.equal(c.PORT, 3000);
  t.equal(c.STORE_PORT, 5984);
  t.equal(c.DATA_DIR, './data');
  t.equal(c.LOG_LEVEL, 'info');
  t.equal(c.COUCHDB_URL, undefined);
});

t.test('values are coerced from strings', async (t) => {
  const c = loadConfig({
    PORT: '8080',
    STORE_PORT: '6000',
    LOG_LEVEL: 'debug',
    COUCHDB_URL: 'http://couch:5984',
  });
  t.equal(c.PORT, 8080);
  t.equal(c.STORE_PORT, 6000);
  t.equal(c.LOG_LEVEL, 'debug');
  t.equal(c.COUCHDB_URL, 'http://couch:5984');
});

t.test('each bad value gets its own clear message', async (t) => {
  try {
    loadConfig({ PORT: 'abc', STORE_PORT: '70000', LOG_LEVEL: 'loud', COUCHDB_URL: 'couch:5984' });
    t.fail('should have thrown');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const problems = (err as ConfigError).problems;
    t.equal(problems.length, 4, problems.join('\n'));
    t.match(problems.join('\n'), /PORT must be integer \(got "abc"\)/);
    t.match(problems.join('\n'), /STORE_PORT must be <= 65535/);
    t.match(
      problems.join('\n'),
      /LOG_LEVEL must be equal to one of the allowed values: fatal, error, warn, info, debug, trace, silent/,
    );
    t.match(problems.join('\n'), /COUCHDB_URL must match pattern/);
  }
});

t.test('empty strings count as unset', async (t) => {
  t.equal(loadConfig({ PORT: '' }).PORT, 3000);
});

t.test(
  'data protection: registration, residency, and transfers abroad refused unless allowed',
  async (t) => {
    const azampay = {
      AZAMPAY_APP_NAME: 'sawa',
      AZAMPAY_CLIENT_ID: 'id',
      AZAMPAY_CLIENT_SECRET: 'secret',
      AZAMPAY_API_KEY: 'key',
    };
    const c = loadConfig({ DATA_PROTECTION_REGISTRATION: 'PDPC/2026/0042', ...azampay });
    t.equal(c.DATA_PROTECTION_REGISTRATION, 'PDPC/2026/0042');
    t.equal(c.DATA_RESIDENCY, 'TZ', 'Tanzania by default; AzamPay processes there');
    t.throws(() => loadConfig({ DATA_RESIDENCY: 'tz' }), ConfigError, 'a two-letter code');
    t.ok(loadConfig({ DATA_RESIDENCY: 'KE' }), 'nothing configured sends data abroad');
    let err: unknown;
    try {
      loadConfig({ DATA_RESIDENCY: 'KE', ...azampay });
    } catch (e) {
      err = e;
    }
    t.type(err, ConfigError, 'a configured integration abroad stops start-up');
    t.match(
      (err as Error).message,
      /azampay sends personal data \(.*phone numbers.*\) to TZ, outside DATA_RESIDENCY=KE: refused.*PERSONAL_DATA_ABROAD_ALLOWED=azampay/,
    );
    t.notMatch((err as Error).message, /secret|key'/, 'no secret values in the message');
    const allowed = loadConfig({
      DATA_RESIDENCY: 'KE',
      PERSONAL_DATA_ABROAD_ALLOWED: 'azampay',
      ...azampay,
    });
    t.equal(allowed.PERSONAL_DATA_ABROAD_ALLOWED, 'azampay', 'explicitly allowed');
    t.throws(
      () => loadConfig({ PERSONAL_DATA_ABROAD_ALLOWED: 'azampay,smsgw' }),
      /"smsgw" is not an integration/,
    );
    // The SMS providers: Beem processes in Tanzania, Africa's Talking in Kenya.
    const at = { AFRICASTALKING_USERNAME: 'sandbox', AFRICASTALKING_API_KEY: 'key' };
    t.throws(() => loadConfig(at), /africastalking sends personal data .* to KE/);
    t.ok(loadConfig({ ...at, PERSONAL_DATA_ABROAD_ALLOWED: 'africastalking' }));
    t.ok(loadConfig({ BEEM_API_KEY: 'key', BEEM_SECRET_KEY: 'secret' }), 'Beem stays in TZ');
  },
);
