import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { accountsService } from '../accounts/helper.js';
import { farmer } from '../gateway/helper.js';
import { unique } from '../helpers/fixtures.js';
import { couch, testCouch } from '../helpers/store.js';
import { CHROMIUM, launchChromium, nameHelperInPages } from '../helpers/browser.js';

/**
 * A web app on another origin, in a real Chromium: it signs up through /auth/signup and syncs
 * a stock PouchDB through the gateway both ways, with the headers a phone sends. The same
 * page against a service without CORS_ORIGINS is refused by the browser.
 */

const POUCH = fileURLToPath(
  new URL('../../node_modules/pouchdb/dist/pouchdb.min.js', import.meta.url),
);

/** The app's origin: a page and PouchDB's browser build, served on localhost (not the API's 127.0.0.1). */
async function appOrigin(t: Test): Promise<string> {
  const pouch = await readFile(POUCH);
  const server = createServer((req, res) => {
    if (req.url === '/pouchdb.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(pouch);
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script src="/pouchdb.min.js"></script><p>app</p>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return `http://localhost:${port}`;
}

const skip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing` : false;

t.test('a PouchDB web app on another origin signs up and syncs', { skip }, async (t) => {
  const origin = await appOrigin(t);
  const store = await testCouch(t);
  const api = await accountsService(t, store, { env: { CORS_ORIGINS: origin } });
  const closed = await accountsService(t, store);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await nameHelperInPages(page);
  // The browser's own words on anything it refuses, for the failure message.
  const console: string[] = [];
  page.on('console', (m) => console.push(m.text()));
  await page.goto(origin + '/');

  const name = unique('web');
  const signedUp = await page.evaluate(
    async ({ api, name }) => {
      const res = await fetch(api + '/auth/signup', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, password: 'browser-password' }),
      });
      const body = await res.json();
      (window as unknown as { session: unknown }).session = body;
      return { status: res.status, db: body.dbs?.user as string };
    },
    { api: api.url, name },
  );
  t.equal(signedUp.status, 201, 'signup answered across origins');

  // A document the server already has, to come down, and one the app writes, to go up.
  const upFromServer = farmer(name, 'farmer-server', { village: 'Moshi' });
  const admin = { auth: store.adminAuth };
  t.equal(
    (
      await couch(store.url, 'PUT', `/${signedUp.db}/farmer-server`, {
        ...admin,
        body: upFromServer,
      })
    ).status,
    201,
  );

  const synced = await page.evaluate(
    async ({ api, doc }) => {
      const s = (
        window as unknown as {
          session: { access_token: string; dbs: { user: string } };
        }
      ).session;
      const P = (window as unknown as { PouchDB: any }).PouchDB;
      const local = new P('phone');
      const remote = new P(api + '/sync/' + s.dbs.user, {
        fetch: (url: string, opts: { headers: Headers }) => {
          opts.headers.set('Authorization', 'Bearer ' + s.access_token);
          opts.headers.set('X-Sawa-Device', 'chromium-test');
          return P.fetch(url, opts);
        },
      });
      await local.put(doc);
      let result;
      try {
        result = await local.sync(remote);
      } catch (err) {
        const e = err as Record<string, unknown>;
        return { failed: JSON.stringify({ ...e, message: e.message, stack: String(e.stack) }) };
      }
      const me = await fetch(api + '/me', {
        headers: { authorization: 'Bearer ' + s.access_token },
      });
      return {
        pushed: result.push.docs_written,
        pulled: result.pull.docs_written,
        pushErrors: result.push.errors.length,
        localIds: (await local.allDocs()).rows.map((r: { id: string }) => r.id),
        meStatus: me.status,
      };
    },
    { api: api.url, doc: farmer(name, 'farmer-phone') },
  );
  t.equal('failed' in synced ? synced.failed : undefined, undefined, console.join('\n'));
  if ('failed' in synced) return;
  t.equal(synced.pushErrors, 0);
  t.equal(synced.pushed, 1, 'the phone document went up');
  // The pull may count the pushed document again; what matters is what the phone now holds.
  t.ok(synced.pulled >= 1, 'documents came down');
  t.same(
    synced.localIds.filter((id: string) => !id.startsWith('_design/')).sort(),
    ['farmer-phone', 'farmer-server'],
    'the server document is on the phone',
  );
  t.equal(synced.meStatus, 200, '/me with a Bearer token across origins');
  const onServer = await couch(store.url, 'GET', `/${signedUp.db}/farmer-phone`, admin);
  t.equal(onServer.status, 200, 'the server has what the browser wrote');

  const refused = await page.evaluate(async (url) => {
    try {
      await fetch(url + '/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'x', password: 'y' }),
      });
      return 'answered';
    } catch (err) {
      return String(err);
    }
  }, closed.url);
  t.match(refused, /TypeError/, 'without CORS_ORIGINS the browser refuses the call');
});
