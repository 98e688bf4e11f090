import { randomBytes } from 'node:crypto';
import { runBounded } from '../util/run-bounded.js';
import { checkTeam, defaultTeamMode } from './admin.js';
import type { AccountsContext } from './context.js';
import { checkRow } from './import-rows.js';
import { createUser } from './sessions.js';

/**
 * Creates the users of an import, a few at a time, and answers for each row. Safe to run
 * again: a row whose user exists answers `exists` and is left alone. Every imported user
 * must choose their own password at first login (someone else saw the one given here).
 */

export interface ImportResult {
  row: number;
  username: string | null;
  status: 'created' | 'exists' | 'failed';
  code?: string;
  message?: string;
  /** The generated first password, when the row gave none: shown in this answer only. */
  password?: string;
}

export interface ImportSummary {
  created: number;
  exists: number;
  failed: number;
  results: ImportResult[];
}

export async function importUsers(
  ctx: AccountsContext,
  rows: unknown[],
  opts: { concurrency?: number; progress?: (done: number, total: number) => void } = {},
): Promise<ImportSummary> {
  await ctx.ready();
  const results: ImportResult[] = new Array(rows.length);
  let done = 0;
  const indexes = (async function* () {
    for (let i = 0; i < rows.length; i++) yield i;
  })();
  await runBounded(indexes, opts.concurrency ?? 4, async (i) => {
    results[i] = await importOne(ctx, i + 1, rows[i]);
    opts.progress?.(++done, rows.length);
  });
  const count = (s: ImportResult['status']) => results.filter((r) => r.status === s).length;
  return { created: count('created'), exists: count('exists'), failed: count('failed'), results };
}

async function importOne(ctx: AccountsContext, n: number, raw: unknown): Promise<ImportResult> {
  const parsed = checkRow(raw);
  if (!parsed.ok)
    return {
      row: n,
      username: parsed.username,
      status: 'failed',
      code: 'SAWA_IMPORT_INVALID',
      message: parsed.message,
    };
  const { row } = parsed;
  const generated = row.password ? undefined : randomBytes(9).toString('base64url');
  try {
    row.teams.forEach((m) => checkTeam(m.team));
    const teams = [...new Map(row.teams.map((m) => [m.team, m])).values()].map((m) => ({
      team: m.team,
      mode: m.mode ?? defaultTeamMode([row.role]),
    }));
    await createUser(
      ctx,
      {
        name: row.username,
        password: row.password ?? generated!,
        roles: [row.role],
        teams,
        passwordChangeRequired: true,
        fullName: row.fullName,
        phone: row.phone,
      },
      { allowReserved: true },
    );
    return {
      row: n,
      username: row.username,
      status: 'created',
      ...(generated && { password: generated }),
    };
  } catch (err) {
    const e = err as { code?: unknown; message?: string };
    if (e.code === 'SAWA_USERNAME_TAKEN')
      return { row: n, username: row.username, status: 'exists' };
    const ours = typeof e.code === 'string' && e.code.startsWith('SAWA_');
    if (!ours) ctx.log.error({ err: String(err), row: n }, 'import of a row failed');
    return {
      row: n,
      username: row.username,
      status: 'failed',
      code: ours ? (e.code as string) : 'SAWA_INTERNAL',
      message: ours
        ? e.message
        : 'unexpected error: retry the import (rows already made answer exists)',
    };
  }
}
