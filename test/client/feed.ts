import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { fileGateway, visit } from './helper.js';

/**
 * GET /sync/{db}/_sawa_feed, the client library's pull: the same token check and access
 * decision as every /sync path, documents with their histories, checkpoints per page.
 */
t.test('the client feed', async (t) => {
  const gw = await fileGateway();
  const amina = await gw.signup(unique('amina'));
  const baraka = await gw.signup(unique('baraka'));
  const bearer = (a: { access_token: string }) => ({ authorization: `Bearer ${a.access_token}` });
  const db = amina.dbs.user;
  const docs = Array.from({ length: 150 }, () => visit(amina.user.name));
  const put = await gw.call('POST', `/sync/${db}/_bulk_docs`, {
    headers: bearer(amina),
    body: { docs },
  });
  t.equal(put.status, 201);

  const feed = (path: string, headers: Record<string, string>) =>
    fetch(`${gw.url}${path}`, { headers: { 'accept-encoding': 'identity', ...headers } });

  t.test('refused without a token, for another user, for system databases', async (t) => {
    t.equal((await feed(`/sync/${db}/_sawa_feed`, {})).status, 401);
    const other = await feed(`/sync/${db}/_sawa_feed`, bearer(baraka));
    t.equal(other.status, 403);
    t.match(await other.json(), { error: 'forbidden' });
    t.equal((await feed(`/sync/_users/_sawa_feed`, bearer(amina))).status, 403);
    t.equal((await feed(`/sync/${db}/_sawa_feed?feed=continuous`, bearer(amina))).status, 400);
    t.equal((await feed(`/sync/${db}/_sawa_feed?nope=1`, bearer(amina))).status, 400);
    const post = await fetch(`${gw.url}/sync/${db}/_sawa_feed`, {
      method: 'POST',
      headers: bearer(amina),
    });
    t.equal(post.status, 404, 'only GET: anything else is not a sync endpoint');
  });

  t.test('documents with histories, a checkpoint after every page', async (t) => {
    const res = await feed(`/sync/${db}/_sawa_feed`, bearer(amina));
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const sent = lines.filter((l) => typeof l._id === 'string');
    const marks = lines.filter((l) => 'seq' in l);
    t.equal(sent.length, 150, 'every visit, no design document');
    t.notOk(
      sent.some((d) => d._id.startsWith('_design/')),
      'design documents stay on the server',
    );
    t.ok(sent.every((d) => d._revisions?.start === 1 && d._revisions.ids.length === 1));
    t.ok(sent.every((d) => d._rev === undefined));
    t.ok(marks.length >= 2, 'a checkpoint per page');
    t.same(lines.at(-1)?.done, true);

    const from = marks[0].seq;
    const rest = await feed(
      `/sync/${db}/_sawa_feed?since=${encodeURIComponent(typeof from === 'string' ? from : JSON.stringify(from))}`,
      bearer(amina),
    );
    const after = (await rest.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    t.ok(after.filter((l) => l._id).length < 150, 'resumes after the checkpoint');
  });

  t.test(
    'a longpoll waits its timeout for a first change, then says where it stands',
    async (t) => {
      const all = (await (await feed(`/sync/${db}/_sawa_feed`, bearer(amina))).text()).trim();
      const end = JSON.parse(all.split('\n').at(-1) as string).seq;
      const since = encodeURIComponent(typeof end === 'string' ? end : JSON.stringify(end));
      const res = await feed(
        `/sync/${db}/_sawa_feed?since=${since}&feed=longpoll&timeout=200`,
        bearer(amina),
      );
      t.equal(res.status, 200, 'the timeout the client sends is taken');
      t.same(
        (await res.text())
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
        [{ seq: end, done: true }],
        'nothing new: only the checkpoint it was given',
      );
      for (const bad of ['abc', '-1', '2.5', '']) {
        const refused = await feed(
          `/sync/${db}/_sawa_feed?feed=longpoll&timeout=${bad}`,
          bearer(amina),
        );
        t.equal(refused.status, 400, `timeout=${bad}`);
      }
    },
  );

  t.test('brotli when asked', async (t) => {
    const res = await fetch(`${gw.url}/sync/${db}/_sawa_feed`, {
      headers: { ...bearer(amina), 'accept-encoding': 'br' },
    });
    // Node's fetch decodes it; the raw header says what went over the wire.
    t.equal(res.headers.get('content-encoding'), 'br');
    t.ok((await res.text()).includes('"done":true'));
  });

  t.test('a stock PouchDB still syncs through the usual endpoints', async (t) => {
    const changes = await gw.call('GET', `/sync/${db}/_changes?limit=5`, {
      headers: bearer(amina),
    });
    t.equal(changes.status, 200);
    const other = await gw.call('GET', `/sync/${db}/_other_thing`, { headers: bearer(amina) });
    t.equal(other.status, 404);
  });
});
