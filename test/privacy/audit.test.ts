import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { couch } from '../helpers/store.js';
import { runCli } from '../helpers/cli.js';
import { main as auditReport } from '../../scripts/audit-report.js';
import { enforceRetention } from '../../server/jobs/retention.js';
import { userDbName } from '../../server/provisioning/names.js';
import { privacySetup } from './helper.js';
import { aggregate } from '../../server/jobs/aggregate/index.js';
import { dbUpdatesSettled } from '../helpers/db-updates.js';
import { isRestricted, lift, restrict } from '../../server/restriction/restriction.js';
import { testFleet } from '../helpers/fleet.js';
import { teamDbName } from '../../server/provisioning/names.js';
import { farmer } from '../reports/world.js';
import { phoneClient, visit } from '../client/helper.js';
import { SyncAccessWindows } from '../../server/audit/sync-access.js';

t.test('audit log', async (t) => {
  const s = await privacySetup(t);
  const adminName = unique('boss');
  const agentName = unique('juma');
  const admin = await s.user(adminName, ['admin']);
  const agent = await s.user(agentName);

  t.test('staff reads are recorded with who, what, whose, why and from where', async (t) => {
    const res = await s.send('GET', `/admin/users/${agentName}`, admin.access_token, {
      headers: { 'x-sawa-reason': 'ticket 42' },
    });
    t.equal(res.status, 200);
    const [entry] = await s.entries({ actor: adminName, subject: agentName });
    t.ok(entry, 'an entry for the read');
    t.match(entry, {
      action: 'access',
      actor_roles: ['admin'],
      method: 'GET',
      route: '/admin/users/:name',
      status: 200,
      reason: 'ticket 42',
      ip: '127.0.0.1',
    });
    t.ok(Date.parse(entry!.at) > Date.now() - 60_000, 'a recent time');
    // An agent's own reads are not staff access.
    await s.send('GET', '/me', agent.access_token);
    t.same((await s.audit.list({ actor: agentName }, 10)).entries, []);
  });

  t.test('staff logins are recorded; other logins are not', async (t) => {
    const supName = unique('sup');
    await s.user(supName, ['supervisor']);
    const login = (username: string) =>
      s.send('POST', '/auth/login', undefined, {
        body: { username, password: 'correct horse battery' },
        headers: { 'user-agent': 'test' },
      });
    t.equal((await login(adminName)).status, 200);
    const wrong = await s.send('POST', '/auth/login', undefined, {
      body: { username: adminName, password: 'not the password' },
    });
    t.equal(wrong.status, 401);
    t.equal((await login(agentName)).status, 200);
    const [entry] = await s.entries({ action: 'login', actor: adminName });
    t.match(entry, {
      actor_roles: ['admin'],
      subject: null,
      route: '/auth/login',
      status: 200,
      ip: '127.0.0.1',
    });
    // s.user logged each of them in once, and the admin once more here.
    t.equal((await s.entries({ action: 'login', actor: adminName }, 2)).length, 2);
    t.equal((await s.entries({ action: 'login', actor: supName })).length, 1, 'a supervisor');
    t.same((await s.audit.list({ action: 'login', actor: agentName }, 10)).entries, [], 'no agent');
  });

  t.test('staff syncing a team database: one entry per window, not per request', async (t) => {
    const supName = unique('sup');
    const team = unique('east');
    await s.user(supName, ['supervisor']);
    const join = await s.send('PUT', `/admin/users/${supName}/teams/${team}`, admin.access_token, {
      body: { mode: 'write' },
    });
    t.equal(join.status, 200);
    const { client } = phoneClient(s.svc.url);
    await client.login(supName, 'correct horse battery');
    await client.syncOnce();
    await client.syncOnce();
    const teamDb = teamDbName(team);
    const reads = await s.entries({ actor: supName, action: 'sync-read' });
    t.equal(reads.length, 1, 'two syncs, many requests: one entry');
    t.match(reads[0], {
      actor_roles: ['supervisor'],
      subject: null,
      ip: '127.0.0.1',
      detail: { db: teamDb, team, window_minutes: 60 },
    });
    await client.databases.shared[0].put(visit(supName));
    t.equal((await client.syncOnce()).pushed, 1);
    const [write] = await s.entries({ actor: supName, action: 'sync-write' });
    t.match(write, { detail: { db: teamDb } }, 'a change is its own entry');
    t.equal((await s.audit.list({ actor: supName, action: 'sync-read' }, 10)).entries.length, 1);
    await client.logout?.();

    // The window: the same key again only after it.
    let now = 0;
    const written: string[] = [];
    const windows = new SyncAccessWindows(
      60_000,
      (a) => written.push(a.db),
      () => now,
    );
    const access = {
      actor: 'a',
      roles: [],
      db: 'team-x',
      access: 'read' as const,
      ip: null,
      device: null,
      route: 'r',
    };
    t.ok(windows.note(access));
    now = 59_999;
    t.notOk(windows.note(access), 'inside the window: nothing');
    t.ok(windows.note({ ...access, ip: '10.0.0.2' }), 'another address: its own entry');
    now = 60_000;
    t.ok(windows.note(access), 'the next window');
    t.same(written, ['team-x', 'team-x', 'team-x']);
  });

  t.test('only admins read the log', async (t) => {
    t.equal((await s.send('GET', '/admin/audit', undefined)).status, 401);
    const denied = await s.send('GET', '/admin/audit', agent.access_token);
    t.equal(denied.status, 403);
    const ok = await s.send('GET', `/admin/audit?actor=${adminName}`, admin.access_token);
    t.equal(ok.status, 200);
    t.ok(ok.body.entries.length >= 1);
    t.ok(ok.body.entries.every((e: { actor: string }) => e.actor === adminName));
    const bad = await s.send('GET', '/admin/audit?cursor=zzz', admin.access_token);
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'SAWA_AUDIT_CURSOR_INVALID');
  });

  t.test('filters and pages, newest first', async (t) => {
    const actor = unique('script');
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 5; i++) {
      await s.audit.record({
        at: new Date(base + i * 1000).toISOString(),
        actor,
        actor_roles: [],
        action: i % 2 ? 'export' : 'erase',
        subject: `p${i}`,
        reason: null,
        ip: null,
      });
    }
    const q = `/admin/audit?actor=${actor}&limit=2`;
    const p1 = await s.send('GET', q, admin.access_token);
    t.same(
      p1.body.entries.map((e: { subject: string }) => e.subject),
      ['p4', 'p3'],
    );
    const p2 = await s.send('GET', `${q}&cursor=${p1.body.next_cursor}`, admin.access_token);
    t.same(
      p2.body.entries.map((e: { subject: string }) => e.subject),
      ['p2', 'p1'],
    );
    const p3 = await s.send('GET', `${q}&cursor=${p2.body.next_cursor}`, admin.access_token);
    t.same(
      p3.body.entries.map((e: { subject: string }) => e.subject),
      ['p0'],
    );
    t.equal(p3.body.next_cursor, null);
    const exports = await s.send(
      'GET',
      `/admin/audit?actor=${actor}&action=export`,
      admin.access_token,
    );
    t.same(
      exports.body.entries.map((e: { subject: string }) => e.subject),
      ['p3', 'p1'],
    );
    const window = await s.send(
      'GET',
      `/admin/audit?actor=${actor}&since=2026-01-01T00:00:01.000Z&until=2026-01-01T00:00:02.000Z`,
      admin.access_token,
    );
    t.same(
      window.body.entries.map((e: { subject: string }) => e.subject),
      ['p2', 'p1'],
    );
  });

  t.test('entries cannot be changed or deleted, even by a CouchDB admin', async (t) => {
    const id = await s.audit.record({
      actor: 'system',
      actor_roles: [],
      action: 'erase',
      subject: 'someone',
      reason: null,
      ip: null,
    });
    const path = `/${s.svc.config.AUDIT_DB}/${encodeURIComponent(id)}`;
    const doc = (await s.admin('GET', path)).body;
    const update = await s.admin('PUT', path, { ...doc, subject: 'nobody' });
    t.equal(update.status, 403, 'update refused');
    const del = await s.admin('DELETE', `${path}?rev=${doc._rev}`);
    t.equal(del.status, 403, 'delete refused');
    const bulk = await s.admin('POST', `/${s.svc.config.AUDIT_DB}/_bulk_docs`, {
      docs: [{ ...doc, _deleted: true }],
    });
    t.match(bulk.body, [{ error: 'forbidden' }], 'bulk delete refused');
    t.equal((await s.admin('GET', path)).body.subject, 'someone');
  });

  t.test('npm run audit-report filters the log as table, json and csv', async (t) => {
    const actor = unique('report');
    for (const subject of ['amina', 'baraka=1']) {
      await s.audit.record({
        actor,
        actor_roles: ['admin'],
        action: 'export',
        subject,
        reason: 'request, by letter',
        ip: null,
      });
    }
    const env = {
      COUCHDB_URL: s.store.url,
      COUCHDB_USER: s.store.admin.name,
      COUCHDB_PASSWORD: s.store.admin.password,
      DATA_DIR: s.store.dataDir ?? '/tmp/sawa-test',
      AUDIT_DB: s.svc.config.AUDIT_DB,
    };
    const json = await runCli(auditReport, ['--format', 'json', '--actor', actor], env);
    t.equal(json.code, 0, json.stderr);
    t.same(
      JSON.parse(json.stdout).entries.map((e: { subject: string }) => e.subject),
      ['baraka=1', 'amina'],
    );
    const csv = await runCli(
      auditReport,
      ['--format', 'csv', '--actor', actor, '--subject', 'baraka=1'],
      env,
    );
    t.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    t.equal(lines.length, 2);
    t.match(lines[1], /,export,baraka=1,.*"request, by letter"/);
    const table = await runCli(auditReport, ['--actor', actor, '--until', '2000-01-01'], env);
    t.equal(table.code, 0, table.stderr);
    t.match(table.stdout, /0 entries/);
    const bad = await runCli(auditReport, ['--format', 'xml'], env);
    t.equal(bad.code, 2);
  });

  t.test('restriction: admins set, read and lift it; isRestricted() follows', async (t) => {
    const path = `/admin/subjects/${agentName}/restriction`;
    const nano = s.svc.app.couch.nano;
    const db = s.svc.config.PRIVACY_DB;
    t.equal((await s.send('PUT', path, agent.access_token, { body: { reason: 'x' } })).status, 403);
    t.equal((await s.send('GET', path, agent.access_token)).status, 403);
    t.equal((await s.send('DELETE', path, agent.access_token)).status, 403);
    t.equal((await s.send('PUT', path, admin.access_token, { body: {} })).status, 400);
    t.same((await s.send('GET', path, admin.access_token)).body, {
      subject: agentName,
      restricted: false,
    });
    t.equal(await isRestricted(nano, db, agentName), false);
    const set = await s.send('PUT', path, admin.access_token, {
      body: { reason: 'disputes the payment of May' },
    });
    t.equal(set.status, 200);
    t.match(set.body, { restricted: true, by: adminName, reason: 'disputes the payment of May' });
    t.equal(await isRestricted(nano, db, agentName), true);
    t.equal(await isRestricted(nano, db, adminName), false, 'only that person');
    const again = await s.send('PUT', path, admin.access_token, { body: { reason: 'still' } });
    t.equal(again.body.since, set.body.since, 'setting it again keeps the date');
    t.match((await s.send('GET', path, admin.access_token)).body, {
      restricted: true,
      reason: 'still',
    });
    const lifted = await s.send('DELETE', path, admin.access_token, {
      headers: { 'x-sawa-reason': 'resolved' },
    });
    t.same(lifted.body, { subject: agentName, restricted: false });
    t.equal(await isRestricted(nano, db, agentName), false);
    const actions = (await s.entries({ subject: agentName, actor: adminName }, 4)).map(
      (e) => e.action,
    );
    t.ok(actions.includes('restrict') && actions.includes('unrestrict'), 'both audited');
  });

  t.test('retention purges what is past its server period, tells phones, and audits', async (t) => {
    const db = userDbName(agentName);
    const now = new Date('2026-06-01T00:00:00Z');
    const status = (id: string, created: string) => ({
      _id: id,
      type: 'sms_status',
      owner: agentName,
      created_at: created,
      updated_at: created,
      request_id: `req-${id}`,
      provider: 'beem',
      status: 'delivered',
    });
    // sms_status: 90 server days. farmer: forever.
    for (const doc of [
      status('old', '2026-02-01T00:00:00Z'),
      status('young', '2026-05-01T00:00:00Z'),
      {
        _id: 'farmer-1',
        type: 'farmer',
        owner: agentName,
        created_at: '2020-01-01T00:00:00Z',
        updated_at: '2020-01-01T00:00:00Z',
        name: 'Asha',
        village: 'Isyesye',
        district: 'Mbeya',
      },
    ]) {
      const res = await s.admin('POST', `/${db}`, doc);
      t.equal(res.status, 201, `${doc._id} written: ${JSON.stringify(res.body)}`);
    }
    const result = await enforceRetention({
      nano: s.svc.app.couch.nano,
      rules: s.svc.app.syncRules.ruleSet,
      audit: s.audit,
      now,
      databases: [db],
    });
    t.match(result, { purged: 1, databases_purged: 1 });
    t.equal((await s.admin('GET', `/${db}/old`)).status, 404);
    t.equal((await s.admin('GET', `/${db}/young`)).status, 200);
    t.equal((await s.admin('GET', `/${db}/farmer-1`)).status, 200);
    const all = await s.admin('GET', `/${db}/_all_docs?include_docs=true`);
    const instruction = all.body.rows.find(
      (r: { id: string; doc: { reason?: string } }) =>
        r.id.startsWith('sawa_purge:') && r.doc.reason === 'retention',
    );
    t.match(instruction?.doc, { type: 'sawa_purge', reason: 'retention', ids: ['old'] });
    const entries = await s.entries({ action: 'retention', subject: agentName }, 2);
    const purgedEntry = entries.find((e) => e.detail?.purged !== undefined);
    t.match(purgedEntry, { actor: 'system', detail: { db, purged: 1, types: { sms_status: 1 } } });
    // sms_status: 7 days on phones; the young one stays on the server and leaves the phones.
    t.match(result, { phone_removed: 1 });
    const phoneOnly = all.body.rows.find(
      (r: { doc: { reason?: string } }) => r.doc.reason === 'phone-retention',
    );
    t.match(phoneOnly?.doc, { ids: ['young'] });
    const again = await enforceRetention({
      nano: s.svc.app.couch.nano,
      rules: s.svc.app.syncRules.ruleSet,
      audit: s.audit,
      now,
      databases: [db],
    });
    t.match(again, { purged: 0 }, 'a second run finds nothing');
  });

  t.test('phone retention: gone from the phone, kept on the server, not pushed back', async (t) => {
    // A supervisor's phone: the gateway would accept a deletion of a visit from it, so a
    // removal pushed back would show on the server.
    const supName = unique('sup');
    await s.user(supName, ['supervisor']);
    const { client } = phoneClient(s.svc.url);
    await client.login(supName, 'correct horse battery');
    const local = client.databases.user;
    // visit: 180 days on the phone, 1825 on the server, from visited_at.
    const old = visit(supName, { visited_at: '2026-01-01T00:00:00.000Z' });
    const young = visit(supName, { visited_at: '2026-05-20T00:00:00.000Z' });
    for (const doc of [old, young]) await local.put(doc);
    t.equal((await client.syncOnce()).pushed, 2);
    const db = userDbName(supName);
    const onServer = async (id: string) =>
      (
        await couch(s.store.url, 'GET', `/${db}/${id}?open_revs=all`, {
          auth: s.store.adminAuth,
          headers: { accept: 'application/json' },
        })
      ).body as Array<{ ok?: { _rev: string; _deleted?: boolean } }>;
    const [before] = await onServer(old._id as string);
    const run = (now: string) =>
      enforceRetention({
        nano: s.svc.app.couch.nano,
        rules: s.svc.app.syncRules.ruleSet,
        audit: s.audit,
        now: new Date(now),
        databases: [db],
      });
    t.match(await run('2026-07-15T00:00:00Z'), { purged: 0, phone_removed: 1 });
    t.match(await run('2026-07-16T00:00:00Z'), { phone_removed: 0 }, 'each document told once');

    const round = await client.syncOnce();
    t.same(round.rejected, [], 'nothing refused');
    t.equal(round.pushed, 0, 'the removal is not pushed');
    await t.rejects(local.get(old._id), { message: 'missing' }, 'the phone no longer has it');
    t.equal((await local.get(young._id)).visited_at, young.visited_at, 'a younger one stays');
    t.equal(await client.pending(), 0, 'nothing waits to be pushed');
    await local.put(visit(supName));
    t.equal((await client.syncOnce()).pushed, 1, 'later writes still go');
    t.same(await onServer(old._id as string), [before], 'the server still has it, unchanged');
    const [entry] = await s.entries({ action: 'retention', subject: supName });
    t.match(entry, { detail: { db, removed_from_phones: 1, types: { visit: 1 } } });
    await client.logout?.();
  });

  t.test(
    'restriction: the aggregator leaves a restricted person out, and counts them again once lifted',
    async (t) => {
      const fleet = testFleet();
      const nano = s.svc.app.couch.nano;
      const privacyDb = s.svc.config.PRIVACY_DB;
      const [amina, baraka] = [fleet.user('amina'), fleet.user('baraka')];
      const team = teamDbName(fleet.team('north'));
      for (const db of [userDbName(amina), userDbName(baraka), team])
        await s.admin('PUT', `/${db}`);
      const put = (db: string, doc: Record<string, unknown>) => s.admin('POST', `/${db}`, doc);
      await put(userDbName(amina), farmer('fa', amina, 'Mbeya'));
      await put(team, farmer('fat', amina, 'Mbeya'));
      await put(userDbName(baraka), farmer('fb', baraka, 'Mbeya'));
      const aggDb = fleet.aggregatesDb;
      // A run sees what the test wrote: on CouchDB _db_updates lists a write late.
      const run = async () => {
        await dbUpdatesSettled(nano, `${fleet.dbs.jobs}-settle`);
        return aggregate({
          nano,
          aggregatesDb: aggDb,
          fleet: fleet.dbs,
          batchSize: 100,
          concurrency: 2,
          privacyDb,
        });
      };
      /** The documents counted in the aggregates, as `<db>:<id>`. */
      const counted = async () =>
        (
          (
            await s.admin(
              'GET',
              `/${aggDb}/_all_docs?startkey="contribution:"&endkey="contribution:\ufff0"`,
            )
          ).body.rows as Array<{ id: string }>
        )
          .map((r) => r.id.slice('contribution:'.length))
          .sort();
      const all = [`${team}:fat`, `${userDbName(amina)}:fa`, `${userDbName(baraka)}:fb`].sort();
      await run();
      t.same(await counted(), all, 'everyone counted');
      await restrict(nano, privacyDb, { subject: amina, reason: 'dispute', by: 'boss' });
      await run();
      t.same(await counted(), [`${userDbName(baraka)}:fb`], 'her documents, own and team, leave');
      const bucket = (await s.admin('GET', `/${aggDb}/_all_docs?include_docs=true`)).body.rows
        .filter((r: { id: string }) => r.id.startsWith('bucket:'))
        .map((r: { doc: unknown }) => JSON.stringify(r.doc))
        .join('\n');
      t.notMatch(bucket, /"fat?"/, 'no bucket counts her');
      t.match(bucket, /"fb"/, 'his still counts');
      await put(userDbName(amina), farmer('fa2', amina, 'Mbeya'));
      await run();
      t.same(
        await counted(),
        [`${userDbName(baraka)}:fb`],
        'new documents of hers are not counted',
      );
      await lift(nano, privacyDb, amina);
      await run();
      t.same(await counted(), [...all, `${userDbName(amina)}:fa2`].sort(), 'lifted: counted again');
    },
  );
});
