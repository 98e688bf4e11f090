import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { couch } from '../helpers/store.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { farmer } from '../reports/world.js';
import { phoneClient } from '../client/helper.js';
import { privacySetup, pushDocs, type Person } from './helper.js';
import { syncHealth } from '../../server/fleet/sync-health.js';
import { UsageMeter } from '../../server/fleet/usage.js';
import { phone, remote } from '../helpers/phones.js';
import type { Accounts } from '../../server/accounts/service.js';

t.test('subject access and erasure', async (t) => {
  const s = await privacySetup(t);
  const team = unique('north');
  const person = async (
    prefix: string,
    roles: Array<'agent' | 'supervisor' | 'admin'> = ['agent'],
  ) => {
    const name = unique(prefix);
    const login = await s.user(name, roles);
    return { name, token: login.access_token, db: userDbName(name) } satisfies Person;
  };
  const admin = await person('boss', ['admin']);
  const sup = await person('sup', ['supervisor']);
  const amina = await person('amina');
  const baraka = await person('baraka');
  const carol = await person('carol');
  for (const p of [sup, amina, baraka]) {
    const res = await s.send('PUT', `/admin/users/${p.name}/teams/${team}`, admin.token, {
      body: { mode: 'write' },
    });
    t.equal(res.status, 200, `${p.name} joins the team`);
  }
  const teamDb = teamDbName(team);
  await pushDocs(s.svc.url, amina, amina.db, [
    farmer('f-a1', amina.name, 'Mbeya'),
    farmer('f-a2', amina.name, 'Mbeya'),
  ]);
  await pushDocs(s.svc.url, amina, teamDb, [farmer('f-at', amina.name, 'Mbeya')]);
  await pushDocs(s.svc.url, baraka, baraka.db, [farmer('f-b1', baraka.name, 'Rungwe')]);
  await pushDocs(s.svc.url, baraka, teamDb, [farmer('f-bt', baraka.name, 'Rungwe')]);
  // What the reconciler and the aggregator would have written about them.
  const archived = (who: Person, id: string) => ({
    _id: unique(`rev:${who.db}:${id}`),
    kind: 'revision',
    db: who.db,
    user: who.name,
    team: null,
    doc_id: id,
    doc: farmer(id, who.name, 'Mbeya'),
  });
  const archiveDb = s.svc.config.CONFLICTS_ARCHIVE_DB;
  await s.admin('PUT', `/${archiveDb}`);
  for (const doc of [archived(amina, 'f-a1'), archived(baraka, 'f-b1')]) {
    t.equal((await s.admin('POST', `/${archiveDb}`, doc)).status, 201);
  }
  const aggDb = s.svc.config.AGGREGATES_DB;
  await s.admin('PUT', `/${aggDb}`);
  for (const [db, id] of [
    [amina.db, 'f-a1'],
    [teamDb, 'f-at'],
    [baraka.db, 'f-b1'],
  ] as const) {
    const c = {
      _id: `contribution:${db}:${id}`,
      kind: 'contribution',
      db,
      doc_id: id,
      buckets: [],
    };
    t.equal((await s.admin('POST', `/${aggDb}`, c)).status, 201);
  }

  const ids = (exp: { databases: Record<string, Array<{ _id: string }>> }) =>
    Object.fromEntries(
      Object.entries(exp.databases).map(([db, docs]) => [db, docs.map((d) => d._id).sort()]),
    );

  t.test('export holds every document of the person and nothing of anyone else', async (t) => {
    const res = await s.send('GET', '/me/export', amina.token);
    t.equal(res.status, 200);
    const exp = res.body;
    t.equal(exp.subject, amina.name);
    t.equal(exp.account.name, amina.name);
    t.notOk(JSON.stringify(exp.account).match(/hash|salt|token/i), 'no secrets');
    t.same(ids(exp), { [amina.db]: ['f-a1', 'f-a2'], [teamDb]: ['f-at'] });
    const withPhoto = exp.databases[amina.db].find((d: { _id: string }) => d._id === 'f-a1');
    t.equal(
      Buffer.from(withPhoto._attachments['photo.txt'].data, 'base64').toString(),
      'photo of f-a1',
      'attachments inline',
    );
    t.same(
      exp.conflict_archive.map((d: { doc_id: string }) => d.doc_id),
      ['f-a1'],
    );
    t.same(
      exp.aggregate_contributions.map((d: { _id: string }) => d._id).sort(),
      [`contribution:${amina.db}:f-a1`, `contribution:${teamDb}:f-at`].sort(),
    );
    t.notMatch(JSON.stringify(exp), baraka.name, 'nothing of baraka');
    const [entry] = await s.entries({ action: 'export', subject: amina.name });
    t.match(entry, { actor: amina.name, detail: { documents: 3, conflict_archive: 1 } });
  });

  t.test(
    'the export streams: chunked, and cut (never short and parseable) on an error',
    async (t) => {
      const res = await fetch(`${s.svc.url}/me/export`, {
        headers: { authorization: `Bearer ${amina.token}` },
      });
      t.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed, no length known ahead');
      t.same(ids(JSON.parse(await res.text())), {
        [amina.db]: ['f-a1', 'f-a2'],
        [teamDb]: ['f-at'],
      });
      // The export's audit entry cannot be written: the answer must not end as a whole export.
      const audit = s.svc.app.audit;
      const record = audit.record;
      audit.record = async () => {
        throw new Error('audit database away (test)');
      };
      try {
        const cut = await fetch(`${s.svc.url}/me/export`, {
          headers: { authorization: `Bearer ${amina.token}` },
        });
        t.equal(cut.status, 200, 'the head went before the error');
        const text = await cut.text().catch((err: Error) => `read failed: ${err.message}`);
        t.throws(() => JSON.parse(text), 'what arrived does not parse');
      } finally {
        audit.record = record;
      }
    },
  );

  t.test('staff export: admins anyone, supervisors their teams, nobody else', async (t) => {
    const path = (who: Person) => `/admin/subjects/${encodeURIComponent(who.name)}/export`;
    t.equal((await s.send('GET', path(amina), undefined)).status, 401);
    const peer = await s.send('GET', path(amina), baraka.token);
    t.equal(peer.status, 403, 'a team mate cannot');
    t.equal(peer.body.code, 'SAWA_STAFF_REQUIRED');
    t.equal((await s.send('GET', path(carol), sup.token)).status, 403, 'not in their team');
    const bySup = await s.send('GET', path(amina), sup.token, {
      headers: { 'x-sawa-reason': 'complaint 7' },
    });
    t.equal(bySup.status, 200);
    t.same(ids(bySup.body), { [amina.db]: ['f-a1', 'f-a2'], [teamDb]: ['f-at'] });
    const byAdmin = await s.send('GET', path(baraka), admin.token);
    t.same(ids(byAdmin.body), { [baraka.db]: ['f-b1'], [teamDb]: ['f-bt'] });
    const nobody = await s.send('GET', `/admin/subjects/${unique('ghost')}/export`, admin.token);
    t.equal(nobody.status, 404);
    const [entry] = await s.entries({ action: 'export', actor: sup.name });
    t.match(entry, { subject: amina.name, reason: 'complaint 7' });
  });

  t.test('sync health: staff only, supervisors their teams, flags', async (t) => {
    t.equal((await s.send('GET', '/admin/sync-health', undefined)).status, 401);
    const peer = await s.send('GET', '/admin/sync-health', baraka.token);
    t.equal(peer.status, 403, 'a plain user cannot see the fleet');
    t.equal(peer.body.code, 'SAWA_STAFF_REQUIRED');
    t.notMatch(JSON.stringify(peer.body), amina.name, "nothing of another person's data");
    // Sync times are written within a second, in one batch (sync-times.ts): write them now.
    await s.svc.app.accounts.flushSyncTimes();
    type Row = { name: string; docs: number | null; flags: string[]; [k: string]: unknown };
    const rows: Row[] = [];
    let after: string | null = null;
    do {
      const q: string = `/admin/sync-health?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`;
      const res = await s.send('GET', q, admin.token);
      t.equal(res.status, 200);
      t.ok(res.body.users.length <= 2, 'paged');
      rows.push(...res.body.users);
      after = res.body.next;
    } while (after);
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const p of [admin, sup, amina, baraka, carol])
      t.ok(byName.has(p.name), `${p.name} listed`);
    t.match(byName.get(amina.name), {
      docs: 2,
      conflicts_pending: 0,
      conflicts_held: 0,
      last_push_at: /^\d{4}-/,
      flags: [],
      wire_bytes: { in: Number, out: Number },
    });
    t.ok((byName.get(amina.name)!.wire_bytes as { in: number }).in > 0, 'her pushes were metered');
    const week = byName.get(amina.name)!.last_7_days as { bytes_in: number; rejected: number };
    t.ok(week.bytes_in > 0, 'and counted in the last 7 days');
    t.equal(week.rejected, 0);
    t.equal(byName.get(carol.name)!.docs, 0);
    const bySup = await s.send('GET', '/admin/sync-health?limit=200', sup.token);
    t.equal(bySup.status, 200);
    t.same(
      bySup.body.users.map((r: Row) => r.name).sort(),
      [sup.name, amina.name, baraka.name].sort(),
      'a supervisor sees their teams only',
    );
    // Flags, a month later with a low warning count.
    const page = await syncHealth(
      {
        ctx: (s.svc.app.accounts as Accounts).ctx,
        nano: s.svc.app.couch.nano,
        jobsDb: s.svc.config.JOBS_DB,
        registry: null,
        staleDays: 7,
        warnDocs: 1,
        now: () => new Date(Date.now() + 30 * 86_400_000),
      },
      { name: admin.name, roles: ['admin'], teams: [], disabled: false },
      { limit: 200 },
    );
    const later = new Map(page.users.map((r) => [r.name, r]));
    t.same(later.get(amina.name)?.flags, ['stale', 'too_many_docs']);
    t.same(later.get(carol.name)?.flags, ['stale'], 'never synced: counted from signup');
    t.equal(later.get(amina.name)?.wire_bytes, null, 'no metering: null');
  });

  t.test('sync health: refused writes per user, and 7 days of usage kept in CouchDB', async (t) => {
    const local = phone();
    await local.put({ _id: 'no-name', type: 'farmer', owner: carol.name });
    await local.put({ ...farmer('f-c1', carol.name, 'Mbeya') });
    const server = remote(`${s.svc.url}/sync/${carol.db}`, () => ({
      authorization: `Bearer ${carol.token}`,
    }));
    const res = await local.replicate.to(server);
    t.equal(res.doc_write_failures, 1, 'the gateway refused one');
    await local.destroy();
    const row = async () =>
      (await s.send('GET', `/admin/sync-health?limit=200`, admin.token)).body.users.find(
        (r: { name: string }) => r.name === carol.name,
      );
    t.match((await row()).last_7_days, { rejected: 1, bytes_in: Number });
    // Written to JOBS_DB, the figures outlive this instance.
    await s.svc.app.syncUsage.flush();
    const stored = await s.admin(
      'GET',
      `/${s.svc.config.JOBS_DB}/${encodeURIComponent(`usage:${carol.name}`)}`,
    );
    const today = new Date().toISOString().slice(0, 10);
    t.match(stored.body.days[today], { rejected: 1, in: Number, out: Number });
    t.match((await row()).last_7_days, { rejected: 1 }, 'read back once, not twice');

    // Days older than the window leave the sum; the document keeps 8 days at most.
    const db = unique('sawa-usage');
    let now = Date.parse('2026-03-01T12:00:00Z');
    const meter = new UsageMeter(
      s.svc.app.couch.nano,
      db,
      60_000,
      () => {},
      () => now,
    );
    for (let day = 0; day < 10; day++) {
      meter.add('juma', { in: 100, out: 1, rejected: 1 });
      await meter.flush();
      now += 86_400_000;
    }
    now -= 86_400_000;
    t.same((await meter.recent(['juma', 'nobody'])).get('juma'), {
      bytes_in: 700,
      bytes_out: 7,
      rejected: 7,
    });
    t.same((await meter.recent(['nobody'])).get('nobody'), {
      bytes_in: 0,
      bytes_out: 0,
      rejected: 0,
    });
    const doc = (await s.admin('GET', `/${db}/usage:juma`)).body;
    t.equal(Object.keys(doc.days).length, 8, 'bounded');
    await s.admin('DELETE', `/${db}`);
  });

  t.test(
    'erasure: gone from every database, archive and aggregate, and from the phone',
    async (t) => {
      const { client } = phoneClient(s.svc.url);
      await client.login(amina.name, 'correct horse battery');
      await client.syncOnce();
      const local = client.databases.user;
      const localTeam = client.databases.shared[0];
      const before = await local.get('f-a1');
      t.equal(before.name, 'Asha Mwakyusa', 'the phone holds her farmer');
      t.ok(await localTeam.get('f-at'));

      const erase = (who: Person, token: string, body: unknown = { reason: 'letter of 3 May' }) =>
        s.send('POST', `/admin/subjects/${encodeURIComponent(who.name)}/erase`, token, { body });
      t.equal((await erase(amina, baraka.token)).status, 403, 'an agent cannot');
      t.equal((await erase(amina, sup.token)).status, 403, 'a supervisor cannot');
      t.equal((await erase(amina, amina.token)).status, 403, 'nor the person themselves');
      t.equal((await erase(amina, admin.token, {})).status, 400, 'a reason is required');
      const res = await erase(amina, admin.token);
      t.equal(res.status, 200);
      t.match(res.body, {
        databases: { [amina.db]: 2, [teamDb]: 1 },
        conflict_archive: 1,
        aggregate_contributions: 2,
      });

      // Every revision the server holds of a document (none when purged: 404).
      const openRevs = async (db: string, id: string) => {
        const res = await couch(s.store.url, 'GET', `/${db}/${id}?open_revs=all`, {
          auth: s.store.adminAuth,
          headers: { accept: 'application/json' },
        });
        if (res.status === 404) return [];
        if (!Array.isArray(res.body))
          throw new Error(`open_revs: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body as unknown[];
      };
      for (const [db, id] of [
        [amina.db, 'f-a1'],
        [amina.db, 'f-a2'],
        [teamDb, 'f-at'],
      ] as const) {
        t.same(await openRevs(db, id), [], `${id} purged from ${db}: no revision left`);
      }
      const exp = await s.send('GET', `/admin/subjects/${amina.name}/export`, admin.token);
      t.same(exp.body.databases, {}, 'nothing left to export');
      t.same(exp.body.conflict_archive, []);
      t.same(exp.body.aggregate_contributions, []);
      const aggIds = (await s.admin('GET', `/${aggDb}/_all_docs`)).body.rows.map(
        (r: { id: string }) => r.id,
      );
      t.notOk(
        aggIds.some(
          (id: string) =>
            id.startsWith('contribution:') && (id.includes(amina.db) || id.endsWith(':f-at')),
        ),
        'no contribution of hers',
      );
      // Baraka's data is untouched.
      const theirs = await s.send('GET', `/admin/subjects/${baraka.name}/export`, admin.token);
      t.same(ids(theirs.body), { [baraka.db]: ['f-b1'], [teamDb]: ['f-bt'] });
      t.equal(theirs.body.conflict_archive.length, 1);
      t.equal(theirs.body.aggregate_contributions.length, 1);

      // The phone syncs: the instruction purges its copies.
      await client.syncOnce();
      await t.rejects(local.get('f-a1'), { message: 'missing' });
      await t.rejects(local.get('f-a1', { rev: before._rev }), 'the old revision is gone too');
      await t.rejects(localTeam.get('f-at'), { message: 'missing' });
      t.ok(await localTeam.get('f-bt'), "a team mate's document stays");
      const dump = JSON.stringify((await local.allDocs({ include_docs: true })).rows);
      t.notMatch(dump, 'Asha', 'no trace of her data on the phone');
      for (const id of ['f-a1', 'f-at']) {
        const db = id === 'f-a1' ? amina.db : teamDb;
        const left = (await openRevs(db, id)) as Array<{ ok?: Record<string, unknown> }>;
        t.ok(
          left.every((r) => !r.ok || Object.keys(r.ok).every((k) => k.startsWith('_'))),
          `no data of ${id} came back to the server`,
        );
      }
      const [entry] = await s.entries({ action: 'erase', subject: amina.name });
      t.match(entry, { actor: admin.name, reason: 'letter of 3 May' });
      await client.logout?.();
    },
  );
});
