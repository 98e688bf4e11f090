import { card, el, when } from './dom.js';

interface Job {
  job: string;
  enabled: boolean;
  schedule: string;
  last_run_at: string | null;
  last_run_ok: boolean | null;
  last_error: string | null;
  lag_seconds: number | null;
}

interface Operations {
  jobs: Job[];
  payments: {
    by_state: Record<'queued' | 'submitted' | 'succeeded' | 'failed', { count: number }>;
    stuck: number;
    flagged: number;
  };
  provider_calls: Array<{ provider: string; kind: string; outcome: string; count: number }>;
}

const ago = (sec: number | null) =>
  sec === null
    ? 'never'
    : sec < 120
      ? `${sec} s`
      : sec < 7200
        ? `${Math.round(sec / 60)} min`
        : `${Math.round(sec / 3600)} h`;

/** Jobs and payments (GET /admin/operations): admins only, so a supervisor sees none of it. */
export async function operationsPart(token: string): Promise<Node[]> {
  const res = await fetch('/admin/operations', { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) return [];
  const ops = (await res.json()) as Operations;
  const jobHead = el(
    'tr',
    {},
    ...['Job', 'Schedule', 'Last run', 'Status', 'Since last good run'].map((h) =>
      el('th', { scope: 'col' }, h),
    ),
  );
  const jobRows = ops.jobs.map((j) =>
    el(
      'tr',
      { class: j.last_run_ok === false ? 'flagged' : '', 'data-job': j.job },
      el('td', {}, j.job),
      el('td', {}, j.enabled ? j.schedule : `${j.schedule} (off here)`),
      el('td', {}, when(j.last_run_at)),
      el(
        'td',
        {},
        j.last_run_ok === null ? '—' : j.last_run_ok ? 'ok' : `failed: ${j.last_error ?? ''}`,
      ),
      el('td', { class: 'num' }, ago(j.lag_seconds)),
    ),
  );
  const p = ops.payments;
  const payCards = el(
    'div',
    { class: 'cards', 'data-part': 'payments' },
    card('payments queued', p.by_state.queued.count),
    card('payments submitted', p.by_state.submitted.count),
    card('payments succeeded', p.by_state.succeeded.count),
    card('payments failed', p.by_state.failed.count, true),
    card('stuck over an hour', p.stuck, true),
    card('left for a person', p.flagged, true),
  );
  const callRows = ops.provider_calls.map((c) =>
    el(
      'tr',
      { 'data-call': `${c.provider}:${c.kind}:${c.outcome}` },
      el('td', {}, c.provider),
      el('td', {}, c.kind),
      el('td', {}, c.outcome),
      el('td', { class: 'num' }, String(c.count)),
    ),
  );
  const callHead = el(
    'tr',
    {},
    ...['Provider', 'Call', 'Outcome', 'Count'].map((h) => el('th', { scope: 'col' }, h)),
  );
  return [
    el('h2', {}, 'Jobs'),
    el('table', { 'data-part': 'jobs' }, el('thead', {}, jobHead), el('tbody', {}, ...jobRows)),
    el('h2', {}, 'Payments'),
    payCards,
    callRows.length
      ? el('table', {}, el('thead', {}, callHead), el('tbody', {}, ...callRows))
      : el('p', {}, 'No provider calls since this server started.'),
  ];
}
