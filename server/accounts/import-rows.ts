import { parse } from 'csv-parse/sync';
import { ImportInvalid } from '../errors.js';
import { ROLES, type Role, type TeamMode } from './types.js';

/**
 * Bulk onboarding input: CSV with a header row, or JSON (an array of rows, or `{"users": […]}`).
 * Columns: `name` (as people say it), `phone` (E.164), `role` (default agent), `teams`
 * (`arusha;moshi:write`, or a JSON array), and optionally `username` (default: the phone)
 * and `password` (default: generated). Unknown columns are refused, so a misspelt header
 * is not silently dropped.
 */

export const MAX_IMPORT_ROWS = 10_000;
const COLUMNS = new Set(['username', 'name', 'phone', 'role', 'teams', 'password']);
const E164 = /^\+[1-9][0-9]{6,14}$/;

export interface ImportRow {
  username: string;
  fullName?: string;
  phone?: string;
  role: Role;
  teams: Array<{ team: string; mode?: TeamMode }>;
  password?: string;
}

/** A row as read, or why it cannot be used. */
export type ParsedRow =
  { ok: true; row: ImportRow } | { ok: false; username: string | null; message: string };

function text(value: unknown, column: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ImportInvalid(`${column} must be text`);
  return value.trim() || undefined;
}

function teamsOf(value: unknown): ImportRow['teams'] {
  if (value === undefined || value === null || value === '') return [];
  const items: unknown[] = typeof value === 'string' ? value.split(/[;|]/) : (value as unknown[]);
  if (!Array.isArray(items)) throw new ImportInvalid('teams must be a list');
  return items.flatMap((item) => {
    if (typeof item === 'object' && item !== null) {
      const { team, mode } = item as { team?: unknown; mode?: unknown };
      if (typeof team !== 'string') throw new ImportInvalid('each team needs a "team" name');
      return [{ team, mode: modeOf(mode) }];
    }
    if (typeof item !== 'string') throw new ImportInvalid('teams must be names');
    const [team, mode] = item.trim().split(':');
    return team ? [{ team, mode: modeOf(mode) }] : [];
  });
}

function modeOf(mode: unknown): TeamMode | undefined {
  if (mode === undefined || mode === '') return undefined;
  if (mode === 'read' || mode === 'write') return mode;
  throw new ImportInvalid(`team mode must be read or write, not ${JSON.stringify(mode)}`);
}

export function checkRow(raw: unknown): ParsedRow {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, username: null, message: 'a row must be an object' };
  const r = raw as Record<string, unknown>;
  const guess =
    typeof r.username === 'string' ? r.username : typeof r.phone === 'string' ? r.phone : null;
  try {
    const unknown = Object.keys(r).filter((k) => !COLUMNS.has(k));
    if (unknown.length)
      throw new ImportInvalid(`unknown column ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
    const phone = text(r.phone, 'phone');
    if (phone !== undefined && !E164.test(phone))
      throw new ImportInvalid(`phone ${JSON.stringify(phone)} is not E.164 (+255712345678)`);
    const username = text(r.username, 'username') ?? phone;
    if (!username) throw new ImportInvalid('a row needs a username or a phone');
    const role = text(r.role, 'role') ?? 'agent';
    if (!(ROLES as readonly string[]).includes(role))
      throw new ImportInvalid(
        `role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`,
      );
    return {
      ok: true,
      row: {
        username,
        fullName: text(r.name, 'name'),
        phone,
        role: role as Role,
        teams: teamsOf(r.teams),
        password: typeof r.password === 'string' && r.password ? r.password : undefined,
      },
    };
  } catch (err) {
    return { ok: false, username: guess, message: (err as Error).message };
  }
}

/** The rows of a CSV or JSON document; ImportInvalid when it is neither or too long. */
export function readImport(body: unknown, format: 'csv' | 'json'): unknown[] {
  let rows: unknown;
  if (format === 'csv') {
    if (typeof body !== 'string') throw new ImportInvalid('a CSV body must be text');
    try {
      rows = parse(body, {
        columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
      });
    } catch (err) {
      throw new ImportInvalid(`the CSV cannot be read: ${(err as Error).message}`);
    }
  } else {
    rows = Array.isArray(body) ? body : (body as { users?: unknown } | null)?.users;
    if (!Array.isArray(rows))
      throw new ImportInvalid('send a JSON array of rows, or {"users": [...]}');
  }
  const list = rows as unknown[];
  if (list.length === 0) throw new ImportInvalid('no rows to import');
  if (list.length > MAX_IMPORT_ROWS)
    throw new ImportInvalid(
      `at most ${MAX_IMPORT_ROWS} rows at a time (got ${list.length}): split the file`,
    );
  return list;
}
