import type { FastifyInstance } from 'fastify';

/** Liveness and readiness for load balancers and orchestrators. */
export default async function healthRoutes(app: FastifyInstance): Promise<void> {
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
          200: {
            type: 'object',
            properties: { status: { type: 'string' }, couchdb: { type: 'string' } },
          },
          503: {
            type: 'object',
            properties: { status: { type: 'string' }, couchdb: { type: 'string' } },
          },
        },
      },
    },
    async (_req, reply) => {
      const up = await app.couch.up();
      return reply
        .code(up ? 200 : 503)
        .send({ status: up ? 'ready' : 'unavailable', couchdb: up ? 'up' : 'unreachable' });
    },
  );
}
