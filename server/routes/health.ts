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
      return reply.code(up ? 200 : 503).send({
        status: up ? 'ready' : 'unavailable',
        couchdb: up ? 'up' : 'unreachable',
        design_docs: designDocs,
      });
    },
  );
}
