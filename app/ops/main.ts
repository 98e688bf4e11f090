import { aggregatesPart } from './aggregates.js';
import { card, el, when } from './dom.js';
import { operationsPart } from './operations.js';

/**
 * The operator's page (/ops/): admins and supervisors sign in and see the fleet's sync
 * health (GET /admin/sync-health) with its flags, and the aggregates as charts. The session is kept for the tab only
 * (sessionStorage): a shared office computer forgets it when the tab closes.
 */

interface Row {
  name: string;
  roles: string[];
  teams: string[];
  last_pull_at: string | null;
  last_push_at: string | null;
  docs: number | null;
  conflicts_pending: number;
  conflicts_held: number;
  wire_bytes: { in: number; out: number; since: string } | null;
  last_7_days: { bytes_in: number; bytes_out: number; rejected: number } | null;
  flags: string[];
  days_since_sync: number;
}

interface Health {
  users: Row[];
  next: string | null;
  stale_days: number;
  warn_docs: number;
}

const KEY = 'sawa-ops-token';

/** The browser's own day (YYYY-MM-DD): the report days are the phones' local days. */
const today = () =>
  new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
const root = document.getElementById('ops')!;

function show(...children: Node[]): void {
  root.replaceChildren(...children);
}

function header(signedIn: boolean): HTMLElement {
  const h = el('header', {}, el('strong', {}, 'Sawa operations'));
  if (signedIn) {
    const out = el('button', { type: 'button' }, 'Sign out');
    out.addEventListener('click', () => {
      sessionStorage.removeItem(KEY);
      signIn();
    });
    h.append(out);
  }
  return h;
}

function signIn(message = ''): void {
  const name = el('input', { name: 'username', autocomplete: 'username', required: '' });
  const password = el('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: '',
  });
  const form = el(
    'form',
    { class: 'signin' },
    el('h1', {}, 'Sign in'),
    el('label', {}, 'Name ', name),
    el('label', {}, 'Password ', password),
    el('button', { type: 'submit' }, 'Sign in'),
    el('p', { class: 'error', role: 'alert' }, message),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void login(name.value, password.value);
  });
  show(header(false), el('main', {}, form));
}

async function login(username: string, password: string): Promise<void> {
  const res = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) return signIn('Wrong name or password.');
  const body = (await res.json()) as { access_token: string; user: { roles: string[] } };
  if (!body.user.roles.some((r) => r === 'admin' || r === 'supervisor')) {
    return signIn('This page is for admins and supervisors.');
  }
  sessionStorage.setItem(KEY, body.access_token);
  await dashboard();
}

/** Every page of the sync health (a fleet of a few thousand is a few requests). */
async function loadHealth(token: string): Promise<Health | number> {
  let after: string | null = null;
  let all: Health | null = null;
  do {
    const q: string = after ? `&after=${encodeURIComponent(after)}` : '';
    const res = await fetch(`/admin/sync-health?limit=200${q}`, {
      headers: { authorization: `Bearer ${token}`, 'x-sawa-reason': 'operations page' },
    });
    if (res.status !== 200) return res.status;
    const page = (await res.json()) as Health;
    all = all ? { ...page, users: [...all.users, ...page.users] } : page;
    after = page.next;
  } while (after);
  return all;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function dashboard(): Promise<void> {
  const token = sessionStorage.getItem(KEY);
  if (!token) return signIn();
  const health = await loadHealth(token);
  if (typeof health === 'number') {
    sessionStorage.removeItem(KEY);
    return signIn(
      health === 403 ? 'This page is for admins and supervisors.' : 'Please sign in again.',
    );
  }
  const users = health.users;
  const count = (flag: string) => users.filter((u) => u.flags.includes(flag)).length;
  const cards = el(
    'div',
    { class: 'cards' },
    card('users', users.length),
    card(`no sync for ${health.stale_days} days`, count('stale'), true),
    card(`over ${health.warn_docs} documents`, count('too_many_docs'), true),
    card(
      'conflicts pending',
      users.reduce((n, u) => n + u.conflicts_pending, 0),
      true,
    ),
    card(
      'conflicts held',
      users.reduce((n, u) => n + u.conflicts_held, 0),
      true,
    ),
    card(
      'writes refused in 7 days',
      users.reduce((n, u) => n + (u.last_7_days?.rejected ?? 0), 0),
      true,
    ),
  );
  const head = el(
    'tr',
    {},
    ...[
      'User',
      'Teams',
      'Last pull',
      'Last push',
      'Documents',
      'Conflicts',
      'Held',
      'Bytes in / out',
      '7 days in / out',
      'Refused (7 days)',
      'Flags',
    ].map((h) => el('th', { scope: 'col' }, h)),
  );
  const rows = users.map((u) =>
    el(
      'tr',
      { class: u.flags.length ? 'flagged' : '', 'data-user': u.name },
      el('td', {}, u.name),
      el('td', {}, u.teams.join(', ')),
      el('td', {}, when(u.last_pull_at)),
      el('td', {}, when(u.last_push_at)),
      el('td', { class: 'num' }, u.docs === null ? '—' : String(u.docs)),
      el('td', { class: 'num' }, String(u.conflicts_pending)),
      el('td', { class: 'num' }, String(u.conflicts_held)),
      el(
        'td',
        { class: 'num' },
        u.wire_bytes ? `${kb(u.wire_bytes.in)} / ${kb(u.wire_bytes.out)}` : '—',
      ),
      el(
        'td',
        { class: 'num' },
        u.last_7_days ? `${kb(u.last_7_days.bytes_in)} / ${kb(u.last_7_days.bytes_out)}` : '—',
      ),
      el('td', { class: 'num' }, u.last_7_days ? String(u.last_7_days.rejected) : '—'),
      el(
        'td',
        {},
        ...u.flags.map((f) =>
          el('span', { class: 'flag' }, f === 'stale' ? 'no sync' : 'too many documents'),
        ),
      ),
    ),
  );
  show(
    header(true),
    el(
      'main',
      {},
      el('h1', {}, 'Fleet sync health'),
      cards,
      el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)),
      ...(await aggregatesPart(token, today())),
      ...(await operationsPart(token)),
    ),
  );
}

void dashboard();
