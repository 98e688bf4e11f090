import { Type, type Static } from '@sinclair/typebox';

/**
 * The shape of one sync rule. The same schema types the rule modules at compile time and
 * checks them at start-up (server/rules/load.ts), so a rule written in plain JavaScript, or
 * one that slips past the compiler, still gets a clear error instead of odd behaviour.
 */

export const ROLES = ['agent', 'supervisor', 'admin'] as const;
/** Sawa roles, stored as CouchDB roles on the user. Server admins (`_admin`) are not listed. */
export type Role = (typeof ROLES)[number];

export const DATABASE_KINDS = ['private', 'team'] as const;
/** `private`: a user's own database (`userdb-…`); `team`: a database shared by a team. */
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export const CONFLICT_STRATEGIES = [
  'last-write-wins',
  'field-merge',
  'immutable',
  'append-only',
  'manual',
] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];

function choice<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

const RoleList = Type.Array(choice(ROLES, 'a Sawa role'), { uniqueItems: true });

const Days = Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('forever')]);

export const SyncRuleSchema = Type.Object(
  {
    type: Type.String({
      pattern: '^[a-z][a-z0-9_]*$',
      description: 'value of the `type` field of documents this rule governs',
    }),
    description: Type.String({ minLength: 1, description: 'what these documents are, for people' }),
    schema: Type.Record(Type.String(), Type.Unknown(), {
      description: 'JSON Schema (draft 2020-12) of the whole document, CouchDB `_` fields included',
    }),
    messages: Type.Optional(
      Type.Record(Type.String(), Type.String({ minLength: 1 }), {
        description:
          'field path (`phone`, `location.lat`) → what a valid value looks like, e.g. ' +
          '"must be an E.164 number: +255 and 9 digits"; replaces the generic text for that field',
      }),
    ),
    idPattern: Type.Optional(
      Type.Object(
        {
          pattern: Type.String({
            minLength: 1,
            description: 'regular expression (u flag) for `_id`',
          }),
          description: Type.String({ minLength: 1, description: 'what a valid id looks like' }),
        },
        { additionalProperties: false },
      ),
    ),
    ownerField: Type.String({
      minLength: 1,
      description: 'field naming the owning user; must equal the writer on create, never changes',
    }),
    immutable: Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }))], {
      description: 'fields set on create and never changed, or "all": no updates at all',
    }),
    writer: choice(['user', 'server'] as const, '"server": only server admins write these'),
    roles: Type.Object(
      {
        create: RoleList,
        update: RoleList,
        delete: RoleList,
        anyOwner: Type.Optional(RoleList),
      },
      {
        additionalProperties: false,
        description:
          'roles that may create, update, delete; anyOwner: roles that may update or delete ' +
          'documents owned by someone else (otherwise only the owner may)',
      },
    ),
    databases: Type.Array(choice(DATABASE_KINDS, 'a kind of database'), {
      minItems: 1,
      uniqueItems: true,
      description: 'kinds of database these documents may live in',
    }),
    conflict: Type.Object(
      {
        strategy: choice(CONFLICT_STRATEGIES, 'how the reconciler resolves conflicts'),
        field: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'timestamp field: the winner for last-write-wins, the tie-break for field-merge',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    retention: Type.Object(
      {
        phoneDays: Days,
        serverDays: Days,
        from: Type.String({ minLength: 1, description: 'date-time field the days count from' }),
      },
      { additionalProperties: false },
    ),
    personalData: Type.Array(Type.String({ minLength: 1 }), {
      uniqueItems: true,
      description: 'fields holding personal data, for export and erasure',
    }),
  },
  { additionalProperties: false },
);

export type SyncRule = Static<typeof SyncRuleSchema>;

/** Texts for the rule-shape check, so a bad rule reads as plainly as a bad document. */
export const SYNC_RULE_MESSAGES: Record<string, string> = {
  immutable: 'must be "all" or a list of field names',
  'retention.phoneDays': 'must be a whole number of days or "forever"',
  'retention.serverDays': 'must be a whole number of days or "forever"',
};
