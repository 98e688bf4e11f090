import type Nano from 'nano';
import { BadReportQuery, cleanCouchError } from '../errors.js';
import { DDOC } from '../jobs/aggregate/aggregates-db.js';
import { REPORTS, type ReportName } from '../jobs/aggregate/rollups.js';
import { COMMON_GROUPS, DEFAULT_GROUPS, type ReportQuery } from './schemas.js';
import type { ScopeFilter } from './scope.js';

export interface ReportRow {
  [dim: string]: string | number;
  count: number;
}

export interface ReportBody {
  report: ReportName;
  from: string | null;
  to: string | null;
  group_by: string[];
  rows: ReportRow[];
  total: { count: number; amount?: number };
}

interface BucketRow {
  key: [string, string];
  value: { scope: string; dims: Record<string, string>; count: number; amount: number };
}

const PAGE = 5000;

/** A calendar day that exists (the schema only checks the shape). */
function checkDay(name: string, value: string | undefined): void {
  if (value === undefined) return;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new BadReportQuery(`${name} is not a calendar day: ${value}`);
  }
}

export function parseGroups(report: ReportName, groupBy: string | undefined): string[] {
  if (groupBy === undefined) return DEFAULT_GROUPS[report];
  const allowed = [...COMMON_GROUPS, ...REPORTS[report]] as string[];
  const groups = groupBy.split(',');
  for (const g of groups) {
    if (!allowed.includes(g)) {
      throw new BadReportQuery(`group_by: ${g} is not one of ${allowed.join(', ')}`);
    }
  }
  if (new Set(groups).size !== groups.length)
    throw new BadReportQuery('group_by names a dimension twice');
  return groups;
}

/**
 * A report: the buckets of the date range (one key range of the `rows` view), kept to the
 * viewer's scopes and the filters, summed over every dimension not grouped by. Costs one
 * read per 5,000 buckets in the range, whatever the number of source databases.
 */
export async function readReport(
  agg: Nano.DocumentScope<unknown>,
  report: ReportName,
  q: ReportQuery,
  scope: ScopeFilter,
): Promise<ReportBody> {
  checkDay('from', q.from);
  checkDay('to', q.to);
  if (q.from && q.to && q.from > q.to) throw new BadReportQuery('from is after to');
  const groups = parseGroups(report, q.group_by);
  const filters = REPORTS[report]
    .map((d) => [d, (q as Record<string, string | undefined>)[d]] as const)
    .filter((f): f is readonly [(typeof f)[0], string] => f[1] !== undefined);

  const sums = new Map<string, { group: string[]; row: ReportRow }>();
  const total = { count: 0, amount: 0 };
  let startkey: unknown = [report, q.from ?? ''];
  let startkeyDocid: string | undefined;
  const endkey = q.to ? [report, q.to] : [report, {}];
  for (;;) {
    let rows: Array<BucketRow & { id: string }>;
    try {
      const res = await agg.view(DDOC, 'rows', {
        startkey,
        endkey,
        limit: PAGE + 1,
        ...(startkeyDocid !== undefined && { startkey_docid: startkeyDocid }),
      } as never);
      rows = res.rows as unknown as Array<BucketRow & { id: string }>;
    } catch (err) {
      throw cleanCouchError(err);
    }
    const page = rows.slice(0, PAGE);
    for (const { key, value } of page) {
      if (!scope.all && !scope.dbs.has(value.scope)) continue;
      if (filters.some(([d, want]) => value.dims[d] !== want)) continue;
      const dims: Record<string, string> = { ...value.dims, day: key[1], scope: value.scope };
      const group = groups.map((g) => dims[g] ?? '');
      const id = JSON.stringify(group);
      let row = sums.get(id)?.row;
      if (!row) {
        row = Object.fromEntries(groups.map((g, i) => [g, group[i]])) as ReportRow;
        row.count = 0;
        if (report === 'payments') row.amount = 0;
        sums.set(id, { group, row });
      }
      row.count += value.count;
      if (report === 'payments') row.amount = (row.amount as number) + value.amount;
      total.count += value.count;
      total.amount += value.amount;
    }
    const next = rows[PAGE];
    if (!next) break;
    startkey = next.key;
    startkeyDocid = next.id;
  }
  const sorted = [...sums.values()]
    .sort((a, b) => compareGroups(a.group, b.group))
    .map((s) => s.row);
  return {
    report,
    from: q.from ?? null,
    to: q.to ?? null,
    group_by: groups,
    rows: sorted,
    total: report === 'payments' ? total : { count: total.count },
  };
}

function compareGroups(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
