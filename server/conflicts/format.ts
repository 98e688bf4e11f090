import { formatAge } from './duration.js';
import type { ConflictRow, ReportSummary } from './report.js';

/**
 * The conflict report as a table for a person (oldest first, long cells cut, a summary that
 * says what to do), as JSON for programs, or as CSV for a spreadsheet.
 */

export type ReportFormat = 'table' | 'json' | 'csv';

export interface Report {
  generated_at: string;
  filters: Record<string, string>;
  summary: ReportSummary;
  conflicts: ConflictRow[];
}

export function formatReport(report: Report, format: ReportFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  if (format === 'csv') return csv(report.conflicts);
  return table(report);
}

const COLUMNS: Array<{ title: string; max: number; cell: (r: ConflictRow) => string }> = [
  {
    title: 'AGE',
    max: 8,
    cell: (r) => (r.age_seconds === null ? '?' : formatAge(r.age_seconds * 1000)),
  },
  { title: 'USER / TEAM', max: 24, cell: (r) => r.user ?? (r.team ? `team ${r.team}` : '-') },
  { title: 'TYPE', max: 18, cell: (r) => r.type ?? '(none)' },
  { title: 'DOCUMENT', max: 36, cell: (r) => r.doc_id },
  { title: 'BRANCHES', max: 8, cell: (r) => String(r.branches) },
  { title: 'STRATEGY', max: 15, cell: (r) => r.strategy },
  {
    title: 'STATUS',
    max: 64,
    cell: (r) =>
      r.status === 'held' ? `needs a person: ${r.reason}` : 'waiting for the reconciler',
  },
  { title: 'DATABASE', max: 80, cell: (r) => r.db },
];

function table(report: Report): string {
  const { summary: s, conflicts } = report;
  const lines: string[] = [];
  const filters = Object.entries(report.filters).map(([k, v]) => `${k} ${v}`);
  lines.push(
    `Conflict report, ${report.generated_at}${filters.length ? ` (${filters.join(', ')})` : ''}`,
    '',
  );
  if (conflicts.length) {
    const cells = conflicts.map((r) => COLUMNS.map((c) => cut(c.cell(r), c.max)));
    const widths = COLUMNS.map((c, i) =>
      Math.max(c.title.length, ...cells.map((row) => (row[i] ?? '').length)),
    );
    const line = (row: string[]) =>
      row
        .map((v, i) => v.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
    lines.push(line(COLUMNS.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))));
    for (const row of cells) lines.push(line(row));
    lines.push('');
  }
  const oldest =
    s.oldest_age_seconds === null
      ? ''
      : `; the oldest is ${formatAge(s.oldest_age_seconds * 1000)} old`;
  lines.push(
    conflicts.length
      ? `${n(s.conflicts)} unresolved conflict${s.conflicts === 1 ? '' : 's'} in ${n(s.databases_with_conflicts)} of ${n(s.databases_scanned)} databases${oldest}.`
      : `No unresolved conflicts in ${n(s.databases_scanned)} databases.`,
  );
  if (conflicts.length) {
    lines.push(
      `  needs a person: ${n(s.held)}  (the reconciler left these: see STATUS, and docs/conflicts.md to resolve by hand)`,
      `  waiting:        ${n(s.waiting)}  (the reconciler settles these on its next run)`,
      `  by strategy:    ${counts(s.by_strategy)}`,
      `  by type:        ${counts(s.by_type)}`,
    );
  }
  if (s.scanned_without_view.length) {
    lines.push(
      `  read without the conflicts view (not provisioned?): ${s.scanned_without_view.join(', ')}`,
    );
  }
  if (s.failed.length) {
    lines.push(`  NOT READ, so missing from this report (${s.failed.length}):`);
    for (const f of s.failed) lines.push(`    ${f.db}: ${f.error}`);
  }
  if (conflicts.some((r) => COLUMNS.some((c) => c.cell(r).length > c.max))) {
    lines.push('  (long cells are cut: --format json or csv has them whole)');
  }
  return lines.join('\n');
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const n = (x: number) => x.toLocaleString('en-US');

function counts(tally: Record<string, number>): string {
  return Object.entries(tally)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
}

const CSV_FIELDS: Array<keyof ConflictRow> = [
  'db',
  'user',
  'team',
  'doc_id',
  'type',
  'branches',
  'since',
  'age_seconds',
  'strategy',
  'status',
  'reason',
];

/** RFC 4180: every row CRLF-terminated, fields quoted when they hold a comma, quote or newline. */
function csv(rows: readonly ConflictRow[]): string {
  const field = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [
    CSV_FIELDS.join(','),
    ...rows.map((r) => CSV_FIELDS.map((f) => field(r[f])).join(',')),
  ];
  return lines.join('\r\n') + '\r\n';
}
