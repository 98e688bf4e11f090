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
