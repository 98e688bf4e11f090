import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../accounts/service.js';
import { errors } from '../error-handler.js';
import { StaffRequired } from '../errors.js';
import { syncHealth } from './sync-health.js';

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const SyncHealthRowSchema = Type.Object({
  name: Type.String(),
  roles: Type.Array(Type.String()),
  teams: Type.Array(Type.String()),
  last_pull_at: Time,
  last_push_at: Time,
  docs: Type.Union([Type.Integer(), Type.Null()], {
    description: "live documents in the user's database; null when it does not exist",
  }),
  conflicts_pending: Type.Integer({
    description: "documents of the user's database with conflicting live revisions",
  }),
  conflicts_held: Type.Integer({
    description: 'conflicts the reconciler left for a person (npm run conflict-report)',
  }),
  wire_bytes: Type.Union([
    Type.Object(
      {
        in: Type.Number(),
        out: Type.Number(),
        since: Type.String({ description: 'start of this instance: the counter counts from here' }),
      },
      {
        description:
          "bytes on the wire of the user's requests (all devices) since this instance started",
      },
    ),
    Type.Null(),
  ]),
  flags: Type.Array(Type.Union([Type.Literal('stale'), Type.Literal('too_many_docs')]), {
    description:
      'stale: no pull or push for SYNC_HEALTH_STALE_DAYS (never synced: since signup); too_many_docs: more than SYNC_HEALTH_WARN_DOCS documents',
  }),
  days_since_sync: Type.Integer(),
});

const SyncHealthQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,3}$', description: 'page size, 1 to 200 (default 50)' }),
    ),
    after: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'continue after this name (the `next` of the previous page)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** GET /admin/sync-health: the fleet's phones at a glance (docs/operations.md). */
async function fleetRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (app.accounts as Accounts).ctx;
  api.get(
    '/admin/sync-health',
    {
      preHandler: app.requireUser,
      schema: {
        summary: "The fleet's sync health, per user",
        description:
          'Per user, in name order: last pull and push, documents in their database, bytes on the ' +
          'wire since this instance started, conflicts pending and held, and flags for users who ' +
          'have not synced for SYNC_HEALTH_STALE_DAYS or hold more than SYNC_HEALTH_WARN_DOCS ' +
          'documents. Admins see every user; supervisors the members of their teams; anyone ' +
          'else gets 403 SAWA_STAFF_REQUIRED. Pages of `limit`; pass `next` as `after`.',
        tags: ['operations'],
        security: [{ bearer: [] }],
        querystring: SyncHealthQuery,
        response: {
          200: Type.Object({
            users: Type.Array(SyncHealthRowSchema),
            next: Type.Union([Type.String(), Type.Null()]),
            stale_days: Type.Integer(),
            warn_docs: Type.Integer(),
          }),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    async (req) => {
      const staff = req.sawaUser;
      const isStaff = staff.roles.includes('admin') || staff.roles.includes('supervisor');
      if (staff.disabled || !isStaff) throw new StaffRequired();
      const limit = Math.min(200, Math.max(1, Number(req.query.limit ?? 50)));
      const page = await syncHealth(
        {
          ctx,
          nano: app.couch.nano,
          jobsDb: app.config.JOBS_DB,
          registry: app.metrics?.registry ?? null,
          staleDays: app.config.SYNC_HEALTH_STALE_DAYS,
          warnDocs: app.config.SYNC_HEALTH_WARN_DOCS,
        },
        staff,
        { limit, after: req.query.after },
      );
      return {
        ...page,
        stale_days: app.config.SYNC_HEALTH_STALE_DAYS,
        warn_docs: app.config.SYNC_HEALTH_WARN_DOCS,
      };
    },
  );
}

export default fp(fleetRoutes, {
  name: 'sawa-fleet',
  dependencies: ['couch', 'accounts', 'sawa-metrics'],
});
