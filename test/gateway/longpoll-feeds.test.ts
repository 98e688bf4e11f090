import http from 'node:http';
import t from 'tap';
import { createDb } from '../helpers/fixtures.js';
import { needsEmbedded, testCouch } from '../helpers/store.js';

const server = await testCouch(t);

/** Opens a feed; resolves with its headers time and everything read within `ms`. */
function open(
  path: string,
  ms: number,
): Promise<{ headersMs: number; body: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const req = http.get(
      `${server.url}${path}`,
      { headers: { authorization: server.adminAuth } },
      (res) => {
        const headersMs = Date.now() - t0;
        let body = '';
        let ended = false;
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (ended = true));
        setTimeout(() => {
          req.destroy();
          resolve({ headersMs, body, ended });
        }, ms);
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

t.test('a continuous _changes feed answers its headers before the first change', async (t) => {
  const db = await createDb(server, 'feed');
  const got = await open(`/${db}/_changes?feed=continuous&since=now&heartbeat=5000`, 1500);
  t.ok(got.headersMs < 1000, `headers after ${got.headersMs} ms, with nothing to send`);
  // CouchDB may open a continuous feed with newlines (heartbeats); the store sends nothing.
  t.equal(got.body.trim(), '', 'and nothing else yet');
});

t.test(
  'a continuous _db_updates feed with a heartbeat outlives its timeout',
  needsEmbedded('_db_updates needs _global_changes on CouchDB'),
  async (t) => {
    const got = await open(
      '/_db_updates?feed=continuous&since=now&heartbeat=100&timeout=300',
      1200,
    );
    t.ok(got.headersMs < 1000, `headers after ${got.headersMs} ms`);
    t.notOk(got.ended, 'still open after four times its timeout');
    t.notMatch(got.body, /last_seq/, 'no closing line');
    t.match(got.body, /\n/, 'heartbeats');
    // The suite's one store (npm test) lists other files' databases here too.
    const rows = got.body.split('\n').filter((line) => line !== '');
    const strays = server.shared ? rows.filter((row) => !('db_name' in JSON.parse(row))) : rows;
    t.same(strays, [], server.shared ? "heartbeats and others' updates only" : 'heartbeats only');
  },
);
