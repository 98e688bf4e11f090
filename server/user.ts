/**
 * A Sawa user as every part of the service sees it. A leaf module: the accounts own the
 * records, access.ts decides what a user may reach, the gateway and reports act for one;
 * all of them name the user through these types, so none has to import another for them.
 */

/** Sawa's roles. They are also the CouchDB roles a user carries through proxy authentication. */
export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** How a member uses a team's shared database. */
export type TeamMode = 'read' | 'write';

export interface TeamMembership {
  team: string;
  mode: TeamMode;
}

/** A user as the rest of Sawa sees it: never a password hash or a token. */
export interface SawaUser {
  name: string;
  roles: Role[];
  teams: TeamMembership[];
  disabled: boolean;
  /** An admin reset the password: the user may only change it (POST /me/password). */
  passwordChangeRequired?: boolean;
}
