import t from 'tap';
import Fastify from 'fastify';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.js';
import { serverOptions } from '../../server/app.js';
import rulesPlugin from '../../server/rules/plugin.js';
import appStatic from '../../server/web/plugin.js';
import { buildDesignDocs, createWriteChecker, loadSyncRules } from '../../server/rules/index.js';
import { rulesModuleSource } from '../../server/web/rules-module.js';
import { file } from '../../server/web/build.js';
import { cachedBuild } from '../../server/web/build-cache.js';

// Serving /app/ (no browser, no CouchDB: the rules and the app's routes only), and the
// validator the phone's forms run against the gateway's: same verdict, same words.

const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(40) });
const app = Fastify(serverOptions(config));
await app.register(rulesPlugin);
await app.register(appStatic);
t.teardown(() => app.close());

t.test('/app redirects to /app/, keeping the query', async (t) => {
  const res = await app.inject({ url: '/app?lang=en' });
  t.equal(res.statusCode, 301);
  t.equal(res.headers.location, '/app/?lang=en');
});

t.test('the page, compressed as the browser asks, with an ETag per encoding', async (t) => {
  const br = await app.inject({ url: '/app/', headers: { 'accept-encoding': 'gzip, br' } });
  t.equal(br.statusCode, 200);
  t.equal(br.headers['content-encoding'], 'br');
  t.match(br.headers['content-type'], /^text\/html/);
  const html = brotliDecompressSync(br.rawPayload).toString();
  t.match(html, /<script type="module" src="\/app\/app\.js">/);
  t.match(html, /<link rel="manifest"/);

  const gz = await app.inject({ url: '/app/', headers: { 'accept-encoding': 'gzip' } });
  t.equal(gunzipSync(gz.rawPayload).toString(), html, 'gzip: the same page');
  t.not(gz.headers.etag, br.headers.etag, 'each encoding its own ETag');
  const plain = await app.inject({ url: '/app/' });
  t.equal(plain.headers['content-encoding'], undefined);
  t.equal(plain.body, html);

  const again = await app.inject({
    url: '/app/',
    headers: { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) },
  });
  t.equal(again.statusCode, 304, 'unchanged: 304');
  t.equal(again.rawPayload.length, 0);
});

t.test('script, styles, service worker, manifest', async (t) => {
  const js = await app.inject({ url: '/app/app.js' });
  t.match(js.headers['content-type'], /^text\/javascript/);
  t.ok(js.rawPayload.length > 50_000, 'PouchDB and the rules are bundled');
  const sw = await app.inject({ url: '/app/sw.js' });
  t.match(sw.body, /sawa-app-[0-9a-f]{12}/, 'a cache named for the build');
  for (const asset of ['/app/', '/app/app.js', '/app/app.css', '/app/manifest.webmanifest']) {
    t.ok(sw.body.includes(JSON.stringify(asset)), `caches ${asset}`);
  }
  const manifest = await app.inject({ url: '/app/manifest.webmanifest' });
  t.match(JSON.parse(manifest.body), { start_url: '/app/', display: 'standalone' });
  const css = await app.inject({ url: '/app/app.css' });
  t.match(css.headers['content-type'], /^text\/css/);
});

t.test('an unknown file is a plain 404', async (t) => {
  const res = await app.inject({ url: '/app/secrets.txt' });
  t.equal(res.statusCode, 404);
  t.match(res.json(), { statusCode: 404 });
  const long = await app.inject({ url: `/app/${'a'.repeat(300)}` });
  t.equal(long.statusCode, 400, 'an over-long name is refused by the schema');
});

t.test("the phone's validator refuses what the gateway refuses, in the same words", async (t) => {
  const ruleSet = loadSyncRules();
  const source = rulesModuleSource({ ruleSet, designDocs: buildDesignDocs(ruleSet) });
  const phone = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as {
    validateDocUpdate: (n: unknown, o: unknown, u: unknown, s: unknown) => void;
  };
  const gateway = createWriteChecker(ruleSet);
  const user = { name: 'amina', roles: ['agent'] };
  const now = '2026-05-01T09:30:00+03:00';
  const farmer = { _id: 'farmer-1', type: 'farmer', owner: 'amina', created_at: now, updated_at: now, name: 'Neema', village: 'Mlali', district: 'Mvomero' }; // prettier-ignore
  const cases: [string, Record<string, unknown>, Record<string, unknown> | null][] = [
    ['a good farmer', farmer, null],
    ['a bad phone', { ...farmer, phone: '0712345678' }, null],
    ['no village, negative acres', { ...farmer, village: undefined, land_acres: -1 }, null],
    ["someone else's farmer", { ...farmer, owner: 'baraka' }, null],
    ['a visit changed', { _id: 'v', type: 'visit', owner: 'amina', created_at: now, updated_at: now, farmer_id: 'f', visited_at: now, activity: 'survey' },
      { _id: 'v', type: 'visit', owner: 'amina', created_at: now, updated_at: now, farmer_id: 'f', visited_at: now, activity: 'training' }],
    ['a payment status from a phone', { _id: 'p', type: 'payment_status', owner: 'amina', created_at: now, updated_at: now, request_id: 'r', provider: 'mpesa', status: 'succeeded' }, null],
  ]; // prettier-ignore
  for (const [what, doc, old] of cases) {
    const clean = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
    let onPhone: string | null = null;
    try {
      phone.validateDocUpdate(clean, old, user, {});
    } catch (err) {
      onPhone = (err as { forbidden: string }).forbidden;
    }
    const atGateway = gateway.checkWrite(clean, old, user, 'private');
    t.equal(onPhone, atGateway?.reason ?? null, what);
  }
  t.equal(
    cases.filter(([, doc, old]) => gateway.checkWrite(JSON.parse(JSON.stringify(doc)), old, user, 'private')).length,
    5,
    'five of the six are refused',
  ); // prettier-ignore
});

t.test('a build kept on disk serves the next process until an input changes', async (t) => {
  const dir = t.testdir({ 'input.txt': 'one' });
  const input = join(dir, 'input.txt');
  let builds = 0;
  const build = async () => {
    builds++;
    const files = new Map([['x', await file('js', await readFile(input))]]);
    return { files, inputs: [input] };
  };
  const first = await cachedBuild('t', 'key', build, dir);
  const again = await cachedBuild('t', 'key', build, dir);
  t.equal(builds, 1, 'the second process reads the build of the first');
  t.same(again, first, 'the same files, compressed the same');
  await writeFile(input, 'two');
  const changed = await cachedBuild('t', 'key', build, dir);
  t.equal(builds, 2, 'a changed input is built again');
  t.equal(changed.get('x')!.body.toString(), 'two');
  await cachedBuild('t', 'other key', build, dir);
  t.equal(builds, 3, 'another key is another build');
  for (const entry of await readdir(dir)) {
    if (entry.endsWith('.json')) await writeFile(join(dir, entry), '{"inputs":');
  }
  t.equal((await cachedBuild('t', 'key', build, dir)).get('x')!.body.toString(), 'two');
  t.equal(builds, 4, 'an unreadable entry is built again, not an error');
});
