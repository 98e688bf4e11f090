import { InviteForbidden, InviteNotFound } from '../errors.js';
import { checkTeam, defaultTeamMode } from './admin.js';
import type { AccountsContext } from './context.js';
import { inviteHash, inviteIdOf, newInviteCode, normalizeInviteCode } from './invite-codes.js';
import { inviteState, type InviteDoc, type InviteState } from './invites.js';
import type { Role, SawaUser, TeamMembership, TeamMode } from './types.js';

/**
 * Who may invite whom. An admin invites anyone into any team. A supervisor invites agents
 * and supervisors only into teams they belong to, with no more than their own mode there,
 * and sees and revokes only the invitations they made. Routes check the caller is one of
 * the two (InviterRequired); the rest is decided here, so scripts obey it too.
 */

export interface InviteRequest {
  role?: Role;
  teams?: Array<{ team: string; mode?: TeamMode }>;
  expires_in_days?: number;
}

export interface InviteView {
  id: string;
  role: Role;
  teams: TeamMembership[];
  created_by: string;
  created_at: string;
  expires_at: string;
  state: InviteState;
  used_by: string | null;
  used_at: string | null;
  revoked_at: string | null;
}

export const isAdmin = (u: SawaUser) => u.roles.includes('admin');

export function inviteView(doc: InviteDoc, now = Date.now()): InviteView {
  return {
    id: doc.id,
    role: doc.role,
    teams: doc.teams.map((m) => ({ ...m })),
    created_by: doc.created_by,
    created_at: doc.created_at,
    expires_at: doc.expires_at,
    state: inviteState(doc, now),
    used_by: doc.used_by,
    used_at: doc.used_at,
    revoked_at: doc.revoked_at,
  };
}

function allowedMemberships(actor: SawaUser, req: InviteRequest, role: Role): TeamMembership[] {
  const asked = [...new Map((req.teams ?? []).map((m) => [m.team, m])).values()];
  const teams = asked.map((m) => {
    checkTeam(m.team);
    return { team: m.team, mode: m.mode ?? defaultTeamMode([role]) };
  });
  if (isAdmin(actor)) return teams;
  if (role === 'admin') throw new InviteForbidden('only an admin can invite an admin');
  if (teams.length === 0)
    throw new InviteForbidden('a supervisor invites into one of their own teams: name it in teams');
  for (const m of teams) {
    const own = actor.teams.find((t) => t.team === m.team);
    if (!own)
      throw new InviteForbidden(`a supervisor invites only into their own teams, not "${m.team}"`);
    if (m.mode === 'write' && own.mode !== 'write')
      throw new InviteForbidden(
        `you only read team "${m.team}": you cannot give write access to it`,
      );
  }
  return teams;
}

/** A new one-use code. The answer is the only time the code is ever shown. */
export async function createInvite(
  ctx: AccountsContext,
  actor: SawaUser,
  req: InviteRequest,
): Promise<{ code: string; invite: InviteView }> {
  const role = req.role ?? 'agent';
  const teams = allowedMemberships(actor, req, role);
  await ctx.ready();
  const code = newInviteCode();
  const hash = inviteHash(normalizeInviteCode(code)!);
  const now = new Date();
  const days = req.expires_in_days ?? ctx.config.INVITE_TTL_DAYS;
  const doc: InviteDoc = {
    type: 'invite',
    id: inviteIdOf(hash),
    code_sha256: hash,
    role,
    teams,
    created_by: actor.name,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + days * 86_400_000).toISOString(),
    used_by: null,
    used_at: null,
    revoked_at: null,
  };
  await ctx.invites.create(doc);
  return { code, invite: inviteView(doc) };
}

const mine = (actor: SawaUser) => (doc: InviteDoc) =>
  isAdmin(actor) || doc.created_by === actor.name;

export async function listInvites(
  ctx: AccountsContext,
  actor: SawaUser,
  state?: InviteState,
): Promise<InviteView[]> {
  await ctx.ready();
  const now = Date.now();
  const out: InviteView[] = [];
  for await (const doc of ctx.invites.scan()) {
    if (!mine(actor)(doc)) continue;
    const view = inviteView(doc, now);
    if (!state || view.state === state) out.push(view);
  }
  return out.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** Revokes an unused code; someone else's (for a supervisor) is as unknown as a missing one. */
export async function revokeInvite(
  ctx: AccountsContext,
  actor: SawaUser,
  id: string,
): Promise<InviteView> {
  await ctx.ready();
  const doc = /^[0-9a-f]{16}$/.test(id) ? await ctx.invites.revoke(id, mine(actor)) : null;
  if (!doc) throw new InviteNotFound(JSON.stringify(id));
  return inviteView(doc);
}
