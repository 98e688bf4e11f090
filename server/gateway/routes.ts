import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dbRight } from '../access.js';
import { bulkDocs } from './bulk-docs.js';
import { upstreamCall, type Gateway } from './context.js';
import { docWrite } from './doc-write.js';
import { classify } from './endpoints.js';
import { SyncError, syncErrors } from './errors.js';
import { passThrough } from './pass-through.js';
import { parseSyncPath, type SyncPath } from './path.js';
import { duplicateParam } from './query.js';

const ALLOWED = `CouchDB's replication protocol, for a stock PouchDB with \`Authorization: Bearer\`
added to every request. Only these endpoints exist; \`{db}\` is \`dbs.user\` or one of
\`dbs.shared\` from the login answer.

| method | path | right needed |
|---|---|---|
| GET, HEAD | \`/sync/{db}/\` (database info) | read |
| GET, POST | \`/sync/{db}/_changes\` (normal, longpoll, continuous, eventsource; heartbeats flush) | read |
| POST | \`/sync/{db}/_revs_diff\`, \`/sync/{db}/_bulk_get\` | read |
| GET, POST | \`/sync/{db}/_all_docs\` | read |
| POST | \`/sync/{db}/_bulk_docs\` (sync rules checked per document) | write |
| GET, HEAD, PUT, DELETE | \`/sync/{db}/_local/{id}\` (checkpoints) | read |
| GET, HEAD | \`/sync/{db}/{doc}\`, \`/sync/{db}/_design/{ddoc}\` | read |
| PUT, DELETE | \`/sync/{db}/{doc}\` (sync rules checked) | write |
| GET, HEAD, PUT, DELETE | \`/sync/{db}/{doc}/{attachment}\` | read / write |

Everything else is refused with a CouchDB-shaped \`{"error", "reason"}\`: 404 for what is
not a sync endpoint (\`/sync/\`, \`_find\`, views), 403 for system databases and server
endpoints (\`_all_dbs\`, \`_users\`), database create/delete, \`_security\`, \`_purge\`,
\`_compact\`, design-document writes, other users' databases and writes by read-only team
members, 405 for a method an endpoint does not take. Responses are gzip or brotli by
\`Accept-Encoding\`; request bodies may be \`Content-Encoding: gzip\`. Optional
\`X-Sawa-Device\` names the device for byte metering.`;

const couchError = {
  type: 'object',
  properties: { error: { type: 'string' }, reason: { type: 'string' } },
  required: ['error', 'reason'],
} as const;
const err = (description: string) => ({ ...couchError, description });

const schema = {
  summary: 'Sync gateway: CouchDB replication endpoints for PouchDB',
  description: ALLOWED,
  tags: ['sync'],
  security: [{ bearer: [] }],
  params: {
    type: 'object',
    properties: { '*': { type: 'string', description: '`{db}/…`: one of the paths in the table' } },
  },
  headers: {
    type: 'object',
    properties: {
      'x-sawa-device': {
        type: 'string',
        description: 'device id for byte metering ([A-Za-z0-9._:-], at most 32 characters kept)',
      },
    },
  },
  response: {
    200: { description: "CouchDB's answer, streamed" },
    201: { description: "CouchDB's answer; for _bulk_docs, per-document results in request order" },
    400: err('bad path, body or query (a query parameter named twice, an unreadable attachment)'),
    401: err('missing, expired, forged or revoked access token: refresh it'),
    403: err('no right to this database or endpoint, or a sync rule refused the write'),
    404: err('not a sync endpoint, or no such document'),
    405: err('method not allowed on this endpoint'),
    413: err(
      'request body over SYNC_MAX_REQUEST_BYTES (after gzip decoding), or a _bulk_docs of more than SYNC_MAX_DOCS_PER_REQUEST documents',
    ),
    429: err('over SYNC_RATE_LIMIT_PER_MIN; see Retry-After'),
    503: err('CouchDB unreachable; see Retry-After'),
  },
};

/** `/sync/*`: classify the path, check the token, ask access.ts, then forward or judge. */
export default async function syncRoutes(app: FastifyInstance, opts: { gw: Gateway }) {
  const { gw } = opts;
  app.decorateRequest('syncEndpoint', null);
  app.decorateRequest('syncUserStamp', 0);

  // First hook: refuse what is not a sync endpoint before anything else, and name the
  // route for metrics without the user data a concrete path holds.
  async function endpoint(req: FastifyRequest) {
    req.syncUserStamp = gw.userNotices.stamp();
    const path = parseSyncPath(req.raw.url ?? req.url);
    const found = path instanceof SyncError ? path : classify(req.method, path);
    if (found instanceof SyncError) throw found;
    const twice = duplicateParam((path as SyncPath).query);
    if (twice !== null) throw syncErrors.duplicateParam(twice);
    req.syncEndpoint = found;
    req.metricsRoute = found.route;
  }

  async function authorize(req: FastifyRequest) {
    const ep = req.syncEndpoint;
    if (!ep) throw syncErrors.internal();
    const right = dbRight(req.sawaUser, ep.db);
    if (right === null) throw syncErrors.noAccess();
    if (ep.need === 'write' && right !== 'write') throw syncErrors.readOnly();
  }

  async function handler(req: FastifyRequest, reply: FastifyReply) {
    const call = upstreamCall(gw, req, reply);
    const { kind } = call.endpoint;
    if (kind === 'bulk_docs') return bulkDocs(gw, call, req, reply);
    if (kind === 'doc' && (req.method === 'PUT' || req.method === 'DELETE')) {
      return docWrite(gw, call, req, reply);
    }
    return passThrough(gw, call, req, reply);
  }

  // A fresh array per route: plugins' onRoute hooks (rate limit, compress) push into it.
  const onRequest = () => [endpoint, app.requireUser, authorize];
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/sync/*',
    exposeHeadRoute: false,
    schema,
    onRequest: onRequest(),
    handler,
  });
  // Same handling, kept out of the API docs: HEAD mirrors GET, the rest only earn a 405.
  const hidden = { hide: true };
  app.route({
    method: ['HEAD', 'PATCH', 'OPTIONS'],
    url: '/sync/*',
    exposeHeadRoute: false,
    schema: hidden,
    onRequest: onRequest(),
    handler,
  });
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/sync',
    exposeHeadRoute: false,
    schema: hidden,
    onRequest: [endpoint],
    handler,
  });
}
