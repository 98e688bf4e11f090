import t from 'tap';
import { loadConfig, ConfigError } from '../../server/config.js';
import { accountsService } from '../accounts/helper.js';
import { testCouch } from '../helpers/store.js';

/** Four failed logins over real HTTP from 127.0.0.1, each claiming an address in X-Forwarded-For. */
async function statuses(url: string, forwarded: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const xff of forwarded) {
    const res = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
      body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
    });
    out.push(res.status);
  }
  return out;
}

const forged = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'];
const same = ['203.0.113.9', '203.0.113.9', '203.0.113.9', '203.0.113.9'];

t.test('X-Forwarded-For counts only from a trusted proxy', async (t) => {
  const store = await testCouch(t);
  const service = (trust?: string) =>
    accountsService(t, store, {
      env: {
        AUTH_IP_RATE_LIMIT_PER_MIN: '3',
        AUTH_RATE_LIMIT_PER_MIN: '1000',
        ...(trust && { TRUST_PROXY: trust }),
      },
    });

  const off = await service();
  t.same(
    await statuses(off.url, forged),
    [401, 401, 401, 429],
    'off (the default): a forged header does not change the address the limit counts',
  );
  const elsewhere = await service('10.9.9.9');
  t.same(
    await statuses(elsewhere.url, forged),
    [401, 401, 401, 429],
    'a peer that is not the named proxy is not believed',
  );

  const byAddress = await service('127.0.0.1');
  t.same(
    await statuses(byAddress.url, forged),
    [401, 401, 401, 401],
    'from the named proxy, each forwarded client counts on its own',
  );
  t.same(await statuses(byAddress.url, same), [401, 401, 401, 429], 'and one client is limited');

  const byCidr = await service('loopback, 10.0.0.0/8');
  t.same(await statuses(byCidr.url, forged), [401, 401, 401, 401], 'names and CIDRs work too');

  const oneHop = await service('1');
  const spoofedLeft = forged.map((f) => `${f}, 198.51.100.7`);
  t.same(
    await statuses(oneHop.url, spoofedLeft),
    [401, 401, 401, 429],
    'one hop: the address the proxy saw wins over whatever the client wrote before it',
  );
});

t.test('TRUST_PROXY values are checked at start-up', async (t) => {
  for (const bad of ['true', '10.0.0.300', '10.0.0.0/33', 'proxy.example.org', '::1/129']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), ConfigError, bad);
  }
  for (const good of ['1', '2', '10.0.0.5', '10.0.0.0/8, ::1', 'loopback,uniquelocal', 'false']) {
    t.doesNotThrow(() => loadConfig({ TRUST_PROXY: good }), good);
  }
});
