import t from 'tap';
import {
  adminOnlySecurity,
  sameSecurity,
  teamDbSecurity,
  userDbSecurity,
} from '../../server/provisioning/security.js';
import {
  TEAM_WRITE_GUARD_SOURCE,
  teamWriteGuard,
} from '../../server/provisioning/team-write-guard.js';
import { runBounded } from '../../server/util/run-bounded.js';
import { designDocVersion } from '../../server/rules/index.js';

t.test('security objects', async (t) => {
  t.same(userDbSecurity('+255712345678'), {
    admins: { names: [], roles: [] },
    members: { names: ['+255712345678'], roles: [] },
  });
  t.same(teamDbSecurity('moshi').members, { names: [], roles: ['team:moshi'] });
  t.same(
    adminOnlySecurity().members,
    { names: [], roles: ['_admin'] },
    'never an empty (public) member list',
  );
  const expected = userDbSecurity('amina');
  t.ok(
    sameSecurity({ members: { names: ['amina'] }, admins: {} }, expected),
    'missing lists are empty lists',
  );
  t.ok(
    sameSecurity(
      { admins: { roles: [], names: [] }, members: { roles: [], names: ['amina'] } },
      expected,
    ),
  );
  t.notOk(sameSecurity({}, expected), 'empty: public, not what we want');
  t.notOk(sameSecurity({ admins: {}, members: { names: ['amina', 'juma'] } }, expected));
  t.notOk(
    sameSecurity({ admins: { names: ['amina'] }, members: { names: ['amina'] } }, expected),
    'no db admins',
  );
  t.notOk(sameSecurity({ admins: {}, members: { names: ['amina'] }, extra: 1 }, expected));
  t.notOk(sameSecurity({ admins: {}, members: { names: 'amina' } }, expected));
  t.notOk(sameSecurity(null, expected));
});

t.test('the team write guard, run as CouchDB runs it', async (t) => {
  const guard = new Function(`return (${TEAM_WRITE_GUARD_SOURCE})`)() as (
    n: unknown,
    o: unknown,
    u: unknown,
    s: unknown,
  ) => void;
  const run = (roles: string[], db = 'team-moshi') => {
    try {
      guard({ _id: 'x' }, null, { name: 'amina', roles, db }, {});
      return 'ok';
    } catch (err) {
      return (err as { forbidden?: string }).forbidden ?? `threw ${String(err)}`;
    }
  };
  t.equal(run(['agent', 'team:moshi', 'team:moshi:write']), 'ok', 'a writer writes');
  t.match(run(['agent', 'team:moshi']), /read-only member of team moshi/);
  t.match(
    run(['agent', 'team:tanga', 'team:tanga:write']),
    /read-only member of team moshi/,
    "another team's write role does not count",
  );
  t.match(run(['agent', 'team:moshi-x:write']), /read-only/, 'no prefix tricks');
  t.equal(run(['_admin']), 'ok', 'server admins (jobs) write');
  t.match(run(['agent', 'team:moshi:write'], 'userdb-616d696e61'), /team database only/);
  const ddoc = teamWriteGuard();
  t.equal(ddoc._id, '_design/sawa-team-guard');
  t.equal(ddoc.version, designDocVersion(ddoc), 'versioned by content hash');
});

t.test('runBounded never runs more than the limit at once and visits every item', async (t) => {
  async function* items() {
    for (let i = 0; i < 25; i++) yield i;
  }
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await runBounded(items(), 4, async (i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 2));
    seen.push(i);
    running--;
  });
  t.equal(peak, 4);
  t.same(
    seen.sort((a, b) => a - b),
    Array.from({ length: 25 }, (_, i) => i),
  );
});
