import { runBounded, toAsync } from '../util/run-bounded.js';
import type { Provisioner } from './provisioner.js';

/**
 * Walks every user and team and finishes whatever provisioning a crash left half done.
 * Users are visited with bounded concurrency, so a repair of thousands of users neither
 * floods CouchDB nor takes all night; each team is provisioned once, not once per member.
 */

export interface RepairTarget {
  name: string;
  teams: ReadonlyArray<{ team: string }>;
  /** Set for a user whose deletion was requested but not finished. */
  deleting?: unknown;
}

export interface RepairReport {
  users: number;
  teams: number;
  changed: string[];
  failed: Array<{ what: string; error: string }>;
}

export interface RepairOptions {
  concurrency: number;
  /** One line per finished item, e.g. for stderr. */
  progress?: (line: string) => void;
  /** Finishes a pending deletion (the accounts module knows how). */
  finishDeletion: (name: string) => Promise<string[]>;
}

export async function repairAll(
  targets: AsyncIterable<RepairTarget>,
  provisioner: Provisioner,
  opts: RepairOptions,
): Promise<RepairReport> {
  const report: RepairReport = { users: 0, teams: 0, changed: [], failed: [] };
  const teams = new Set<string>();
  const progress = opts.progress ?? (() => undefined);

  async function step(what: string, run: () => Promise<string[]>): Promise<void> {
    try {
      const changes = await run();
      report.changed.push(...changes);
      progress(`${what}: ${changes.length ? changes.join('; ') : 'ok'}`);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      report.failed.push({ what, error });
      progress(`${what}: FAILED ${error}`);
    }
  }

  await runBounded(targets, opts.concurrency, async (user) => {
    report.users++;
    if (user.deleting)
      return step(`user ${user.name} (deleting)`, () => opts.finishDeletion(user.name));
    user.teams.forEach((m) => teams.add(m.team));
    return step(`user ${user.name}`, () => provisioner.userDb(user.name));
  });
  await runBounded(toAsync([...teams].sort()), opts.concurrency, async (team) => {
    report.teams++;
    return step(`team ${team}`, () => provisioner.team(team));
  });
  return report;
}
