import t from 'tap';
import { createHmac } from 'node:crypto';
import { Readable, PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { proxyAuthHeaders, proxyToken } from '../../server/couch/proxy-auth.js';
import { changesQuery } from '../../server/gateway/changes-query.js';
import { compressed, negotiate } from '../../server/gateway/compress.js';
import { couchRoles } from '../../server/gateway/couch-user.js';
import { deviceLabel, SeriesBudget } from '../../server/metrics/labels.js';

t.test('proxy authentication headers', async (t) => {
  const secret = 'a-proxy-secret-of-some-length';
  t.equal(proxyToken('amina', secret), createHmac('sha256', secret).update('amina').digest('hex'));
  t.match(proxyToken('amina', secret), /^[0-9a-f]{64}$/, 'lowercase hex');
  const h = proxyAuthHeaders({ name: 'zawadi+255', roles: ['agent', 'team:kilosa'], secret });
  t.same(h, {
    'x-auth-couchdb-username': 'zawadi+255',
    'x-auth-couchdb-roles': 'agent,team:kilosa',
    'x-auth-couchdb-token': proxyToken('zawadi+255', secret),
  });
  t.throws(
    () => proxyAuthHeaders({ name: 'a', roles: ['x,_admin'], secret }),
    'a comma would forge a role',
  );
});

t.test('CouchDB roles of a user', async (t) => {
  t.same(
    couchRoles({
      name: 'sefu',
      roles: ['supervisor'],
      teams: [
        { team: 'kilosa', mode: 'write' },
        { team: 'gairo', mode: 'read' },
      ],
      disabled: false,
    }),
    ['supervisor', 'team:kilosa', 'team:gairo', 'team:kilosa:write'],
  );
});

t.test('Accept-Encoding negotiation', async (t) => {
  t.equal(negotiate(undefined), null);
  t.equal(negotiate('identity'), null);
  t.equal(negotiate('gzip, deflate'), 'gzip');
  t.equal(negotiate('gzip,deflate,br'), 'br');
  t.equal(negotiate('br;q=0, gzip'), 'gzip');
  t.equal(negotiate('*'), 'br');
  t.equal(negotiate('*, br;q=0'), 'gzip');
  t.equal(negotiate('gzip;q=0'), null);
  t.equal(negotiate('x-gzip'), 'gzip');
});

t.test('a compressed stream flushes when its source pauses (heartbeats get through)', async (t) => {
  for (const encoding of ['gzip', 'br'] as const) {
    const source = new PassThrough();
    const out = compressed(source, encoding, () => undefined);
    const inflate = encoding === 'br' ? zlib.createBrotliDecompress() : zlib.createGunzip();
    out.pipe(inflate);
    const seen: string[] = [];
    const next = () =>
      new Promise<string>((resolve) => inflate.once('data', (d: Buffer) => resolve(d.toString())));
    const first = next();
    source.write('{"results":[\n');
    seen.push(await first);
    const beat = next();
    source.write('\n');
    seen.push(await beat);
    t.same(seen, ['{"results":[\n', '\n'], `${encoding}: each write arrives without more input`);
    source.end();
  }
});

t.test('a destroyed compressed stream destroys its source', async (t) => {
  const source = new Readable({ read() {} });
  const out = compressed(source, 'gzip', () => undefined);
  out.destroy();
  await new Promise((r) => setImmediate(r));
  t.ok(source.destroyed, 'the upstream body goes with it');
});

t.test('_changes heartbeats are kept between 1 s and 60 s', async (t) => {
  t.equal(
    changesQuery('since=0&feed=longpoll&heartbeat=10000'),
    'since=0&feed=longpoll&heartbeat=10000',
  );
  t.equal(changesQuery('feed=continuous&heartbeat=1'), 'feed=continuous&heartbeat=1000');
  t.equal(changesQuery('heartbeat=600000&since=5-abc'), 'heartbeat=60000&since=5-abc');
  t.equal(changesQuery('heartbeat=true'), 'heartbeat=true');
  t.equal(changesQuery('since=now'), 'since=now');
});

t.test('a _changes limit that is not a non-negative integer is refused', async (t) => {
  t.equal(changesQuery('since=0&limit=100'), 'since=0&limit=100');
  // CouchDB 3.5 would answer limit=-5 with every change.
  for (const limit of ['-5', 'x', '1.5', '']) {
    const refused = t.throws(() => changesQuery(`limit=${limit}`), limit);
    t.match(refused, { statusCode: 400, error: 'bad_request' }, limit);
  }
});

t.test('metric labels stay bounded', async (t) => {
  t.equal(deviceLabel(undefined), 'unknown');
  t.equal(deviceLabel(''), 'unknown');
  t.equal(deviceLabel('tecno-spark-7:abc123'), 'tecno-spark-7:abc123');
  t.equal(deviceLabel('a'.repeat(100)), 'a'.repeat(32), 'clamped');
  t.equal(deviceLabel('bad"label\n'), 'unknown');
  t.equal(deviceLabel(['x1', 'x2']), 'x1');
  const budget = new SeriesBudget(2);
  t.same(budget.labels('a', 'p1'), { user: 'a', device: 'p1' });
  t.same(budget.labels('b', 'p2'), { user: 'b', device: 'p2' });
  t.same(budget.labels('c', 'p3'), { user: '_other', device: '_other' }, 'over budget');
  t.same(budget.labels('a', 'p1'), { user: 'a', device: 'p1' }, 'admitted pairs keep their series');
  t.same(new SeriesBudget(0).labels('a', 'p1'), { user: '_other', device: '_other' });
});
