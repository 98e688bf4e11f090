import { barChart, legend, type Series } from './charts.js';

/**
 * The aggregates as charts (GET /reports/visits and /reports/payments, the aggregator's
 * buckets): visits per week per farmer's district, payment requests per week. Twelve weeks,
 * Monday to Sunday, ending with this one. Admins see every database, supervisors their
 * teams' (the report routes decide).
 */
export const WEEKS = 12;

interface ReportRow {
  day?: string;
  district?: string;
  count: number;
  amount?: number;
}

const DAY = 86_400_000;

/** The Monday (YYYY-MM-DD) of the week a day (YYYY-MM-DD) falls in. */
export function weekOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const back = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - back * DAY).toISOString().slice(0, 10);
}

/** The last `WEEKS` Mondays, oldest first, counted from the phone's day `today`. */
export function lastWeeks(today: string): string[] {
  const end = Date.parse(`${weekOf(today)}T00:00:00Z`);
  return Array.from({ length: WEEKS }, (_, i) =>
    new Date(end - (WEEKS - 1 - i) * 7 * DAY).toISOString().slice(0, 10),
  );
}

const short = (monday: string) =>
  new Date(`${monday}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });

/** Rows summed per week and per `key` (one series per key, biggest first). */
export function weekly(
  rows: ReportRow[],
  weeks: string[],
  key: (r: ReportRow) => string,
): Series[] {
  const index = new Map(weeks.map((w, i) => [w, i]));
  const by = new Map<string, number[]>();
  for (const r of rows) {
    const i = r.day ? index.get(weekOf(r.day)) : undefined;
    if (i === undefined) continue;
    const values = by.get(key(r)) ?? new Array<number>(weeks.length).fill(0);
    values[i]! += r.count;
    by.set(key(r), values);
  }
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  return [...by]
    .map(([name, values]) => ({ name, values }))
    .sort((a, b) => sum(b.values) - sum(a.values) || a.name.localeCompare(b.name));
}

function el(tag: string, attrs: Record<string, string>, ...children: Array<Node | string>) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

async function report(token: string, path: string): Promise<ReportRow[] | null> {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${token}`, 'x-sawa-reason': 'operations page' },
  });
  if (res.status !== 200) return null;
  return ((await res.json()) as { rows: ReportRow[] }).rows;
}

function figure(part: string, title: string, series: Series[], weeks: string[], empty: string) {
  const body = series.length
    ? [barChart({ title, labels: weeks, shown: weeks.map(short), series }), legend(series)]
    : [el('p', {}, empty)];
  return el('figure', { 'data-part': part }, el('figcaption', {}, title), ...body);
}

export async function aggregatesPart(token: string, today: string): Promise<Node[]> {
  const weeks = lastWeeks(today);
  const from = `from=${weeks[0]}`;
  const [visits, payments] = await Promise.all([
    report(token, `/reports/visits?group_by=day,district&${from}`),
    report(token, `/reports/payments?group_by=day&${from}`),
  ]);
  if (!visits && !payments) return [];
  const parts: Node[] = [el('h2', {}, `The last ${WEEKS} weeks`)];
  if (visits) {
    const series = weekly(visits, weeks, (r) => r.district ?? '(unknown)');
    parts.push(figure('visits-chart', 'Visits per week, by district', series, weeks, 'No visits.'));
  }
  if (payments) {
    const series = weekly(payments, weeks, () => 'payment requests');
    parts.push(
      figure('payments-chart', 'Payment requests per week', series, weeks, 'No payments.'),
    );
  }
  return parts;
}
