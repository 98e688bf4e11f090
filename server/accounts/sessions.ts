import { randomUUID } from 'node:crypto';
import {
  AccountDisabled,
  BadCredentials,
  Internal,
  InvalidUsername,
  RefreshInvalid,
  WeakPassword,
} from '../errors.js';
import { userDbs } from '../access.js';
import type { Stored } from '../couch/upsert.js';
import type { AccountsContext } from './context.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { toSawaUser, type UserDoc } from './records.js';
import type { Role, TeamMembership } from './types.js';
import { usernameProblem } from './usernames.js';

/** What signup, login and refresh answer (the public contract in DESIGN.md). */
export interface AuthResult {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: { name: string; roles: Role[]; password_change_required?: boolean };
  dbs: { user: string; shared: string[] };
}

export interface NewUser {
  name: string;
  password: string;
  roles: Role[];
  teams: TeamMembership[];
  /** Someone else chose the password (an import): the user must change it first. */
  passwordChangeRequired?: boolean;
  invitedBy?: string;
  fullName?: string;
  phone?: string;
}

export function checkPassword(ctx: AccountsContext, password: string): void {
  if ([...password.normalize('NFC')].length < ctx.config.PASSWORD_MIN_LENGTH) {
    throw new WeakPassword(ctx.config.PASSWORD_MIN_LENGTH);
  }
}

export function checkUsername(name: string, opts: { allowReserved?: boolean } = {}): void {
  const problem = usernameProblem(name, opts);
  if (problem) throw new InvalidUsername(problem);
}

/** Creates a user record, then provisions their databases (a crash between: the next login finishes). */
export async function createUser(
  ctx: AccountsContext,
  input: NewUser,
  opts: { allowReserved?: boolean } = {},
): Promise<Stored<UserDoc>> {
  checkUsername(input.name, opts);
  checkPassword(ctx, input.password);
  await ctx.ready();
  const now = new Date().toISOString();
  const doc = await ctx.users.create({
    type: 'user',
    name: input.name,
    uid: randomUUID(),
    password: await hashPassword(input.password, ctx.scrypt),
    roles: [...new Set(input.roles)],
    teams: input.teams,
    disabled: false,
    created_at: now,
    updated_at: now,
    last_pull_at: null,
    last_push_at: null,
    ...(input.passwordChangeRequired && { password_change_required: true }),
    ...(input.invitedBy && { invited_by: input.invitedBy }),
    ...(input.fullName && { full_name: input.fullName }),
    ...(input.phone && { phone: input.phone }),
  });
  await ctx.provision(doc);
  return doc;
}

/** The answer of a login: an access token tied to the refresh session `refreshToken` starts. */
export async function session(
  ctx: AccountsContext,
  doc: UserDoc,
  refreshToken: string,
): Promise<AuthResult> {
  if (!ctx.signAccessToken) throw new Internal('this accounts context cannot sign access tokens');
  const user = toSawaUser(doc)!;
  const sid = refreshToken.split('.')[0]!;
  return {
    access_token: ctx.signAccessToken({
      sub: doc.name,
      uid: doc.uid,
      sid,
      at: Date.now(),
      roles: doc.roles,
    }),
    refresh_token: refreshToken,
    expires_in: ctx.config.ACCESS_TOKEN_TTL_SEC,
    user: {
      name: doc.name,
      roles: [...doc.roles],
      ...(doc.password_change_required && { password_change_required: true }),
    },
    dbs: userDbs(user),
  };
}

/**
 * Wrong password, unknown user and a user being deleted all fail alike, after the same
 * scrypt work (unknown names are checked against a dummy hash).
 */
export async function login(
  ctx: AccountsContext,
  name: string,
  password: string,
): Promise<AuthResult> {
  checkUsername(name, { allowReserved: true });
  await ctx.ready();
  const found = await ctx.users.get(name);
  const doc = found && !found.deleting ? found : null;
  const ok = await verifyPassword(password, doc?.password ?? (await ctx.dummy()));
  if (!doc || !ok) throw new BadCredentials();
  if (doc.disabled) throw new AccountDisabled();
  const current = needsRehash(doc.password, ctx.scrypt) ? await rehash(ctx, doc, password) : doc;
  await ctx.provision(current);
  return session(ctx, current, await ctx.tokens.issue(current));
}

async function rehash(
  ctx: AccountsContext,
  doc: Stored<UserDoc>,
  password: string,
): Promise<UserDoc> {
  const hash = await hashPassword(password, ctx.scrypt);
  try {
    return await ctx.users.update(doc.name, (d) =>
      d.uid === doc.uid ? { ...d, password: hash } : false,
    );
  } catch (err) {
    // The old hash still works; try again at the next login.
    ctx.log.warn({ err: String(err), user: doc.name }, 'password re-hash failed');
    return doc;
  }
}

/** A new access token and the next refresh token; the presented one is used up. */
export async function refresh(ctx: AccountsContext, refreshToken: string): Promise<AuthResult> {
  await ctx.ready();
  const next = await ctx.tokens.rotate(refreshToken);
  const doc = await ctx.users.get(next.user);
  if (!doc || doc.deleting || doc.uid !== next.uid) throw new RefreshInvalid();
  if (doc.disabled) throw new AccountDisabled();
  await ctx.provision(doc);
  return session(ctx, doc, next.token);
}

/** Revokes the session of `refreshToken`, which must be `name`'s own. */
export async function logout(
  ctx: AccountsContext,
  name: string,
  refreshToken: string,
): Promise<void> {
  const doc = await ctx.users.get(name);
  if (!doc) throw new RefreshInvalid();
  await ctx.tokens.revoke(refreshToken, doc);
}
