import t from 'tap';
import { testCouch } from '../helpers/store.js';
import { ensureJobsDb } from '../../server/jobs/changed-dbs.js';
import { readLease, takeLease, type Lease } from '../../server/jobs/lease.js';
import { adminNano } from './helpers.js';
import { testFleet } from '../helpers/fleet.js';

const JOBS = testFleet().dbs.jobs;

const server = await testCouch(t);
const nano = adminNano(server);
await ensureJobsDb(nano, JOBS);
let clock = Date.parse('2024-05-01T00:00:00Z');
const now = () => clock;
const ttlMs = 60_000;

function taken(r: Awaited<ReturnType<typeof takeLease>>): Lease {
  if (!r.taken) throw new Error(`not taken: ${JSON.stringify(r)}`);
  return r.lease;
}

t.test('one holder at a time; free again once released', async (t) => {
  const a = taken(await takeLease(nano, 'job-a', 'host-a', { jobsDb: JOBS, ttlMs, now }));
  t.match(await takeLease(nano, 'job-a', 'host-b', { jobsDb: JOBS, ttlMs, now }), {
    taken: false,
    reason: 'held',
    holder: 'host-a',
  });
  t.equal(await a.renew(), true);
  await a.release({ started_at: 's', finished_at: 'f', ok: true, result: { n: 1 } });
  const doc = await readLease(nano, JOBS, 'job-a');
  t.match(doc, { holder: null, runs: [{ holder: 'host-a', ok: true, result: { n: 1 } }] });
  t.ok(
    (await takeLease(nano, 'job-a', 'host-b', { jobsDb: JOBS, ttlMs, now })).taken,
    'another holder takes it',
  );
});

t.test('a holder that dies is replaced once its lease expires', async (t) => {
  taken(await takeLease(nano, 'job-b', 'dead', { jobsDb: JOBS, ttlMs, now }));
  clock += ttlMs - 1;
  t.match(await takeLease(nano, 'job-b', 'alive', { jobsDb: JOBS, ttlMs, now }), {
    taken: false,
    reason: 'held',
  });
  clock += 2;
  const alive = taken(await takeLease(nano, 'job-b', 'alive', { jobsDb: JOBS, ttlMs, now }));
  t.equal(alive.holder, 'alive');
});

t.test(
  'a holder that lost its lease learns it on renewal and does not free it on release',
  async (t) => {
    const slow = taken(await takeLease(nano, 'job-c', 'slow', { jobsDb: JOBS, ttlMs, now }));
    clock += ttlMs + 1;
    taken(await takeLease(nano, 'job-c', 'fast', { jobsDb: JOBS, ttlMs, now }));
    t.equal(await slow.renew(), false);
    await slow.release({ started_at: 's', finished_at: 'f', ok: true });
    t.match(
      await readLease(nano, JOBS, 'job-c'),
      { holder: 'fast', runs: [{ holder: 'slow' }] },
      'the run is recorded all the same',
    );
  },
);

t.test('a tick is taken once, whoever comes late', async (t) => {
  const tick = new Date('2024-05-01T00:05:00Z');
  const first = taken(await takeLease(nano, 'job-d', 'host-a', { jobsDb: JOBS, ttlMs, now, tick }));
  await first.release({ started_at: 's', finished_at: 'f', ok: true });
  t.match(await takeLease(nano, 'job-d', 'host-b', { jobsDb: JOBS, ttlMs, now, tick }), {
    taken: false,
    reason: 'done',
  });
  t.match(
    await takeLease(nano, 'job-d', 'host-b', {
      jobsDb: JOBS,
      ttlMs,
      now,
      tick: new Date('2024-05-01T00:04:00Z'),
    }),
    { taken: false, reason: 'done' },
    'an older tick neither',
  );
  const manual = taken(await takeLease(nano, 'job-d', 'cli', { jobsDb: JOBS, ttlMs, now }));
  t.equal(manual.tick, null);
  t.equal(
    (await readLease(nano, JOBS, 'job-d'))?.tick,
    tick.toISOString(),
    'a run by hand leaves the tick as it was',
  );
  await manual.release({ started_at: 's', finished_at: 'f', ok: true });
  t.ok(
    (
      await takeLease(nano, 'job-d', 'host-b', {
        jobsDb: JOBS,
        ttlMs,
        now,
        tick: new Date('2024-05-01T00:06:00Z'),
      })
    ).taken,
  );
});

t.test('racing takers: exactly one wins', async (t) => {
  const tick = new Date('2024-05-01T00:10:00Z');
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      takeLease(nano, 'job-e', `host-${i}`, { jobsDb: JOBS, ttlMs, now, tick }),
    ),
  );
  t.equal(results.filter((r) => r.taken).length, 1);
});
