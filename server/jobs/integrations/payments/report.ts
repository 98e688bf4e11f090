import type Nano from 'nano';
import { listClaims, type ClaimState } from '../outbox/claim.js';
import type { PaymentClaim } from './status.js';

/** One payment request as the report shows it (no phone numbers: personal data stays in CouchDB). */
export interface PaymentRow {
  claim: string;
  owner: string;
  request_id: string;
  network: string;
  amount: number;
  state: ClaimState;
  attempts: number;
  flagged: boolean;
  stuck: boolean;
  created_at: string;
  updated_at: string;
  reason: string;
}

export interface PaymentSummary {
  by_state: Record<ClaimState, { count: number; amount: number }>;
  stuck: number;
  flagged: number;
}

/**
 * Every payment claim with a summary: requests and shillings by state, and the ones that
 * need a person — flagged, or not final after `stuckAfterMs`.
 */
export async function paymentsReport(
  nano: Nano.ServerScope,
  opts: { jobsDb: string; now: Date; stuckAfterMs: number },
): Promise<{ rows: PaymentRow[]; summary: PaymentSummary }> {
  const zero = () => ({ count: 0, amount: 0 });
  const summary: PaymentSummary = {
    by_state: { queued: zero(), submitted: zero(), succeeded: zero(), failed: zero() },
    stuck: 0,
    flagged: 0,
  };
  const rows: PaymentRow[] = [];
  for await (const c of listClaims<PaymentClaim>(nano.use(opts.jobsDb), 'payment')) {
    const row = toRow(c, c._id, opts);
    summary.by_state[row.state].count++;
    summary.by_state[row.state].amount += row.amount;
    if (row.stuck) summary.stuck++;
    if (row.flagged) summary.flagged++;
    rows.push(row);
  }
  rows.sort((a, b) => a.created_at.localeCompare(b.created_at));
  return { rows, summary };
}

function toRow(c: PaymentClaim, id: string, opts: { now: Date; stuckAfterMs: number }): PaymentRow {
  const final = c.state === 'succeeded' || c.state === 'failed';
  return {
    claim: id,
    owner: c.owner,
    request_id: c.request_id,
    network: c.order.network,
    amount: c.order.amount,
    state: c.state,
    attempts: c.attempts,
    flagged: Boolean(c.flagged),
    stuck: !final && opts.now.getTime() - Date.parse(c.created_at) > opts.stuckAfterMs,
    created_at: c.created_at,
    updated_at: c.updated_at,
    reason: c.reason ?? '',
  };
}

export type PaymentsFormat = 'table' | 'json' | 'csv';

const COLUMNS: Array<[string, (r: PaymentRow) => string]> = [
  ['CREATED', (r) => r.created_at],
  ['AGENT', (r) => r.owner],
  ['NETWORK', (r) => r.network],
  ['AMOUNT', (r) => String(r.amount)],
  ['STATE', (r) => r.state],
  ['TRIES', (r) => String(r.attempts)],
  ['NEEDS', (r) => [r.flagged && 'flagged', r.stuck && 'stuck'].filter(Boolean).join(',')],
  ['REQUEST', (r) => r.request_id],
  ['REASON', (r) => r.reason.slice(0, 60)],
];

export function formatPayments(
  report: { generated_at: string; rows: PaymentRow[]; summary: PaymentSummary },
  format: PaymentsFormat,
): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  if (format === 'csv') {
    const keys = Object.keys(report.rows[0] ?? {}) as Array<keyof PaymentRow>;
    const cell = (v: unknown) => {
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const head = keys.length ? keys.join(',') : 'claim';
    return [head, ...report.rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n');
  }
  const cells = report.rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([t], i) => Math.max(t.length, ...cells.map((c) => c[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const s = report.summary;
  const states = (Object.keys(s.by_state) as ClaimState[])
    .map((k) => `${k} ${s.by_state[k].count} (${s.by_state[k].amount} TZS)`)
    .join(', ');
  return [
    `Payments report, ${report.generated_at}`,
    '',
    ...(cells.length
      ? [line(COLUMNS.map(([t]) => t)), ...cells.map(line)]
      : ['No payment requests.']),
    '',
    `${states}; ${s.stuck} stuck, ${s.flagged} flagged` +
      (s.flagged
        ? ' (see docs/integrations.md: what an operator does with a flagged payment)'
        : ''),
  ].join('\n');
}
