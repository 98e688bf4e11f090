import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserView } from '../accounts/views.js';
import { errors } from '../error-handler.js';
import { AuditCursorInvalid, SubjectNotFound } from '../errors.js';
import type { Accounts } from '../accounts/service.js';
import { checkSubjectRight } from './access.js';
import { eraseSubject } from './erase.js';
import { getRestriction, lift, restrict } from '../restriction/restriction.js';
import { accountOf, exportSubject } from './export.js';
import { walkSubject } from './subject.js';
import { actorOf, reasonOf } from './hook.js';
import {
  AuditPageSchema,
  AuditQuery,
  EraseBody,
  ErasureSchema,
  RestrictionBody,
  RestrictionSchema,
  SubjectExportSchema,
  SubjectParams,
} from './schemas.js';

const CURSOR = /^\d{4}-\d\d-\d\dT[0-9:.]+Z:[0-9a-f]{12}$/;

/** The privacy routes: the audit log's reader, a person's export. */
export default async function privacyRoutes(app: FastifyInstance): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // The plugin decorates the whole accounts object; its context reads user records.
  const accountsCtx = (app.accounts as Accounts).ctx;
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

  /** The export as a streamed JSON answer; its audit entry is written before the last chunk. */
  const exportOf = (
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    account: UserView | null,
  ) => {
    const text = exportSubject({
      nano: app.couch.nano,
      rules: app.syncRules.ruleSet,
      audit: app.audit,
      aggregatesDb: app.config.AGGREGATES_DB,
      archiveDb: app.config.CONFLICTS_ARCHIVE_DB,
      name,
      account,
      done: async (counts) => {
        await app.audit.record({
          ...actorOf(req),
          action: 'export',
          subject: name,
          reason: reasonOf(req),
          status: 200,
          detail: counts,
        });
      },
    });
    // An error after the first chunk destroys the connection (Fastify's stream handling):
    // the reader sees a cut answer, never a short one that parses.
    return reply.type('application/json; charset=utf-8').send(Readable.from(text));
  };

  /** Whether anything of a person without an account is left (a deleted user's team documents). */
  const holdsAnything = async (name: string) => {
    for await (const found of walkSubject(app.couch.nano, app.syncRules.ruleSet, name, {
      attachments: false,
      aggregatesDb: app.config.AGGREGATES_DB,
      archiveDb: app.config.CONFLICTS_ARCHIVE_DB,
    })) {
      if (found.section === 'databases') return true;
    }
    return false;
  };

  api.get(
    '/me/export',
    {
      preHandler: app.requireUser,
      config: { audited: true },
      schema: {
        summary: 'Everything Sawa holds about you',
        description:
          'Your account (no secrets), every document of your database, your documents in team ' +
          'databases, conflict-archive entries and aggregate contributions of your documents, ' +
          'and the audit entries about you, as one JSON document with attachments inline, streamed ' +
          '(an answer cut short by an error ends without its closing brace: retry it).',
        tags: ['privacy'],
        security: [{ bearer: [] }],
        response: { 200: SubjectExportSchema, ...errors(401, 503) },
      },
    },
    async (req, reply) =>
      exportOf(req, reply, req.sawaUser.name, await accountOf(accountsCtx, req.sawaUser.name)),
  );

  api.get(
    '/admin/subjects/:id/export',
    {
      preHandler: app.requireUser,
      config: { audited: true },
      schema: {
        summary: 'Everything Sawa holds about a person (subject access)',
        description:
          'As GET /me/export, for the person named. Admins: anyone; supervisors: members of ' +
          'their teams. Give the reason in X-Sawa-Reason: the audit log keeps it.',
        tags: ['privacy'],
        security: [{ bearer: [] }],
        params: SubjectParams,
        response: { 200: SubjectExportSchema, ...errors(401, 403, 404, 503) },
      },
    },
    async (req, reply) => {
      const name = req.params.id;
      const account = await accountOf(accountsCtx, name);
      checkSubjectRight(req.sawaUser, account, 'export');
      if (!account && !(await holdsAnything(name))) throw new SubjectNotFound(JSON.stringify(name));
      return exportOf(req, reply, name, account);
    },
  );

  api.post(
    '/admin/subjects/:id/erase',
    {
      preHandler: app.requireUser,
      config: { audited: true },
      bodyLimit: 4096,
      schema: {
        summary: 'Erase a person (right to erasure)',
        description:
          'Admins only. `_purge` (every revision, no tombstone) of the person’s documents: all of ' +
          'their own database and those they own in team databases; their conflict-archive ' +
          'entries; their aggregate contributions (taken out of the report buckets first). Each ' +
          'database gets a sawa_purge instruction, so phones that sync it purge their copies. ' +
          'The account stays: DELETE /admin/users/{name} removes it. Safe to repeat.',
        tags: ['privacy'],
        security: [{ bearer: [] }],
        params: SubjectParams,
        body: EraseBody,
        response: { 200: ErasureSchema, ...errors(400, 401, 403, 413, 415, 503) },
      },
    },
    async (req) => {
      const name = req.params.id;
      checkSubjectRight(req.sawaUser, null, 'erase');
      const result = await eraseSubject({
        nano: app.couch.nano,
        rules: app.syncRules.ruleSet,
        aggregatesDb: app.config.AGGREGATES_DB,
        archiveDb: app.config.CONFLICTS_ARCHIVE_DB,
        name,
        log: req.log,
      });
      await app.audit.record({
        ...actorOf(req),
        action: 'erase',
        subject: name,
        reason: req.body.reason,
        status: 200,
        detail: { ...result },
      });
      return { ok: true as const, subject: name, ...result };
    },
  );

  const privacyDb = app.config.PRIVACY_DB;
  const restrictionSchema = (summary: string, description: string) => ({
    summary,
    description: `${description} Admins only.`,
    tags: ['privacy'],
    security: [{ bearer: [] }],
    params: SubjectParams,
    response: { 200: RestrictionSchema, ...errors(400, 401, 403, 503) },
  });

  api.get(
    '/admin/subjects/:id/restriction',
    {
      preHandler: app.requireAdmin,
      schema: restrictionSchema(
        'Is processing of a person’s data restricted?',
        'The restriction, if any.',
      ),
    },
    async (req) => {
      const r = await getRestriction(app.couch.nano, privacyDb, req.params.id);
      if (!r) return { subject: req.params.id, restricted: false };
      return { subject: r.subject, restricted: true, reason: r.reason, since: r.since, by: r.by };
    },
  );

  api.put(
    '/admin/subjects/:id/restriction',
    {
      preHandler: app.requireAdmin,
      config: { audited: true },
      bodyLimit: 4096,
      schema: {
        ...restrictionSchema(
          'Restrict processing of a person’s data',
          'While it stands, no SMS, no payment and no aggregation for the person (the integrations ' +
            'and jobs ask isRestricted()). Setting it again replaces the reason and keeps the date.',
        ),
        body: RestrictionBody,
      },
    },
    async (req) => {
      const name = req.params.id;
      const r = await restrict(app.couch.nano, privacyDb, {
        subject: name,
        reason: req.body.reason,
        by: req.sawaUser.name,
      });
      await app.audit.record({
        ...actorOf(req),
        action: 'restrict',
        subject: name,
        reason: req.body.reason,
        status: 200,
      });
      return { ...r, restricted: true };
    },
  );

  api.delete(
    '/admin/subjects/:id/restriction',
    {
      preHandler: app.requireAdmin,
      config: { audited: true },
      schema: restrictionSchema(
        'Lift a restriction',
        'Processing resumes. Give the reason in X-Sawa-Reason: the audit log keeps it.',
      ),
    },
    async (req) => {
      const name = req.params.id;
      const lifted = await lift(app.couch.nano, privacyDb, name);
      await app.audit.record({
        ...actorOf(req),
        action: 'unrestrict',
        subject: name,
        reason: reasonOf(req),
        status: 200,
        detail: { lifted },
      });
      return { subject: name, restricted: false };
    },
  );
}
