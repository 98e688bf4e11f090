import { createHmac } from 'node:crypto';
import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { createProvisioner } from '../../server/provisioning/provisioner.js';
import { userDbName } from '../../server/provisioning/names.js';
import { buildDesignDocs, loadSyncRules } from '../../server/rules/index.js';
import { createCouch } from '../../server/couch/client.js';
import { couch } from '../helpers/store.js';
import { setup } from '../accounts/helper.js';

const ddocs = buildDesignDocs(loadSyncRules());
const PW = 'correct horse battery';

/** A request to CouchDB as `name` with `roles`, through proxy authentication (as the gateway acts). */
function asUser(base: string, secret: string, name: string, roles: string[]) {
  const headers = {
    'x-auth-couchdb-username': name,
    'x-auth-couchdb-roles': roles.join(','),
    'x-auth-couchdb-token': createHmac('sha256', secret).update(name).digest('hex'),
  };
  return (method: string, path: string, body?: unknown) =>
    couch(base, method, path, { body, headers });
}

/** Everything that provisioning sets, with revisions: equal snapshots mean nothing changed. */
async function snapshot(admin: Awaited<ReturnType<typeof setup>>['admin'], db: string) {
  const info = await admin('GET', `/${db}`);
  const sec = await admin('GET', `/${db}/_security`);
  const dd = await admin('GET', `/${db}/_all_docs?startkey="_design/"&endkey="_design0"`);
  return {
    seq: info.body.update_seq,
    security: sec.body,
    ddocs: dd.body.rows.map((r: any) => [r.id, r.value.rev]),
  };
}

// One service for the file's tests, on the file's store: each names its users and teams uniquely.
let service: ReturnType<typeof setup> | undefined;
const shared = () => (service ??= setup(t));

t.test(
  'signup provisions the user database: _security, then design docs at the current version',
  async (t) => {
    const aminaName = unique('amina');
    const jumaName = unique('juma');
    const s = await shared();
    const res = await s.call('POST', '/auth/signup', { username: aminaName, password: PW });
    const db = res.body.dbs.user;
    t.equal(db, userDbName(aminaName));
    const sec = await s.admin('GET', `/${db}/_security`);
    t.same(sec.body, {
      admins: { names: [], roles: [] },
      members: { names: [aminaName], roles: [] },
    });
    const dd = await s.admin('GET', `/${db}/_design/sawa`);
    t.equal(dd.status, 200);
    t.equal(dd.body.version, ddocs.private[0]!.version);
    t.equal(dd.body.kind, 'private');
    t.equal(dd.body.validate_doc_update, ddocs.private[0]!.validate_doc_update);

    const amina = asUser(s.store.url, s.store.proxySecret, aminaName, ['agent']);
    const juma = asUser(s.store.url, s.store.proxySecret, jumaName, ['agent']);
    t.equal((await amina('GET', `/${db}`)).status, 200, 'the user reads their database');
    t.equal((await juma('GET', `/${db}`)).status, 403, 'another user does not');
    const bad = await amina('PUT', `/${db}/x`, { type: 'cow' });
    t.equal(bad.status, 403, 'validation is in force');
    t.match(bad.body.reason, /unknown document type "cow"/);
  },
);

t.test('provisioning is idempotent: a second run changes nothing', async (t) => {
  const barakaName = unique('baraka');
  const bossName = unique('boss');
  const moshiName = unique('moshi');
  const s = await shared();
  await s.user(barakaName);
  await s.call(
    'PUT',
    `/admin/users/${barakaName}/teams/${moshiName}`,
    {},
    (await s.user(bossName, ['admin'])).access_token,
  );
  const before = await snapshot(s.admin, userDbName(barakaName));
  const teamBefore = await snapshot(s.admin, `team-${moshiName}`);

  const provisioner = createProvisioner(createCouch({ ...s.store, proxySecret: '' }).nano, ddocs);
  t.same(
    await provisioner.user({ name: barakaName, teams: [{ team: moshiName }] }),
    [],
    'reports no change',
  );
  t.equal(
    (await s.call('POST', '/auth/login', { username: barakaName, password: PW })).status,
    200,
  );
  t.same(
    await snapshot(s.admin, userDbName(barakaName)),
    before,
    'same update_seq, security and _revs',
  );
  t.same(await snapshot(s.admin, `team-${moshiName}`), teamBefore);
});

t.test('validation goes in before the user is let in', async (t) => {
  const chausikuName = unique('chausiku');
  const s = await shared();
  const nano = createCouch({ ...s.store, proxySecret: '' }).nano;
  const order: string[] = [];
  // Record the writes provisioning makes, in order, on the real client.
  const recording = new Proxy(nano, {
    get(target, prop) {
      if (prop === 'request') {
        return (opts: any) => {
          if (opts.method === 'PUT') order.push(`PUT ${opts.path}`);
          return target.request(opts);
        };
      }
      if (prop === 'use') {
        return (db: string) => {
          const scope = target.use(db);
          return new Proxy(scope, {
            get: (sc, p) =>
              p === 'insert'
                ? (doc: any) => (order.push(`insert ${doc._id}`), sc.insert(doc))
                : (sc as any)[p],
          });
        };
      }
      if (prop === 'db') {
        return {
          ...target.db,
          create: (db: string) => (order.push('create'), target.db.create(db)),
        };
      }
      return (target as any)[prop];
    },
  });
  const changes = await createProvisioner(recording, ddocs).user({ name: chausikuName, teams: [] });
  t.same(order, ['create', 'insert _design/sawa', 'PUT _security']);
  t.equal(changes.length, 3);
});

t.test('login repairs what a crash (or a hand) broke', async (t) => {
  const dottoName = unique('dotto');
  const malloryName = unique('mallory');
  const s = await shared();
  await s.user(dottoName);
  const db = userDbName(dottoName);
  const login = () => s.call('POST', '/auth/login', { username: dottoName, password: PW });
  const complete = await snapshot(s.admin, db);

  // Design document gone.
  const dd = await s.admin('GET', `/${db}/_design/sawa`);
  t.equal((await s.admin('DELETE', `/${db}/_design/sawa?rev=${dd.body._rev}`)).status, 200);
  t.equal((await login()).status, 200);
  const back = await s.admin('GET', `/${db}/_design/sawa`);
  t.equal(back.body.version, ddocs.private[0]!.version, 'design doc reinstalled');

  // Design document from an older rule set, and one edited by hand under the current version.
  for (const edit of [
    { version: 'old', validate_doc_update: 'function () {}' },
    { validate_doc_update: 'function () {}' },
  ]) {
    const cur = await s.admin('GET', `/${db}/_design/sawa`);
    t.equal((await s.admin('PUT', `/${db}/_design/sawa`, { ...cur.body, ...edit })).status, 201);
    t.equal((await login()).status, 200);
    const fixed = await s.admin('GET', `/${db}/_design/sawa`);
    t.equal(
      fixed.body.validate_doc_update,
      ddocs.private[0]!.validate_doc_update,
      `fixed: ${JSON.stringify(edit).slice(0, 30)}`,
    );
  }

  // Security reset to public, then to someone else.
  for (const sec of [
    {},
    { admins: { names: [dottoName] }, members: { names: [dottoName, malloryName] } },
  ]) {
    t.equal((await s.admin('PUT', `/${db}/_security`, sec)).status, 200);
    t.equal((await login()).status, 200);
    t.same(
      (await s.admin('GET', `/${db}/_security`)).body,
      complete.security,
      `security restored from ${JSON.stringify(sec)}`,
    );
  }

  // The whole database gone.
  t.equal((await s.admin('DELETE', `/${db}`)).status, 200);
  t.equal((await login()).status, 200);
  const rebuilt = await snapshot(s.admin, db);
  t.same(rebuilt.security, complete.security);
  t.same(
    rebuilt.ddocs.map((d: string[]) => d[0]),
    ['_design/sawa'],
  );

  // Refresh finishes provisioning too.
  const dd2 = await s.admin('GET', `/${db}/_design/sawa`);
  await s.admin('DELETE', `/${db}/_design/sawa?rev=${dd2.body._rev}`);
  const { refresh_token } = (await login()).body;
  await s.admin(
    'DELETE',
    `/${db}/_design/sawa?rev=${(await s.admin('GET', `/${db}/_design/sawa`)).body._rev}`,
  );
  t.equal((await s.call('POST', '/auth/refresh', { refresh_token })).status, 200);
  t.equal((await s.admin('GET', `/${db}/_design/sawa`)).status, 200, 'refresh reinstalled it');
});

t.test('team databases: members read, only writers write, CouchDB enforces it', async (t) => {
  const bossName = unique('boss');
  const farajaName = unique('faraja');
  const estherName = unique('esther');
  const gatiName = unique('gati');
  const arushaName = unique('arusha');
  const s = await shared();
  const boss = await s.user(bossName, ['admin']);
  await s.user(estherName);
  await s.user(farajaName, ['supervisor']);
  for (const name of [estherName, farajaName]) {
    t.equal(
      (await s.call('PUT', `/admin/users/${name}/teams/${arushaName}`, {}, boss.access_token))
        .status,
      200,
    );
  }
  const ids = (
    await s.admin('GET', `/team-${arushaName}/_all_docs?startkey="_design/"&endkey="_design0"`)
  ).body.rows.map((r: any) => r.id);
  t.same(ids, ['_design/sawa', '_design/sawa-team-guard'], 'the team rules and the write guard');
  const teamDdoc = await s.admin('GET', `/team-${arushaName}/_design/sawa`);
  t.equal(teamDdoc.body.kind, 'team');
  t.equal(teamDdoc.body.version, ddocs.team[0]!.version);

  const now = new Date().toISOString();
  const farmer = (owner: string) => ({
    type: 'farmer',
    owner,
    created_at: now,
    updated_at: now,
    name: "Mzee Saning'o",
    village: 'Ngaramtoni',
    district: 'Arumeru',
  });
  // The roles the gateway sends for each (see server/gateway/couch-user.ts couchRoles).
  const esther = asUser(s.store.url, s.store.proxySecret, estherName, [
    'agent',
    `team:${arushaName}`,
  ]);
  const faraja = asUser(s.store.url, s.store.proxySecret, farajaName, [
    'supervisor',
    `team:${arushaName}`,
    `team:${arushaName}:write`,
  ]);
  const outsider = asUser(s.store.url, s.store.proxySecret, gatiName, ['agent']);

  const written = await faraja('PUT', `/team-${arushaName}/f1`, farmer(farajaName));
  t.equal(written.status, 201, 'the supervisor (write mode) writes');
  t.equal(
    (await esther('GET', `/team-${arushaName}/f1`)).status,
    200,
    'the agent (read mode) reads',
  );
  const refused = await esther('PUT', `/team-${arushaName}/f2`, farmer(estherName));
  t.equal(refused.status, 403, 'and is refused writes by CouchDB itself');
  t.match(refused.body.reason, `read-only member of team ${arushaName}`);
  t.equal((await outsider('GET', `/team-${arushaName}/f1`)).status, 403, 'non-members cannot read');
  t.equal((await outsider('GET', `/team-${arushaName}/_changes`)).status, 403);
});
