import t from 'tap';
import { testFleet } from '../helpers/fleet.js';
import { teamDbName } from '../../server/provisioning/names.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testCouch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { main as conflictReportMain } from '../../scripts/conflict-report.js';
import { conflictReport } from '../../server/conflicts/report.js';
import { reconcile } from '../../server/jobs/reconcile/index.js';
import { loadRules } from '../../server/rules/index.js';
import { syncRules } from '../../sync-rules/index.js';
import { farmer, jobContext, offlineConflict, userDb } from './helpers.js';

const server = await testCouch(t);
const manualFarmers = loadRules(
  syncRules.map((r) =>
    r.type === 'farmer' ? { ...r, conflict: { strategy: 'manual' as const } } : r,
  ),
);
const ctx = jobContext(server, { rules: manualFarmers });
const now = new Date('2024-05-10T00:00:00Z');
const fleet = testFleet();
// The scripts' accounts and audit databases: never the deployment's on a shared CouchDB.
const accountsDb = unique('sawa-accounts');
const auditDb = unique('sawa-audit');

// amina: a farmer held for a person; juma: a payment status the reconciler has not reached yet;
// a team database without Sawa's design documents, holding a type no rule names.
const amina = await userDb(ctx.nano);
await offlineConflict(
  server,
  amina.db,
  farmer('farmer-1', amina.user),
  [{ village: 'Kilosa', updated_at: '2024-05-03T10:00:00Z' }],
  [{ village: 'Gairo', updated_at: '2024-05-03T11:00:00Z' }],
);
await reconcile(ctx, { now: () => new Date('2024-05-04T00:00:00Z') });
const juma = await userDb(ctx.nano);
await offlineConflict(
  server,
  juma.db,
  {
    _id: 'payment_status-1',
    type: 'payment_status',
    owner: juma.user,
    created_at: '2024-05-01T08:00:00Z',
    updated_at: '2024-05-01T08:00:00Z',
    request_id: 'r1',
    provider: 'mpesa',
    status: 'pending',
  },
  [{ status: 'failed', updated_at: '2024-05-09T08:00:00Z' }],
  [{ status: 'succeeded', updated_at: '2024-05-09T12:00:00Z' }],
);
const team = teamDbName(fleet.team('north'));
await ctx.nano.db.create(team);
await offlineConflict(server, team, { _id: 'note-1', type: 'note', n: 0 }, [{ n: 1 }], [{ n: 2 }]);

t.test('every unresolved conflict, oldest first, with whose, why and since when', async (t) => {
  const seen: number[] = [];
  const { rows, summary } = await conflictReport(ctx.nano, manualFarmers, {
    fleet: fleet.dbs,
    now,
    progress: ({ done }) => void seen.push(done),
  });
  t.match(rows, [
    {
      db: amina.db,
      user: amina.user,
      team: null,
      doc_id: 'farmer-1',
      type: 'farmer',
      branches: 2,
      since: '2024-05-04T00:00:00.000Z', // when the reconciler left it
      age_seconds: 6 * 86_400,
      strategy: 'manual',
      status: 'held',
      reason: /manual/,
    },
    {
      db: juma.db,
      user: juma.user,
      doc_id: 'payment_status-1',
      since: '2024-05-09T12:00:00.000Z', // not reached yet: dated by its latest edit
      age_seconds: 12 * 3600,
      strategy: 'last-write-wins',
      status: 'waiting',
      reason: null,
    },
    {
      db: team,
      user: null,
      team: 'north',
      doc_id: 'note-1',
      type: 'note',
      strategy: 'no rule',
      status: 'waiting',
      age_seconds: null,
    },
  ]);
  t.match(summary, {
    conflicts: 3,
    databases_scanned: 3,
    databases_with_conflicts: 3,
    held: 1,
    waiting: 2,
    by_strategy: { manual: 1, 'last-write-wins': 1, 'no rule': 1 },
    scanned_without_view: [team],
    failed: [],
  });
  t.equal(seen.at(-1), 3, 'progress reaches the total');
});

t.test('filters', async (t) => {
  const run = (o: object) =>
    conflictReport(ctx.nano, manualFarmers, { fleet: fleet.dbs, now, ...o }).then((r) =>
      r.rows.map((x) => x.doc_id),
    );
  t.same(await run({ user: juma.user }), ['payment_status-1']);
  t.same(await run({ type: 'farmer' }), ['farmer-1']);
  t.same(
    await run({ olderThanSeconds: 86_400 }),
    ['farmer-1'],
    'an undated conflict is never "older than"',
  );
  const nobody = await conflictReport(ctx.nano, manualFarmers, {
    fleet: fleet.dbs,
    user: 'nobody',
  });
  t.match(nobody.summary.failed, [{ error: 'user nobody has no database' }]);
});

const script = fileURLToPath(new URL('../../scripts/conflict-report.ts', import.meta.url));
const jobScript = fileURLToPath(new URL('../../scripts/job.ts', import.meta.url));

function cli(
  path: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const url = new URL(server.url);
  url.username = server.admin.name;
  url.password = server.admin.password;
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    env: {
      PATH: process.env.PATH,
      COUCHDB_URL: url.toString(),
      LOG_LEVEL: 'warn',
      ACCOUNTS_DB: accountsDb,
      AUDIT_DB: auditDb,
      ...fleet.env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** `npm run conflict-report -- …` in-process: scripts/conflict-report.ts's `main`. */
function conflictReportCli(args: string[]) {
  const url = new URL(server.url);
  url.username = server.admin.name;
  url.password = server.admin.password;
  return runCli(conflictReportMain, args, {
    COUCHDB_URL: url.toString(),
    LOG_LEVEL: 'warn',
    ACCOUNTS_DB: accountsDb,
    AUDIT_DB: auditDb,
    ...fleet.env,
  });
}

t.test('npm run conflict-report: exit code for cron, progress on stderr', async (t) => {
  // The one run as a process of its own (entry point, exit code); the rest in-process.
  const above = await cli(script, ['--fail-above', '2', '--format', 'csv']);
  t.equal(above.code, 1, 'three conflicts is above 2');
  t.match(above.stderr, /databases 3\/3 100%/);
  t.match(above.stderr, '3 conflicts, above --fail-above 2');
  t.equal(
    above.stdout.split('\r\n').filter(Boolean).length,
    4,
    'a header and three rows on stdout',
  );
  const under = await conflictReportCli(['--fail-above', '3', '--type', 'farmer']);
  t.equal(under.code, 0);
  t.match(under.stdout, /1 unresolved conflict in 1 of 3 databases/);
  const bad = await conflictReportCli(['--older-than', '3 days']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, '--older-than must be a number and a unit');
});

t.test('npm run job -- reconcile: the same job, once, from the command line', async (t) => {
  const res = await cli(jobScript, ['reconcile', '--json']);
  t.equal(res.code, 0, res.stderr);
  // The script has the deployment's rules, where farmers are field-merge: the held farmer is
  // judged again under them and merged, beside the payment status.
  t.match(JSON.parse(res.stdout), { job: 'reconcile', resolved: 2, retried: 1 });
  const after = await conflictReport(ctx.nano, manualFarmers, { fleet: fleet.dbs, now });
  t.same(
    after.rows.map((r) => r.doc_id),
    ['note-1'],
    'what no rule covers remains',
  );
  t.match(after.rows[0], { status: 'held', reason: /no sync rule names the type "note"/ });
});
