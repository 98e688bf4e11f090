import { Type } from '@sinclair/typebox';

export const AuditEntrySchema = Type.Object(
  {
    _id: Type.String({ description: 'time-ordered id' }),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    actor_roles: Type.Array(Type.String()),
    action: Type.String({ description: 'access, export, erase, restrict, unrestrict, retention…' }),
    subject: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    ip: Type.Union([Type.String(), Type.Null()]),
    method: Type.Optional(Type.String()),
    route: Type.Optional(Type.String()),
    status: Type.Optional(Type.Integer()),
    detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    subject: Type.Optional(Type.String({ maxLength: 200 })),
    action: Type.Optional(Type.String({ maxLength: 50 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,3}$', description: 'page size, 1 to 500 (default 100)' }),
    ),
    cursor: Type.Optional(
      Type.String({ maxLength: 100, description: 'next_cursor of the page before' }),
    ),
  },
  { additionalProperties: false },
);

export const AuditPageSchema = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const SubjectParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200, description: 'the person: a user name' }),
});

const Docs = Type.Array(Type.Unknown());

export const SubjectExportSchema = Type.Object({
  subject: Type.String(),
  generated_at: Type.String({ format: 'date-time' }),
  account: Type.Union([Type.Unknown(), Type.Null()], {
    description: 'the user record without secrets; null when none is left',
  }),
  databases: Type.Record(Type.String(), Docs, {
    description: 'database → the person’s documents there, attachments inline (base64)',
  }),
  conflict_archive: Docs,
  aggregate_contributions: Docs,
  audit: Docs,
});

export const EraseBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'why (the request, the ticket): kept in the audit log',
    }),
  },
  { additionalProperties: false },
);

export const ErasureSchema = Type.Object({
  ok: Type.Literal(true),
  subject: Type.String(),
  databases: Type.Record(Type.String(), Type.Integer(), {
    description: 'database → documents purged there',
  }),
  conflict_archive: Type.Integer(),
  aggregate_contributions: Type.Integer(),
});

export const RestrictionBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description:
        'why processing stops (the dispute): kept with the restriction and in the audit log',
    }),
  },
  { additionalProperties: false },
);

export const RestrictionSchema = Type.Object({
  subject: Type.String(),
  restricted: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  by: Type.Optional(Type.String()),
});
