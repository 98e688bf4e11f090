import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../accounts/service.js';
import { errors } from '../error-handler.js';
import { AdminRequired, StaffRequired } from '../errors.js';
import { syncHealth } from './sync-health.js';
import { operations } from './operations.js';
import { refusedIn } from './refusals.js';
import { UsageMeter } from './usage.js';
import { PageAfter } from '../util/paging.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Each user's daily bytes and refused writes, kept for GET /admin/sync-health. */
    syncUsage: UsageMeter;
  }
}

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
  last_7_days: Type.Union([
    Type.Object(
      {
        bytes_in: Type.Number(),
        bytes_out: Type.Number(),
        rejected: Type.Integer({
          description: 'documents the gateway refused under the sync rules',
        }),
      },
      {
        description:
          'the last 7 UTC days, today included, all instances: bytes on the wire and refused writes (written every SYNC_USAGE_WRITE_SEC, this instance’s unwritten counts added)',
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
    after: PageAfter,
  },
  { additionalProperties: false },
);

/** GET /admin/sync-health: the fleet's phones at a glance (docs/operations.md). */
async function fleetRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = (app.accounts as Accounts).ctx;
  const usage = new UsageMeter(
    app.couch.nano,
    app.config.JOBS_DB,
    app.config.SYNC_USAGE_WRITE_SEC * 1000,
    (err) => app.log.warn({ err: String(err) }, 'sync usage not written; kept for the next write'),
  );
  app.decorate('syncUsage', usage);
  const stop = app.metrics.onWire((req, bytesIn, bytesOut) => {
    const name = req.sawaUser?.name;
    if (name) usage.add(name, { in: bytesIn, out: bytesOut, rejected: refusedIn(req) });
  });
  app.addHook('onClose', async () => {
    stop();
    await usage
      .close()
      .catch((err) => app.log.warn({ err: String(err) }, 'sync usage not written'));
  });
  api.get(
    '/admin/sync-health',
    {
      preHandler: app.requireUser,
      schema: {
        summary: "The fleet's sync health, per user",
        description:
          'Per user, in name order: last pull and push, documents in their database, bytes on the ' +
          'wire since this instance started, bytes and refused writes over the last 7 days, conflicts pending and held, and flags for users who ' +
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
          usage,
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

const Sum = Type.Object({ count: Type.Integer(), amount: Type.Number() });
const OperationsSchema = Type.Object({
  jobs: Type.Array(
    Type.Object({
      job: Type.String(),
      enabled: Type.Boolean(),
      schedule: Type.String(),
      last_run_at: Time,
      last_run_ok: Type.Union([Type.Boolean(), Type.Null()]),
      last_error: Type.Union([Type.String(), Type.Null()]),
      last_ok_at: Time,
      lag_seconds: Type.Union([Type.Integer(), Type.Null()], {
        description: 'seconds since the last good run finished, on any instance',
      }),
      failures_here: Type.Integer({
        description: 'failed runs in this instance since its last good one',
      }),
    }),
  ),
  payments: Type.Object({
    by_state: Type.Object({ queued: Sum, submitted: Sum, succeeded: Sum, failed: Sum }),
    stuck: Type.Integer({ description: 'not final an hour after the request' }),
    flagged: Type.Integer({ description: 'left for a person' }),
  }),
  provider_calls: Type.Array(
    Type.Object({
      provider: Type.String(),
      kind: Type.String(),
      outcome: Type.String(),
      count: Type.Number(),
    }),
    { description: "this instance's sawa_provider_calls_total since it started" },
  ),
});

/** GET /admin/operations: job status and lag, payments by state, provider call outcomes. */
async function operationsRoute(app: FastifyInstance): Promise<void> {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/admin/operations',
    {
      preHandler: app.requireUser,
      schema: {
        summary: 'Job status and lag, payment requests by state, provider call outcomes',
        description:
          "For the operator's page: each job's last run on any instance and seconds since its " +
          'last good one, payment requests counted by state (no personal data), and calls to ' +
          "outside providers by outcome (this instance's counter). Admins only.",
        tags: ['operations'],
        security: [{ bearer: [] }],
        response: { 200: OperationsSchema, ...errors(401, 403, 503) },
      },
    },
    async (req) => {
      if (req.sawaUser.disabled || !req.sawaUser.roles.includes('admin')) {
        throw new AdminRequired();
      }
      return operations({
        nano: app.couch.nano,
        jobsDb: app.config.JOBS_DB,
        scheduler: app.jobs,
        registry: app.metrics?.registry ?? null,
        now: new Date(),
        stuckAfterMs: 3_600_000,
      });
    },
  );
}

async function fleetAndOperations(app: FastifyInstance): Promise<void> {
  await fleetRoutes(app);
  if (app.hasDecorator('jobs')) await operationsRoute(app);
}

export default fp(fleetAndOperations, {
  name: 'sawa-fleet',
  dependencies: ['couch', 'accounts', 'sawa-metrics'],
});
