import t from 'tap';
import Fastify, { type RouteOptions } from 'fastify';
import { loadConfig } from '../../server/config.js';
import app, { serverOptions } from '../../server/app.js';

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
