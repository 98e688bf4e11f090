import type { FastifyInstance } from 'fastify';

/** Liveness and readiness for load balancers and orchestrators. */
export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.addSchema({
    $id: 'readiness',
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ready', 'unavailable'] },
      couchdb: { type: 'string', enum: ['up', 'unreachable'] },
      design_docs: {
        type: 'string',
        description:
          'fleet-wide design-doc rollout: pending, running, current, incomplete, stopped',
      },
      jobs: {
        type: 'string',
        enum: ['ok', 'failing'],
        description: 'failing: a job run by this instance failed its last few runs in a row',
      },
      failing_jobs: {
        type: 'array',
        description: 'the jobs that keep failing, with the last reason',
        items: {
          type: 'object',
          properties: {
            job: { type: 'string' },
            failures: { type: 'integer' },
            failing_since: { type: 'string' },
            reason: { type: 'string' },
          },
        },
      },
    },
  });
  app.get(
    '/health',
    {
      schema: {
        summary: 'The process is up',
        tags: ['operations'],
        response: {
          200: { type: 'object', properties: { status: { type: 'string', const: 'ok' } } },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'CouchDB is reachable: ready to serve',
        tags: ['operations'],
        response: {
          200: { $ref: 'readiness#' },
          503: { $ref: 'readiness#' },
        },
      },
    },
    async (_req, reply) => {
      const up = await app.couch.up();
      // Users' own databases get current design docs at every login (provisioning), so a
      // fleet-wide rollout still running does not make the service unsafe: it is reported,
      // not waited for; a large fleet would otherwise keep a new instance out of service.
      const designDocs = app.hasDecorator('designDocsStatus')
        ? app.designDocsStatus.state
        : 'unknown';
      // Failing jobs do not stop this instance serving phones, so they are reported, not 503.
      const failing = app.hasDecorator('jobs') ? app.jobs.health.failing() : [];
      return reply.code(up ? 200 : 503).send({
        status: up ? 'ready' : 'unavailable',
        couchdb: up ? 'up' : 'unreachable',
        design_docs: designDocs,
        jobs: failing.length ? 'failing' : 'ok',
        ...(failing.length && {
          failing_jobs: failing.map(({ job, failures, failing_since, reason }) => ({
            job,
            failures,
            failing_since,
            // /ready is open to load balancers: no user database names (personal data).
            reason: reason?.replace(/userdb-[0-9a-f]+/g, 'userdb-…').slice(0, 300),
          })),
        }),
      });
    },
  );
}
