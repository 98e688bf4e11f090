import type { PasswordHash } from './passwords.js';
import type { Role, SawaUser, TeamMembership } from '../user.js';

/**
 * The documents of the accounts database (ACCOUNTS_DB), admin-only:
 *   `user:<name>`      one per user, below;
 *   `refresh:<family>` one per login session, see refresh-tokens.ts.
 */

export interface UserDoc {
  type: 'user';
  name: string;
  /**
   * Random id of this incarnation of the name. Tokens carry it, so a token issued before a
   * user was deleted never works for a later account of the same name.
   */
  uid: string;
  password: PasswordHash;
  roles: Role[];
  teams: TeamMembership[];
  disabled: boolean;
  created_at: string;
  updated_at: string;
  last_pull_at: string | null;
  last_push_at: string | null;
  /** Set by an admin's password reset: nothing but a password change until it is cleared. */
  password_change_required?: boolean;
  /**
   * Access tokens issued before this time stop working (a password change or reset), except
   * those of session `session_kept`, the one the user changed their password from.
   */
  sessions_revoked_at?: string;
  session_kept?: string | null;
  /** From a bulk import: the agent's name as people say it, and their phone (E.164). */
  full_name?: string;
  phone?: string;
  /** Who created the invitation this user signed up with. */
  invited_by?: string;
  /** Set when an admin deletes the user; the deletion finishes (or a repair finishes it) after. */
  deleting?: { keep_data: boolean; requested_at: string };
}

export const userDocId = (name: string): string => `user:${name}`;
export const USER_PREFIX = 'user:';

/** The user as the rest of Sawa sees it; null while the user is being deleted. */
export function toSawaUser(doc: UserDoc): SawaUser | null {
  if (doc.deleting) return null;
  return {
    name: doc.name,
    roles: [...doc.roles],
    teams: doc.teams.map((m) => ({ ...m })),
    disabled: doc.disabled,
    ...(doc.password_change_required && { passwordChangeRequired: true }),
  };
}

/** The newest of the two sync times, or null when the user never synced. */
export function lastSyncAt(doc: UserDoc): string | null {
  const times = [doc.last_pull_at, doc.last_push_at].filter((t): t is string => !!t);
  return times.length ? times.sort().at(-1)! : null;
}

/**
 * Everything of a record that `requireUser` reads (who the token's user is, whether the
 * token still holds, what they may do), as one string; null for an absent or deleted record.
 * Two versions with the same value admit the same tokens with the same rights: a write that
 * leaves it alone (the sync times) needs no one re-checked.
 */
export function authState(doc: (UserDoc & { _deleted?: boolean }) | null): string | null {
  if (!doc || doc._deleted) return null;
  return JSON.stringify([
    doc.name,
    doc.uid,
    doc.roles,
    doc.teams,
    doc.disabled,
    doc.deleting ?? null,
    doc.password_change_required ?? false,
    doc.sessions_revoked_at ?? null,
    doc.session_kept ?? null,
  ]);
}
