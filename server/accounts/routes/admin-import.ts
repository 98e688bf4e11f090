import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Accounts } from '../service.js';
import { importUsers } from '../import-users.js';
import { MAX_IMPORT_ROWS, readImport } from '../import-rows.js';
import { errors } from '../schemas.js';

/** Big enough for MAX_IMPORT_ROWS rows of a few hundred bytes each. */
const BODY_LIMIT = 4 * 1024 * 1024;

const Result = Type.Object({
  row: Type.Integer({ description: '1 for the first row after a CSV header' }),
  username: Type.Union([Type.String(), Type.Null()]),
  status: Type.Unsafe<'created' | 'exists' | 'failed'>({
    type: 'string',
    enum: ['created', 'exists', 'failed'],
  }),
  code: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  password: Type.Optional(
    Type.String({ description: 'the generated first password, when the row gave none' }),
  ),
});

const Row = Type.Object(
  {
    username: Type.Optional(Type.String({ description: 'default: the phone number' })),
    name: Type.Optional(Type.String({ description: 'the name people know the agent by' })),
    phone: Type.Optional(Type.String({ description: 'E.164, e.g. +255712345678' })),
    role: Type.Optional(Type.String({ description: 'agent (default), supervisor or admin' })),
    teams: Type.Optional(
      Type.Unknown({ description: '"arusha;moshi:write", or a list of names or {team, mode}' }),
    ),
    password: Type.Optional(Type.String({ description: 'default: generated and answered' })),
  },
  { description: 'one agent; each row is checked on its own and answered in results' },
);

/** Bulk onboarding: admins only. */
export default async function adminImportRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts },
): Promise<void> {
  const { ctx } = opts.accounts;
  app.addHook('onRequest', app.requireAdmin);
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/admin/users/import',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        summary: 'Import users (bulk onboarding)',
        description:
          'CSV (text/csv, header row: name, phone, role, teams, and optionally username and password) or ' +
          `JSON (an array of rows, or {"users": [...]}); at most ${MAX_IMPORT_ROWS} rows. Each row is ` +
          'answered on its own: created (with the generated first password when the row gave none), ' +
          'exists (left alone: running an import again is safe) or failed (code and message). Imported ' +
          'users must change their password at first login. Teams in CSV: names separated by ";", ' +
          'each optionally :read or :write.',
        tags: ['admin'],
        security: [{ bearer: [] }],
        body: {
          content: {
            'application/json': {
              schema: Type.Union([
                Type.Array(Row),
                Type.Object({ users: Type.Array(Row) }, { additionalProperties: false }),
              ]),
            },
            'text/csv': { schema: Type.String() },
          },
        },
        response: {
          200: Type.Object({
            created: Type.Integer(),
            exists: Type.Integer(),
            failed: Type.Integer(),
            results: Type.Array(Result),
          }),
          ...errors(400, 401, 403, 413, 415, 503),
        },
      },
    },
    async (req) => {
      const csv = (req.headers['content-type'] ?? '').startsWith('text/csv');
      return importUsers(ctx, readImport(req.body, csv ? 'csv' : 'json'));
    },
  );
}
