import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { errors } from '../error-handler.js';
import { AuditCursorInvalid } from '../errors.js';
import { AuditPageSchema, AuditQuery } from './schemas.js';

const CURSOR = /^\d{4}-\d\d-\d\dT[0-9:.]+Z:[0-9a-f]{12}$/;

/** The privacy routes: the audit log's reader. */
export default async function privacyRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/admin/audit',
    {
      preHandler: app.requireAdmin,
      schema: {
        summary: 'Read the audit log',
        description:
          'Newest first, filtered by actor, subject, action and time (since/until, inclusive). ' +
          'Pages of `limit` entries; pass `next_cursor` back as `cursor` for the next one. ' +
          'Admins only; reading the log is itself recorded. No route changes or deletes an entry.',
        tags: ['privacy'],
        security: [{ bearer: [] }],
        querystring: AuditQuery,
        response: { 200: AuditPageSchema, ...errors(400, 401, 403, 503) },
      },
    },
    async (req) => {
      const { limit: given, cursor, ...filter } = req.query;
      const limit = Math.min(500, Math.max(1, Number(given ?? 100)));
      if (cursor !== undefined && !CURSOR.test(cursor)) throw new AuditCursorInvalid();
      return app.audit.list(filter, limit, cursor);
    },
  );
}
