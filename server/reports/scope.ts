import { reportRight } from '../access.js';
import type { SawaUser } from '../user.js';
import { teamDbName, userDbName } from '../provisioning/names.js';
import { ReportsForbidden, ReportTeamForbidden } from '../errors.js';

/**
 * Which buckets a viewer may see. Buckets carry their source database as scope (see
 * docs/aggregates.md): a team's data is its team database plus the private databases of
 * its members as they are now, so a membership change applies to past data at once.
 */
export type ScopeFilter = { all: true } | { all: false; dbs: Set<string> };

/** The members of each team, by name. */
export type MembersOf = (teams: string[]) => Promise<Map<string, string[]>>;

/**
 * The scopes `viewer` may read, narrowed to `team` when asked; throws ReportsForbidden for
 * agents (and anyone reportRight refuses), ReportTeamForbidden for a team not theirs.
 */
export async function viewerScope(
  viewer: SawaUser,
  membersOf: MembersOf,
  team?: string,
): Promise<ScopeFilter> {
  const right = reportRight(viewer);
  if (!right) throw new ReportsForbidden();
  if (right.all && team === undefined) return { all: true };
  if (!right.all && team !== undefined && !right.teams.includes(team)) {
    throw new ReportTeamForbidden(JSON.stringify(team));
  }
  const teams = team !== undefined ? [team] : right.all ? [] : right.teams;
  const members = await membersOf(teams);
  const dbs = new Set<string>();
  for (const t of teams) {
    dbs.add(teamDbName(t));
    for (const name of members.get(t) ?? []) dbs.add(userDbName(name));
  }
  // A supervisor's own work counts in their own report, whichever team they pick.
  if (!right.all) dbs.add(userDbName(viewer.name));
  return { all: false, dbs };
}

/**
 * Team membership from the user records, read once per `ttlMs` at most (a full scan of the
 * accounts database, which has no index by team): reports may lag a membership change by that.
 */
export function cachedMembers(
  scan: () => AsyncIterable<{
    name: string;
    teams: ReadonlyArray<{ team: string }>;
    deleting?: unknown;
  }>,
  ttlMs: number,
): MembersOf {
  let cache: { at: number; byTeam: Promise<Map<string, string[]>> } | null = null;
  const load = async () => {
    const byTeam = new Map<string, string[]>();
    for await (const u of scan()) {
      if (u.deleting) continue;
      for (const m of u.teams) {
        if (!byTeam.has(m.team)) byTeam.set(m.team, []);
        byTeam.get(m.team)!.push(u.name);
      }
    }
    return byTeam;
  };
  return async (teams) => {
    if (teams.length === 0) return new Map();
    if (!cache || Date.now() - cache.at > ttlMs) {
      const byTeam = load();
      cache = { at: Date.now(), byTeam };
      // A failed scan is not cached.
      byTeam.catch(() => {
        if (cache?.byTeam === byTeam) cache = null;
      });
    }
    return cache.byTeam;
  };
}
