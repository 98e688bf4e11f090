import { InviteInvalid, InviteRequired, SignupClosed, UsernameTaken } from '../errors.js';
import type { AccountsContext } from './context.js';
import { verifyPassword } from './passwords.js';
import {
  checkPassword,
  checkUsername,
  createUser,
  login,
  session,
  type AuthResult,
} from './sessions.js';

/**
 * Public signup, as SIGNUP allows: `open` (anyone; an agent, or what an invitation says),
 * `invite` (only with an invitation code, which gives the role and teams) or `closed`.
 *
 * Safe to retry on a dropped link: if the name exists and the password is the one given, it
 * answers as a login (`created: false`) instead of 409, and an invitation already taken by
 * that name stays taken by it.
 */
export async function signup(
  ctx: AccountsContext,
  name: string,
  password: string,
  invite?: string,
): Promise<{ created: boolean; result: AuthResult }> {
  const mode = ctx.config.SIGNUP;
  if (mode === 'closed') throw new SignupClosed();
  if (mode === 'invite' && invite === undefined) throw new InviteRequired();
  checkUsername(name);
  await ctx.ready();
  const existing = await ctx.users.get(name);
  if (existing) {
    if (existing.deleting || !(await verifyPassword(password, existing.password))) {
      throw new UsernameTaken(JSON.stringify(name));
    }
    return { created: false, result: await login(ctx, name, password) };
  }
  checkPassword(ctx, password);
  if (invite === undefined) {
    const doc = await createUser(ctx, { name, password, roles: ['agent'], teams: [] });
    return { created: true, result: await session(ctx, doc, await ctx.tokens.issue(doc)) };
  }

  const claimed = await ctx.invites.claim(invite, name);
  if (!claimed) throw new InviteInvalid();
  let doc;
  try {
    doc = await createUser(ctx, {
      name,
      password,
      roles: [claimed.role],
      teams: claimed.teams,
      invitedBy: claimed.created_by,
    });
  } catch (err) {
    // No account came of it (the name was taken in between, CouchDB failed): the code
    // stays good. A record made but not provisioned keeps it: the retry logs in.
    if (!(await ctx.users.get(name).catch(() => null))) {
      await ctx.invites.release(claimed.id, name).catch((e: unknown) => {
        ctx.log.warn({ err: String(e) }, 'could not give an invitation back');
      });
    }
    throw err;
  }
  return { created: true, result: await session(ctx, doc, await ctx.tokens.issue(doc)) };
}
