import t from 'tap';
import { formatAge, parseDuration } from '../../server/conflicts/duration.js';
import { formatReport, type Report } from '../../server/conflicts/format.js';
import type { ConflictRow } from '../../server/conflicts/report.js';

t.test('durations', async (t) => {
  t.equal(parseDuration('3d'), 3 * 86_400_000);
  t.equal(parseDuration('90s'), 90_000);
  t.equal(parseDuration('2w'), 14 * 86_400_000);
  t.equal(parseDuration('3 days'), null);
  t.equal(parseDuration('-1d'), null);
  t.equal(parseDuration('1.5h'), null);
  t.equal(formatAge(0), '0s');
  t.equal(formatAge(40_000), '40s');
  t.equal(formatAge(12 * 60_000 + 5000), '12m 5s');
  t.equal(formatAge(3 * 86_400_000 + 3000), '3d', 'no "3d 0h"');
  t.equal(formatAge(3 * 86_400_000 + 4 * 3_600_000 + 59_000), '3d 4h');
});

const row = (over: Partial<ConflictRow>): ConflictRow => ({
  db: 'userdb-616d696e61',
  user: 'amina',
  team: null,
  doc_id: 'farmer-1',
  type: 'farmer',
  branches: 2,
  since: '2024-05-01T00:00:00.000Z',
  age_seconds: 3 * 86_400,
  strategy: 'manual',
  status: 'held',
  reason: 'the farmer rule says manual: a person picks',
  ...over,
});

const report = (conflicts: ConflictRow[]): Report => ({
  generated_at: '2024-05-04T00:00:00.000Z',
  filters: { type: 'farmer' },
  summary: {
    conflicts: conflicts.length,
    databases_scanned: 1000,
    databases_with_conflicts: 2,
    held: 1,
    waiting: 1,
    by_strategy: { manual: 1, 'field-merge': 1 },
    by_type: { farmer: 2 },
    oldest_age_seconds: 3 * 86_400,
    failed: [{ db: 'userdb-6a756d61', error: 'CouchDB request failed: 500' }],
    scanned_without_view: [],
  },
  conflicts,
});

t.test('table: headed, aligned, summarised, cut where long', async (t) => {
  const text = formatReport(
    report([
      row({}),
      row({
        db: 'team-north',
        user: null,
        team: 'north',
        doc_id: 'x'.repeat(60),
        status: 'waiting',
        reason: null,
        age_seconds: 60,
        strategy: 'field-merge',
      }),
    ]),
    'table',
  );
  const lines = text.split('\n');
  t.match(lines[0], 'Conflict report, 2024-05-04T00:00:00.000Z (type farmer)');
  t.match(
    lines[2],
    /^AGE\s+USER \/ TEAM\s+TYPE\s+DOCUMENT\s+BRANCHES\s+STRATEGY\s+STATUS\s+DATABASE$/,
  );
  t.match(
    lines[4],
    /^3d\s+amina\s+farmer\s+farmer-1\s+2\s+manual\s+needs a person: the farmer rule says manual/,
  );
  t.match(
    lines[5],
    /^1m\s+team north\s+farmer\s+x{35}…\s+2\s+field-merge\s+waiting for the reconciler\s+team-north$/,
  );
  t.match(text, '2 unresolved conflicts in 2 of 1,000 databases; the oldest is 3d old.');
  t.match(
    text,
    'NOT READ, so missing from this report (1):\n    userdb-6a756d61: CouchDB request failed: 500',
  );
  t.match(text, 'long cells are cut');
  t.match(formatReport(report([]), 'table'), 'No unresolved conflicts in 1,000 databases.');
});

t.test('csv and json carry everything whole', async (t) => {
  const csv = formatReport(report([row({ reason: 'refused: "phone", twice\nreally' })]), 'csv');
  t.equal(
    csv,
    'db,user,team,doc_id,type,branches,since,age_seconds,strategy,status,reason\r\n' +
      'userdb-616d696e61,amina,,farmer-1,farmer,2,2024-05-01T00:00:00.000Z,259200,manual,held,"refused: ""phone"", twice\nreally"\r\n',
  );
  const json = JSON.parse(formatReport(report([row({})]), 'json'));
  t.match(json, { summary: { conflicts: 1 }, conflicts: [{ doc_id: 'farmer-1', user: 'amina' }] });
});
