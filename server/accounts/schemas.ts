import { Type, type Static } from '@sinclair/typebox';
import { ROLES } from './types.js';
import { USERNAME_MAX, USERNAME_RULES } from './usernames.js';

/**
 * Route schemas of the accounts API: validation, types and OpenAPI from one place. Name
 * rules are checked in code (usernames.ts) rather than by a pattern here, so a bad name
 * gets a message that says what is wrong with it.
 */

const choice = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const Username = Type.String({
  minLength: 1,
  maxLength: USERNAME_MAX,
  description: USERNAME_RULES,
  examples: ['amina', '+255712345678'],
});
export const Password = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'at least PASSWORD_MIN_LENGTH characters (default 8)',
});
export const RoleSchema = choice(ROLES, 'a Sawa role');
export const TeamName = Type.String({
  minLength: 1,
  maxLength: 63,
  description: 'team slug: lower-case letters, digits and -, starting with a letter',
  examples: ['arusha-north'],
});
export const TeamModeSchema = choice(
  ['read', 'write'] as const,
  'read: replicate the team database down only; write: also push changes to it',
);

export const Credentials = Type.Object(
  { username: Username, password: Password },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

export const InviteCode = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'an invitation code (XXXX-XXXX-XXXX-XXXX; case, dashes and spaces do not matter)',
});

export const SignupBody = Type.Object(
  {
    username: Username,
    password: Password,
    invite: Type.Optional(InviteCode),
  },
  { additionalProperties: false },
);
export type SignupBody = Static<typeof SignupBody>;

export const PasswordChangeBody = Type.Object(
  { old_password: Password, new_password: Password },
  { additionalProperties: false },
);
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

export const RefreshBody = Type.Object(
  {
    refresh_token: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'the latest refresh token; each works once',
    }),
  },
  { additionalProperties: false },
);
export type RefreshBody = Static<typeof RefreshBody>;

export const Dbs = Type.Object({
  user: Type.String({ description: "the user's own database: userdb- + hex of the UTF-8 name" }),
  shared: Type.Array(Type.String(), { description: 'team databases: team-<slug>' }),
});

export const AuthResponse = Type.Object({
  access_token: Type.String({ description: 'JWT for Authorization: Bearer' }),
  refresh_token: Type.String({
    description: 'opaque; exchange at POST /auth/refresh before it expires',
  }),
  expires_in: Type.Integer({ description: 'access-token lifetime in seconds' }),
  user: Type.Object({
    name: Type.String(),
    roles: Type.Array(RoleSchema),
    password_change_required: Type.Optional(
      Type.Boolean({
        description:
          'true after an admin set the password: every route but POST /me/password, GET /me and logout answers 403 until it is changed',
      }),
    ),
  }),
  dbs: Dbs,
});

export const UserViewSchema = Type.Object({
  name: Type.String(),
  roles: Type.Array(RoleSchema),
  teams: Type.Array(Type.Object({ team: Type.String(), mode: TeamModeSchema, db: Type.String() })),
  disabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  last_pull_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_push_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  dbs: Dbs,
  password_change_required: Type.Optional(
    Type.Boolean({ description: 'an admin set the password: change it with POST /me/password' }),
  ),
  full_name: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String({ description: 'E.164' })),
});

// The error body is the app's one error handler's (server/error-handler.ts).
export { ErrorResponse, errors } from '../error-handler.js';

export const Ok = Type.Object({ ok: Type.Literal(true) });
