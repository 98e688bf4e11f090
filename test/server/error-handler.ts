import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../server/config.js';
import app, { serverOptions } from '../../server/app.js';
import { CouchRequestError, UserNotFound } from '../../server/errors.js';

/**
 * One error handler serves every route of the app, not only accounts and reports: /health,
 * /ready, /metrics and /docs answer Fastify-shaped JSON and never a stack trace. No CouchDB
 * is needed: the routes fail before they would reach one.
 */

const SECRET = 'internal detail: /srv/sawa/server/x.ts:12 password=hunter2';

async function build(): Promise<FastifyInstance> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: '/tmp/sawa-error-handler-test',
    JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
    JOBS_ENABLED: 'none',
    METRICS_TOKEN: 'metrics-token-for-the-test',
  });
  const server = Fastify(serverOptions(config));
  // A hook at the root runs for every route; its error goes to the route's own handler.
  server.addHook('onRequest', async (req) => {
    const fail = req.headers['x-fail'];
    if (fail === 'bug') throw new Error(SECRET);
    if (fail === 'couch') throw new CouchRequestError(500, 'internal_server_error', SECRET);
    if (fail === 'ours') throw new UserNotFound('nobody');
    if (fail === 'library') throw Object.assign(new Error(SECRET), { statusCode: 416 });
  });
  await server.register(app, {
    config,
    // Nothing listens on port 9 of the loopback: no request may get that far.
    couch: { url: 'http://127.0.0.1:9', admin: { name: 'a', password: 'b' }, proxySecret: 'c' },
  });
  await server.ready();
  return server;
}

// One app for the whole file: every case is chosen by a request header.
const server = await build();
t.teardown(() => server.close());

const ROUTES: Array<{ method: 'GET' | 'POST'; url: string }> = [
  { method: 'GET', url: '/health' },
  { method: 'GET', url: '/ready' },
  { method: 'GET', url: '/metrics' },
  { method: 'GET', url: '/docs/json' },
  { method: 'POST', url: '/auth/login' },
  { method: 'GET', url: '/reports/visits' },
];

t.test('every route answers a bug with a bare 500, never its message or stack', async (t) => {
  for (const { method, url } of ROUTES) {
    const res = await server.inject({ method, url, headers: { 'x-fail': 'bug' } });
    t.equal(res.statusCode, 500, url);
    t.same(
      res.json(),
      {
        statusCode: 500,
        code: 'SAWA_INTERNAL',
        error: 'Internal Server Error',
        message: 'internal error: retry, and report it if it persists',
      },
      url,
    );
    t.notMatch(res.body, /hunter2|\/srv\/sawa|at /, `${url}: nothing of the error's own`);
  }
});

t.test('a CouchDB failure is a 503 to retry, an error of the list goes out as it is', async (t) => {
  for (const { method, url } of ROUTES) {
    const couch = await server.inject({ method, url, headers: { 'x-fail': 'couch' } });
    t.equal(couch.statusCode, 503, url);
    // /ready documents its 503 body (readiness), and Fastify serializes errors by it too.
    if (url !== '/ready') t.equal(couch.json().code, 'SAWA_COUCH_UNAVAILABLE', url);
    t.notMatch(couch.body, /hunter2|internal_server_error/, url);
    const ours = await server.inject({ method, url, headers: { 'x-fail': 'ours' } });
    t.same(
      ours.json(),
      {
        statusCode: 404,
        code: 'SAWA_USER_NOT_FOUND',
        error: 'Not Found',
        message: 'no user nobody',
      },
      url,
    );
  }
});

t.test("another library's client error keeps its status, not its words", async (t) => {
  for (const { method, url } of ROUTES) {
    const res = await server.inject({ method, url, headers: { 'x-fail': 'library' } });
    t.equal(res.statusCode, 416, url);
    t.same(res.json(), {
      statusCode: 416,
      code: 'SAWA_CLIENT_ERROR',
      error: 'Range Not Satisfiable',
      message: 'Range Not Satisfiable',
    });
  }
});

t.test('the CouchDB paths keep their CouchDB-shaped answers', async (t) => {
  const res = await server.inject({ url: '/sync/userdb-61', headers: { 'x-fail': 'bug' } });
  t.equal(res.statusCode, 500);
  t.match(res.json(), { error: String, reason: String });
  t.notOk('statusCode' in res.json(), 'not the Fastify shape');
  t.notMatch(res.body, /hunter2/);
});
