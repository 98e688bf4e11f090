import t from 'tap';
import Fastify, { type RouteOptions } from 'fastify';
import { loadConfig } from '../../server/config.js';
import app, { serverOptions } from '../../server/app.js';
import { sharedCompilers } from '../../server/util/schema-compilers.js';

/**
 * The service does not coerce request values (app.ts: `coerceTypes: false`, so a JSON body's
 * "5" is never taken for 5). A query string, a path parameter and a header are always
 * strings, then, and a route that declares one of them an integer or a boolean refuses every
 * request that sends it: the client feed's `timeout` did, and each live-sync phone went from
 * a 400 to a new round and back, dozens of times a second. Every such field is a string
 * here (with a pattern or an enum where it carries a number or a flag).
 */

/** The fields of `schema` (an object schema) that a string can never satisfy, by name. */
export function fieldsNotStrings(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return Object.entries(props ?? {})
    .filter(([, field]) => !takesString(field))
    .map(([name]) => name);
}

function takesString(field: unknown): boolean {
  const f = field as { type?: unknown; enum?: unknown[]; anyOf?: unknown[]; oneOf?: unknown[] };
  if (f.anyOf || f.oneOf) return (f.anyOf ?? f.oneOf ?? []).some(takesString);
  if (f.type !== undefined)
    return f.type === 'string' || (Array.isArray(f.type) && f.type.includes('string'));
  return f.enum === undefined || f.enum.some((v) => typeof v === 'string');
}

const config = loadConfig({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  DATA_DIR: '/tmp/sawa-route-schemas-test',
  JWT_SECRET: 'test-jwt-secret-that-is-long-enough-0123456789',
  JOBS_ENABLED: 'none',
});

t.test('no route asks a query, path or header field for what a string is not', async (t) => {
  const server = Fastify(serverOptions(config));
  const routes: RouteOptions[] = [];
  server.addHook('onRoute', (route) => void routes.push(route));
  await server.register(app, {
    config,
    // Nothing listens on port 9 of the loopback: the routes are only listed.
    couch: { url: 'http://127.0.0.1:9', admin: { name: 'a', password: 'b' }, proxySecret: 'c' },
  });
  await server.ready();
  t.teardown(() => server.close());
  const withSchemas = routes.filter((r) => r.schema);
  t.ok(
    withSchemas.length > 40,
    `the app's routes were listed (${withSchemas.length} with a schema)`,
  );
  const wrong = withSchemas.flatMap((r) =>
    (['querystring', 'params', 'headers'] as const).flatMap((part) =>
      fieldsNotStrings(r.schema?.[part]).map((f) => `${String(r.method)} ${r.url} ${part}.${f}`),
    ),
  );
  t.same(wrong, [], 'every such field takes a string');
});

t.test('a field a string cannot satisfy is found', async (t) => {
  const schema = {
    type: 'object',
    properties: {
      timeout: { type: 'integer', minimum: 0 },
      flag: { type: 'boolean' },
      either: { anyOf: [{ type: 'integer' }, { type: 'number' }] },
      limit: { type: 'string', pattern: '^[0-9]+$' },
      feed: { type: 'string', enum: ['normal', 'longpoll'] },
      keep: { enum: ['true', 'false'] },
      maybe: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
    },
  };
  t.same(fieldsNotStrings(schema), ['timeout', 'flag', 'either']);
  t.same(fieldsNotStrings(undefined), []);
});

t.test('a route schema is compiled once per process, whichever instance asks', async (t) => {
  const options = serverOptions(config);
  t.equal(options.schemaController?.compilersFactory, sharedCompilers, 'the service uses them');
  const schema = () => ({
    type: 'object',
    properties: { n: { type: 'string', pattern: '^\\d+$' } },
  });
  const route = { method: 'GET', url: '/x', httpPart: 'querystring' };
  const validator = (s: object) =>
    sharedCompilers.buildValidator!({}, options.ajv as never)({ ...route, schema: s });
  const first = validator(schema());
  t.equal(validator(schema()), first, 'an equal schema, a new object: the same validator');
  t.ok(first({ n: '12' }), 'it validates');
  t.notOk(first({ n: 'x' }));
  t.not(validator({ ...schema(), required: ['n'] }), first, 'another schema: another validator');
  const reply = { method: 'GET', url: '/x', httpStatus: '200' };
  const serializer = () => sharedCompilers.buildSerializer!({}, {})({ ...reply, schema: schema() });
  t.equal(serializer(), serializer(), 'serializers too');
  t.equal(serializer()({ n: '7', extra: 1 }), '{"n":"7"}');
});
