import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { ARCHIVE_DB } from '../../server/jobs/reconcile/archive.js';
import { farmer } from '../reports/world.js';
import { privacySetup, pushDocs, type Person } from './helper.js';

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
  await s.admin('PUT', `/${ARCHIVE_DB}`);
  for (const doc of [archived(amina, 'f-a1'), archived(baraka, 'f-b1')]) {
    t.equal((await s.admin('POST', `/${ARCHIVE_DB}`, doc)).status, 201);
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
});
