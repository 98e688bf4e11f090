import { InvalidTeam, SelfLockout, UserNotFound } from '../errors.js';
import { TEAM_NAME } from '../provisioning/names.js';
import { repairAll, type RepairReport } from '../provisioning/repair.js';
import type { AccountsContext } from './context.js';
import type { UserDoc } from './records.js';
import { checkUsername } from './sessions.js';
import type { Role, TeamMode } from './types.js';
import { matches, userView, type UserFilter, type UserView } from './views.js';

/**
 * What admins do to users. Routes and the provision script call these; none of them checks
 * who is asking (the routes' requireAdmin does), except that an admin cannot lock
 * themselves out.
 */

/** The mode a new member gets unless the admin says otherwise: supervisors write, others read. */
export function defaultTeamMode(roles: readonly Role[]): TeamMode {
  return roles.includes('supervisor') ? 'write' : 'read';
}

export function checkTeam(team: string): void {
  if (!TEAM_NAME.test(team)) throw new InvalidTeam(JSON.stringify(team));
}

async function liveUser(ctx: AccountsContext, name: string): Promise<UserDoc> {
  checkUsername(name, { allowReserved: true });
  await ctx.ready();
  const doc = await ctx.users.get(name);
  if (!doc || doc.deleting) throw new UserNotFound(JSON.stringify(name));
  return doc;
}

async function change(
  ctx: AccountsContext,
  name: string,
  fn: (doc: UserDoc) => UserDoc | false,
): Promise<UserView> {
  checkUsername(name, { allowReserved: true });
  await ctx.ready();
  const doc = await ctx.users.update(name, (d) => {
    if (d.deleting) throw new UserNotFound(JSON.stringify(name));
    return fn(d);
  });
  return userView(doc);
}

export async function getUserView(ctx: AccountsContext, name: string): Promise<UserView> {
  return userView(await liveUser(ctx, name));
}

export function setDisabled(ctx: AccountsContext, actor: string, name: string, disabled: boolean) {
  if (disabled && actor === name) throw new SelfLockout('disable');
  return change(ctx, name, (d) => (d.disabled === disabled ? false : { ...d, disabled }));
}

export function setRoles(ctx: AccountsContext, actor: string, name: string, roles: Role[]) {
  if (actor === name && !roles.includes('admin'))
    throw new SelfLockout('remove the admin role from');
  const wanted = [...new Set(roles)].sort();
  return change(ctx, name, (d) =>
    JSON.stringify([...d.roles].sort()) === JSON.stringify(wanted)
      ? false
      : { ...d, roles: wanted },
  );
}

/** Adds (or changes the mode of) a membership. The team database is ready before the record lists it. */
export async function addTeam(ctx: AccountsContext, name: string, team: string, mode?: TeamMode) {
  checkTeam(team);
  await liveUser(ctx, name);
  await ctx.provisioner.team(team);
  return change(ctx, name, (d) => {
    const m = mode ?? d.teams.find((t) => t.team === team)?.mode ?? defaultTeamMode(d.roles);
    const others = d.teams.filter((t) => t.team !== team);
    if (d.teams.some((t) => t.team === team && t.mode === m)) return false;
    return {
      ...d,
      teams: [...others, { team, mode: m }].sort((a, b) => a.team.localeCompare(b.team)),
    };
  });
}

export function removeTeam(ctx: AccountsContext, name: string, team: string) {
  checkTeam(team);
  return change(ctx, name, (d) =>
    d.teams.some((t) => t.team === team)
      ? { ...d, teams: d.teams.filter((t) => t.team !== team) }
      : false,
  );
}

/**
 * Deletes a user in two recorded steps: first the record is marked (tokens stop working at
 * once), then the database is dropped or locked, tokens pruned and the record purged. A crash
 * in between is finished by the next delete or by the repair script.
 */
export async function deleteUser(
  ctx: AccountsContext,
  actor: string,
  name: string,
  keepData: boolean,
) {
  if (actor === name) throw new SelfLockout('delete');
  await liveUser(ctx, name);
  await ctx.users.update(name, (d) => ({
    ...d,
    deleting: { keep_data: keepData, requested_at: new Date().toISOString() },
  }));
  await finishDeletion(ctx, name);
}

export async function finishDeletion(ctx: AccountsContext, name: string): Promise<string[]> {
  const doc = await ctx.users.get(name);
  if (!doc?.deleting) return [];
  const changes = doc.deleting.keep_data
    ? await ctx.provisioner.lockUser(name)
    : await ctx.provisioner.dropUser(name);
  const pruned = await ctx.tokens.prune({ user: name });
  await ctx.users.remove(name);
  return [...changes, ...(pruned ? [`revoked ${pruned} sessions`] : []), `removed user ${name}`];
}

/** A page of users matching the filter, in name order; `next` continues after the last one. */
export async function listUsers(
  ctx: AccountsContext,
  filter: UserFilter,
  page: { limit: number; after?: string },
): Promise<{ users: UserView[]; next: string | null }> {
  await ctx.ready();
  const users: UserView[] = [];
  const now = Date.now();
  for await (const doc of ctx.users.scan({ after: page.after, batch: Math.max(page.limit, 100) })) {
    if (!matches(doc, filter, now)) continue;
    if (users.length === page.limit) return { users, next: users.at(-1)!.name };
    users.push(userView(doc));
  }
  return { users, next: null };
}

export async function repair(
  ctx: AccountsContext,
  opts: { concurrency: number; progress?: (line: string) => void },
): Promise<RepairReport & { pruned: number }> {
  await ctx.ready();
  const report = await repairAll(ctx.users.scan(), ctx.provisioner, {
    ...opts,
    finishDeletion: (name) => finishDeletion(ctx, name),
  });
  const pruned = await ctx.tokens.prune();
  opts.progress?.(`refresh sessions: pruned ${pruned} expired or revoked`);
  return { ...report, pruned };
}
