import { Type, type Static } from '@sinclair/typebox';
import { Password, RoleSchema, TeamModeSchema, TeamName, Username } from './schemas.js';
import { PageAfter } from '../util/paging.js';

/** Schemas of the admin routes. Query values arrive as strings (the server does not coerce). */

const Digits = (description: string, maxLength = 5) =>
  Type.String({ pattern: '^[0-9]+$', maxLength, description });

export const NameParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, description: 'the user name (URL-encoded)' }),
});
export type NameParams = Static<typeof NameParams>;

export const TeamParams = Type.Object({
  name: NameParams.properties.name,
  team: Type.String({ minLength: 1, maxLength: 256, description: 'the team slug' }),
});
export type TeamParams = Static<typeof TeamParams>;

export const CreateUserBody = Type.Object(
  {
    username: Username,
    password: Password,
    roles: Type.Optional(
      Type.Array(RoleSchema, { minItems: 1, uniqueItems: true, description: 'default ["agent"]' }),
    ),
    teams: Type.Optional(
      Type.Array(
        Type.Object(
          { team: TeamName, mode: Type.Optional(TeamModeSchema) },
          { additionalProperties: false },
        ),
        {
          maxItems: 50,
          description: 'memberships; mode defaults to write for supervisors, read otherwise',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const ListQuery = Type.Object(
  {
    inactive_days: Type.Optional(
      Digits(
        'only users whose last pull or push (or, if they never synced, their signup) is at least this many days ago',
      ),
    ),
    role: Type.Optional(RoleSchema),
    team: Type.Optional(TeamName),
    limit: Type.Optional(Digits('page size, 1 to 1000 (default 100)', 4)),
    after: PageAfter,
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const DeleteQuery = Type.Object(
  {
    keep_data: Type.Optional(
      Type.Unsafe<'true' | 'false'>({
        type: 'string',
        enum: ['true', 'false'],
        description:
          'true: keep the user database, closed to all but server admins; default: delete it',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DeleteQuery = Static<typeof DeleteQuery>;

export const ResetPasswordBody = Type.Object(
  { password: Password },
  { additionalProperties: false },
);
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

export const RolesBody = Type.Object(
  { roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }) },
  { additionalProperties: false },
);
export type RolesBody = Static<typeof RolesBody>;

export const TeamBody = Type.Object(
  { mode: Type.Optional(TeamModeSchema) },
  { additionalProperties: false },
);
export type TeamBody = Static<typeof TeamBody>;

export const DeleteResult = Type.Object({
  ok: Type.Literal(true),
  name: Type.String(),
  db: Type.String(),
  data: Type.Union([Type.Literal('deleted'), Type.Literal('kept')]),
});
