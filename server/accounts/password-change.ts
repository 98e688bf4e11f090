import { BadCredentials, UserNotFound } from '../errors.js';
import type { AccountsContext } from './context.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { checkPassword, checkUsername } from './sessions.js';
import { userView, type UserView } from './views.js';

/**
 * Passwords changed after signup. Both ways end every other session at once: their refresh
 * tokens are deleted, and their access tokens (issued before `sessions_revoked_at`) are
 * refused by requireUser from the next request, not when they expire.
 */

/** The user's own change, proven with the old password; the session it is made from lives on. */
export async function changePassword(
  ctx: AccountsContext,
  name: string,
  session: string | null,
  oldPassword: string,
  newPassword: string,
): Promise<{ revoked: number }> {
  await ctx.ready();
  const doc = await ctx.users.get(name);
  if (!doc || doc.deleting) throw new UserNotFound(JSON.stringify(name));
  if (!(await verifyPassword(oldPassword, doc.password))) throw new BadCredentials();
  checkPassword(ctx, newPassword);
  const password = await hashPassword(newPassword, ctx.scrypt);
  await ctx.users.update(name, (d) =>
    d.uid !== doc.uid
      ? false
      : {
          ...d,
          password,
          password_change_required: false,
          sessions_revoked_at: new Date().toISOString(),
          session_kept: session,
        },
  );
  return { revoked: await ctx.tokens.prune({ user: name, except: session ?? undefined }) };
}

/**
 * An admin sets a password (forgotten, or a phone lost): every session ends and the user
 * must choose a new one at their next login before anything else.
 */
export async function resetPassword(
  ctx: AccountsContext,
  name: string,
  newPassword: string,
): Promise<UserView> {
  checkUsername(name, { allowReserved: true });
  checkPassword(ctx, newPassword);
  await ctx.ready();
  const password = await hashPassword(newPassword, ctx.scrypt);
  const doc = await ctx.users.update(name, (d) => {
    if (d.deleting) throw new UserNotFound(JSON.stringify(name));
    return {
      ...d,
      password,
      password_change_required: true,
      sessions_revoked_at: new Date().toISOString(),
      session_kept: null,
    };
  });
  await ctx.tokens.prune({ user: name });
  return userView(doc);
}
