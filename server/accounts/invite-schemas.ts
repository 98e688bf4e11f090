import { Type, type Static } from '@sinclair/typebox';
import { RoleSchema, TeamModeSchema, TeamName } from './schemas.js';

/** Schemas of the invitation routes (server/accounts/routes/invites.ts). */

const StateSchema = Type.Unsafe<'active' | 'used' | 'expired' | 'revoked'>({
  type: 'string',
  enum: ['active', 'used', 'expired', 'revoked'],
});

export const CreateInviteBody = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    teams: Type.Optional(
      Type.Array(
        Type.Object(
          { team: TeamName, mode: Type.Optional(TeamModeSchema) },
          { additionalProperties: false },
        ),
        { maxItems: 50, description: 'memberships the new user gets; mode defaults by role' },
      ),
    ),
    expires_in_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 365, description: 'default INVITE_TTL_DAYS' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateInviteBody = Static<typeof CreateInviteBody>;

export const InviteViewSchema = Type.Object({
  id: Type.String({ description: 'public id (not the code): list and revoke with it' }),
  role: RoleSchema,
  teams: Type.Array(Type.Object({ team: Type.String(), mode: TeamModeSchema })),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  state: StateSchema,
  used_by: Type.Union([Type.String(), Type.Null()]),
  used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CreatedInvite = Type.Object({
  code: Type.String({ description: 'the one-use code: shown this once, stored only hashed' }),
  invite: InviteViewSchema,
});

export const InviteListQuery = Type.Object(
  { state: Type.Optional(StateSchema) },
  { additionalProperties: false },
);
export type InviteListQuery = Static<typeof InviteListQuery>;

export const InviteParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'the invitation id' }),
});
export type InviteParams = Static<typeof InviteParams>;
