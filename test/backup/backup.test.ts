import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Nano from 'nano';
import { backup } from '../../server/backup/backup.js';
import { listSets } from '../../server/backup/manifest.js';
import { readGzipLines } from '../../server/backup/ndjson.js';
import { restore } from '../../server/backup/restore.js';
import { verify } from '../../server/backup/verify.js';
import { ownCouch, testCouch, type TestCouch } from '../helpers/store.js';
import { runCli } from '../helpers/cli.js';
import { main as backupMain } from '../../scripts/backup.js';
import { main as restoreMain } from '../../scripts/restore.js';
import { adminNano } from '../reports/world.js';
import { inScope, parseDatabasePatterns } from '../../server/backup/scope.js';
import { teamDbName, userDbName } from '../../server/provisioning/names.js';
import { faultProxy, json, segments } from '../jobs/fault-proxy.js';

/**
 * Back up a store, restore into a second fresh one, and compare everything a replica must
 * keep: ids, every leaf revision with its history, conflicts, deletions, attachment bytes,
 * design documents and _security. With COUCHDB_URL set there is one CouchDB: the test's own
 * databases are deleted and restored into it instead. Every backup is scoped to this file's
 * databases (OURS), as an operator scopes one with BACKUP_DATABASES; each backup still holds
 * the databases of the tests before it, so each test asserts on its own databases.
 */

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const PREFIX = `bk-${randomBytes(3).toString('hex')}-`;
const A = `${PREFIX}a`;
const B = `${PREFIX}b$(x)+/y`;
const C = `${PREFIX}c`;
const GONE = `${PREFIX}gone`;
const mine = (db: string) => db.startsWith(PREFIX);
/** Each backup takes this file's databases alone (BACKUP_DATABASES / --db), so it stays quick on a shared CouchDB. */
const OURS = [`${PREFIX}*`];

// On a server other files share, the file's databases go with it (a store of the file's own
// goes with its process).
const server = await testCouch(t);
if (server.shared) {
  t.teardown(async () => {
    const n = adminNano(server);
    for (const db of ((await n.db.list()) as string[]).filter(mine)) await n.db.destroy(db);
  });
}

const PHOTO = randomBytes(70_000);
const NOTE = Buffer.from('habari ya asubuhi\n');

async function put(n: Nano.ServerScope, db: string, doc: object): Promise<string> {
  const res = await n.use(db).insert(doc as never);
  return res.rev;
}

/** Every document of a database as stored: all leaves with history and attachment bytes. */
async function dump(n: Nano.ServerScope, db: string) {
  const changes = (await n.request({ db, path: '_changes', qs: { style: 'all_docs' } })) as {
    results: Array<{ id: string }>;
  };
  const out: Record<string, unknown> = {};
  for (const id of changes.results.map((r) => r.id).sort()) {
    const leaves = (await n.request({
      db,
      doc: id,
      qs: { open_revs: 'all', revs: true, attachments: true },
      headers: { accept: 'application/json' },
    })) as Array<{ ok: { _rev: string } }>;
    out[id] = leaves.map((l) => l.ok).sort((x, y) => (x._rev < y._rev ? -1 : 1));
  }
  const security = await n.request({ db, path: '_security' });
  const info = (await n.request({ db })) as { doc_count: number; doc_del_count: number };
  return { docs: out, security, doc_count: info.doc_count, doc_del_count: info.doc_del_count };
}

async function attachment(
  n: Nano.ServerScope,
  db: string,
  id: string,
  name: string,
): Promise<Buffer> {
  // nano hands text types back as strings: compare bytes either way.
  const body = (await n.use(db).attachment.get(id, name)) as Buffer | string;
  return Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
}

async function fresh(
  t: Test,
  src: TestCouch,
): Promise<{ couch: TestCouch; nano: Nano.ServerScope }> {
  if (src.embedded) {
    const couch = await ownCouch(t);
    return { couch, nano: adminNano(couch) };
  }
  const nano = adminNano(src);
  for (const db of ((await nano.db.list()) as string[]).filter(mine)) await nano.db.destroy(db);
  return { couch: src, nano };
}

t.test('scope: names, prefixes ending in *, and the fleet', async (t) => {
  t.same(parseDatabasePatterns(' team-*, sawa-accounts,_users,team-* '), [
    '_users',
    'sawa-accounts',
    'team-*',
  ]);
  t.same(parseDatabasePatterns(['a', 'b*,c']), ['a', 'b*', 'c'], 'repeated --db values');
  for (const bad of ['Team-*', 'a*b', '_global_changes', 'x y']) {
    t.throws(() => parseDatabasePatterns(bad), /neither a database name nor a name prefix/, bad);
  }
  const some = { databases: ['sawa-*', '_users'], fleet_prefix: '' };
  t.ok(inScope(some, 'sawa-jobs') && inScope(some, '_users'));
  t.notOk(inScope(some, 'team-north'), 'not named');
  t.notOk(inScope({ databases: ['*'], fleet_prefix: '' }, '_global_changes'), 'never kept');
  const fleet = { databases: null, fleet_prefix: 'north' };
  t.ok(inScope(fleet, teamDbName('north-a')) && inScope(fleet, userDbName('northwind')));
  t.notOk(inScope(fleet, teamDbName('south')), "another fleet's team");
  t.notOk(inScope(fleet, userDbName('asha')), "another fleet's user");
  t.ok(inScope(fleet, 'sawa-accounts') && inScope(fleet, '_replicator'), 'not a fleet database');
});

t.test('full and incremental backups restore exactly', async (t) => {
  const src = await testCouch(t);
  const n = adminNano(src);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-backup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const db of [A, B, GONE]) await n.db.create(db);

  // A: plain docs, an edited doc, a conflict (two live branches), a deleted doc, a deleted
  // conflict branch, binary and text attachments, and a validating design doc written last.
  await put(n, A, { _id: 'plain', type: 'farmer', n: 1 });
  const r1 = await put(n, A, { _id: 'edited', type: 'farmer', v: 1 });
  await put(n, A, { _id: 'edited', _rev: r1, type: 'farmer', v: 2 });
  await n.request({
    db: A,
    path: '_bulk_docs',
    method: 'POST',
    body: {
      new_edits: false,
      docs: [
        {
          _id: 'conflicted',
          _rev: '2-aaaa',
          type: 'farmer',
          side: 'phone 1',
          _revisions: { start: 2, ids: ['aaaa', 'root'] },
        },
        {
          _id: 'conflicted',
          _rev: '2-bbbb',
          type: 'farmer',
          side: 'phone 2',
          _revisions: { start: 2, ids: ['bbbb', 'root'] },
        },
        {
          _id: 'conflicted',
          _rev: '3-cccc',
          _deleted: true,
          _revisions: { start: 3, ids: ['cccc', 'dddd', 'root'] },
        },
      ],
    },
  });
  const gone = await put(n, A, { _id: 'removed', type: 'farmer' });
  await n.use(A).destroy('removed', gone);
  await put(n, A, {
    _id: 'photo',
    type: 'visit',
    _attachments: {
      'photo.jpg': { content_type: 'image/jpeg', data: PHOTO.toString('base64') },
      'note.txt': { content_type: 'text/plain', data: NOTE.toString('base64') },
    },
  });
  await put(n, A, {
    _id: '_design/rules',
    validate_doc_update:
      'function (doc) { if (doc._id.indexOf("_design/") !== 0 && !doc._deleted && !doc.type) throw({forbidden: "type required"}); }',
  });
  await n.request({
    db: A,
    path: '_security',
    method: 'PUT',
    body: {
      admins: { names: [], roles: [] },
      members: { names: ['alice'], roles: ['team:north'] },
    },
  });
  for (let i = 0; i < 30; i++) await put(n, B, { _id: `doc-${i}`, type: 'visit', i });
  await put(n, GONE, { _id: 'x', type: 'farmer' });

  const first = await backup({ nano: n, source: src.url, out: dir, databases: OURS });
  t.equal(first.kind, 'full');
  t.match(first.databases[A], {
    mode: 'full',
    docs: 5, // plain, edited, conflicted, photo, _design/rules
    deleted: 1,
    leaves: 8,
    written: 6,
    security: { members: { names: ['alice'] } },
  });
  t.match(first.databases[A]!.checksum, /^sha256:[0-9a-f]{64}$/);
  t.equal(first.databases[B]!.written, 30);
  const lines = [];
  for await (const l of readGzipLines<{ id: string; leaves: unknown[] }>(
    join(dir, first.id, first.databases[A]!.files.data!),
  )) {
    lines.push(l);
  }
  t.equal(
    lines.find((l) => l.id === 'conflicted')?.leaves.length,
    3,
    'every leaf of a document is kept',
  );
  const atFirst = await dump(n, A);

  // More writes: an update, a new document, a deletion, a new conflict, a new attachment,
  // a new database, a deleted database; B is left alone.
  const plain = await n.use(A).get('plain');
  await put(n, A, { ...plain, n: 2 });
  await put(n, A, { _id: 'late', type: 'farmer' });
  const photo = await n.use(A).get('photo');
  await n.use(A).destroy('photo', photo._rev);
  await n.request({
    db: A,
    path: '_bulk_docs',
    method: 'POST',
    body: {
      new_edits: false,
      docs: [
        {
          _id: 'edited',
          _rev: '2-ffff',
          type: 'farmer',
          v: 'offline',
          _revisions: { start: 2, ids: ['ffff', r1.split('-')[1]] },
        },
      ],
    },
  });
  const late = await n.use(A).get('late');
  await n
    .use(A)
    .attachment.insert('late', 'scan.bin', PHOTO.subarray(0, 1000), 'application/octet-stream', {
      rev: late._rev,
    });
  await n.db.create(C);
  await put(n, C, { _id: 'c1', type: 'farmer' });
  await n.db.destroy(GONE);

  const second = await backup({ nano: n, source: src.url, out: dir, databases: OURS });
  t.equal(second.kind, 'incremental');
  t.equal(second.parent, first.id);
  t.match(second.databases[A], { mode: 'incremental', written: 4 }, 'only the changed documents');
  t.match(
    second.databases[B],
    { mode: 'incremental', written: 0, files: { data: null } },
    'an unchanged database writes no data',
  );
  t.match(second.databases[C], { mode: 'full', written: 1 }, 'a new database is copied whole');
  t.notOk(second.databases[GONE], 'a deleted database is not in the set');

  // Restore into an empty store: full, then the increment.
  const dst = await fresh(t, src);
  const restored = await restore({
    nano: dst.nano,
    from: dir,
    only: src.embedded ? undefined : [A, B, C],
  });
  t.ok(restored[A] && restored[B] && restored[C]);
  t.notOk(restored[GONE], 'the deleted database stays deleted');
  const checks = await verify(dst.nano, second, src.embedded ? undefined : [A, B, C]);
  t.same(
    checks.filter((c) => mine(c.db) && !c.ok),
    [],
    'counts, checksums and security match',
  );
  for (const db of [A, B, C]) {
    t.same(
      await dump(dst.nano, db),
      await dump(n, db),
      `${db}: identical documents, revisions, conflicts, deletions, attachments, security`,
    );
  }
  t.same(
    await attachment(dst.nano, A, 'late', 'scan.bin'),
    PHOTO.subarray(0, 1000),
    'attachment bytes',
  );
  const tree = (await dst.nano.request({ db: A, doc: 'edited', qs: { conflicts: true } })) as {
    _conflicts?: string[];
  };
  t.equal(tree._conflicts?.length, 1, 'the conflict is still a conflict');
  if (src.embedded) {
    const all = (await dst.nano.db.list()) as string[];
    t.same(all.filter(mine).sort(), [A, B, C].sort());
  }

  // Restoring again changes nothing (a resumed restore), and verify can fail.
  await restore({ nano: dst.nano, from: dir, only: [A] });
  t.same(await dump(dst.nano, A), await dump(n, A));
  await put(dst.nano, A, { _id: 'stray', type: 'farmer' });
  const bad = await verify(dst.nano, second, [A]);
  t.equal(bad[0]?.ok, false, 'a difference is reported');
  t.match(bad[0]?.problems.join(' '), /doc_count .*checksum/);

  // Point in time: the full set alone gives the state at the first backup, photo and all.
  if (src.embedded) {
    const then = await fresh(t, src);
    await restore({ nano: then.nano, from: dir, at: first.id });
    t.same(
      (await verify(then.nano, first)).filter((c) => mine(c.db) && !c.ok),
      [],
    );
    t.same(await dump(then.nano, A), atFirst);
    t.same(
      await attachment(then.nano, A, 'photo', 'photo.jpg'),
      PHOTO,
      'binary attachment, byte for byte',
    );
    t.same(await attachment(then.nano, A, 'photo', 'note.txt'), NOTE);
  }
});

t.test('crash safety: an unfinished set is ignored, then cleaned up', async (t) => {
  const src = await testCouch(t);
  const n = adminNano(src);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-backup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = `${PREFIX}crash`;
  await n.db.create(db);
  await put(n, db, { _id: 'one', type: 'farmer' });
  const full = await backup({ nano: n, source: src.url, out: dir, databases: OURS });

  await put(n, db, { _id: 'two', type: 'farmer' });
  const stop = new AbortController();
  stop.abort();
  await t.rejects(
    backup({ nano: n, source: src.url, out: dir, databases: OURS, signal: stop.signal }),
    /interrupted/,
  );
  // And a set renamed into place whose manifest never got written.
  await mkdir(join(dir, '20990101T000000000Z-incr'));
  await writeFile(join(dir, '20990101T000000000Z-incr', 'junk.ndjson.gz'), 'not gzip');
  const listed = await listSets(dir);
  t.same(
    listed.sets.map((s) => s.id),
    [full.id],
    'only complete sets count',
  );
  t.equal(listed.incomplete.length, 2);

  const next = await backup({ nano: n, source: src.url, out: dir, databases: OURS });
  t.equal(next.parent, full.id, 'the next backup continues the last complete set');
  t.same((await readdir(dir)).sort(), [full.id, next.id].sort(), 'leftovers removed');
  const manifest = JSON.parse(await readFile(join(dir, next.id, 'manifest.json'), 'utf8'));
  t.equal(manifest.databases[db].written, 1);
});

t.test('npm run backup and restore, as an operator runs them', async (t) => {
  const src = await testCouch(t);
  const n = adminNano(src);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-backup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = `${PREFIX}cli`;
  await n.db.create(db);
  await put(n, db, { _id: 'one', type: 'farmer' });
  const url = new URL(src.url);
  url.username = encodeURIComponent(src.admin.name);
  url.password = encodeURIComponent(src.admin.password);
  const env = { ...process.env, COUCHDB_URL: url.toString(), LOG_LEVEL: 'silent' };
  // One run of each script as a process of its own (entry point, exit code); the rest call
  // its `main` in-process.
  const cliProcess = (script: string, args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(TSX, [`scripts/${script}.ts`, ...args], { env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const mains = { backup: backupMain, restore: restoreMain };
  // In-process runs take this file's databases from the setting, the process from --db.
  const scoped = { COUCHDB_URL: url.toString(), LOG_LEVEL: 'silent', BACKUP_DATABASES: OURS[0] };
  const cli = (script: 'backup' | 'restore', args: string[]) => runCli(mains[script], args, scoped);

  const made = await cliProcess('backup', ['--out', dir, '--db', OURS[0]!]);
  t.equal(made.code, 0, made.stderr);
  t.match(made.stdout, /^full backup \S+-full: \d+ databases, \d+ documents written/);
  t.match(made.stdout, `(only databases ${OURS[0]})`, 'the scope is said');
  const again = await cli('backup', ['--out', dir]);
  t.match(
    again.stdout,
    /^incremental backup \S+-incr \(after \S+-full\)/,
    'BACKUP_DATABASES and --db name the same scope: the chain continues',
  );
  const [fullSet, incrSet] = (await listSets(dir)).sets;
  t.same(fullSet?.scope, { databases: OURS, fleet_prefix: '' }, 'the manifest records the scope');
  t.same(incrSet?.scope, fullSet?.scope);
  t.ok(
    Object.keys(incrSet!.databases).every(mine),
    'nothing outside the scope, though the server holds more',
  );
  const ok = await cliProcess('restore', ['--from', dir, '--verify-only', '--db', db]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /verified 1 databases against \S+: 0 differ \(the set holds only databases /);
  t.match(ok.stderr, `covers only databases ${OURS[0]}; taking ${db}`);
  // Another scope starts a chain of its own; bad patterns are usage errors.
  const other = await cli('backup', ['--out', dir, '--db', db]);
  t.equal(other.code, 0, other.stderr);
  t.match(other.stdout, /^full backup .*\(only databases /);
  t.match(other.stderr, /note: the newest set \S+-incr covers other databases: this one is full/);
  const badDb = await cli('backup', ['--out', dir, '--db', 'Not*A*Name']);
  t.equal(badDb.code, 2);
  t.match(badDb.stderr, /neither a database name nor a name prefix followed by \*/);
  const badSetting = await runCli(backupMain, ['--out', dir], {
    ...scoped,
    BACKUP_DATABASES: 'A,',
  });
  t.equal(badSetting.code, 2, 'a malformed BACKUP_DATABASES is a configuration error');
  await put(n, db, { _id: 'two', type: 'farmer' });
  const differs = await cli('restore', ['--from', dir, '--verify-only', '--db', db]);
  t.equal(differs.code, 1, 'a live database that moved on differs');
  t.match(differs.stdout, /MISMATCH/);
  t.equal((await cli('backup', [])).code, 2, 'usage error');
  t.equal((await cli('restore', ['--from', join(dir, 'nope')])).code, 2, 'no backup there');

  // Encrypted: --encrypt with BACKUP_ENCRYPTION_KEY; restore reads it, and refuses a wrong
  // key or a changed file before writing anything.
  const encDir = await mkdtemp(join(tmpdir(), 'sawa-backup-enc-'));
  t.teardown(() => rm(encDir, { recursive: true, force: true }));
  const KEY = randomBytes(32).toString('base64');
  const withKey = (script: 'backup' | 'restore', args: string[], key = KEY) =>
    runCli(mains[script], args, { ...scoped, BACKUP_ENCRYPTION_KEY: key });
  const noKey = await cli('backup', ['--out', encDir, '--encrypt']);
  t.equal(noKey.code, 2, 'no key: a configuration error');
  t.match(noKey.stderr, /BACKUP_ENCRYPTION_KEY is not set/);
  t.equal((await withKey('backup', ['--out', encDir, '--encrypt'], 'c2hvcnQ=')).code, 2, 'short');
  await put(n, db, { _id: 'secret', type: 'farmer', name: 'Asha Mwakyusa' });
  const enc = await withKey('backup', ['--out', encDir, '--encrypt']);
  t.equal(enc.code, 0, enc.stderr);
  await put(n, db, { _id: 'later', type: 'farmer', name: 'Neema Kibona' });
  const incr = await withKey('backup', ['--out', encDir]);
  t.equal(incr.code, 0, incr.stderr);
  const sets = (await listSets(encDir)).sets;
  t.equal(sets.length, 2);
  for (const set of sets) {
    t.match(set.encryption, { algorithm: 'aes-256-gcm', key_id: /^[0-9a-f]{16}$/ }, set.kind);
    const files = set.databases[db]!.files;
    t.match(files, { data: /\.ndjson\.gz\.enc$/, listing: /\.enc$/ });
    const raw = await readFile(join(encDir, set.id, files.data!));
    t.equal(raw.subarray(0, 8).toString(), 'SAWAENC1');
    t.notOk(raw.includes(KEY) || raw.includes(Buffer.from(KEY, 'base64')), 'no key in the file');
    await t.rejects(
      (async () => {
        for await (const _ of readGzipLines(join(encDir, set.id, files.data!))) void _;
      })(),
      { code: 'SAWA_BACKUP_KEY', message: /is encrypted/ },
      'unreadable without the key',
    );
  }
  const copy = `${db}-enc-copy`;
  const restoreArgs = ['--from', encDir, '--db', db, '--rename', `${db}:${copy}`];
  const missing = await cli('restore', restoreArgs);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /is encrypted: set BACKUP_ENCRYPTION_KEY/);
  const wrong = await withKey('restore', restoreArgs, randomBytes(32).toString('hex'));
  t.equal(wrong.code, 2);
  t.match(wrong.stderr, /BACKUP_ENCRYPTION_KEY is not the key backup set \S+ was encrypted with/);
  t.notOk(((await n.db.list()) as string[]).includes(copy), 'nothing restored with a wrong key');
  const restored = await withKey('restore', restoreArgs);
  t.equal(restored.code, 0, restored.stderr);
  t.equal((await n.use<{ name: string }>(copy).get('secret')).name, 'Asha Mwakyusa');
  t.equal((await n.use<{ name: string }>(copy).get('later')).name, 'Neema Kibona');
  // A changed byte in the middle of a data file: refused whole, not one line of it restored.
  const last = sets.at(-1)!;
  const dataPath = join(encDir, last.id, last.databases[db]!.files.data!);
  const bytes = await readFile(dataPath);
  bytes[Math.floor(bytes.length / 2)]! ^= 1;
  await writeFile(dataPath, bytes);
  const tampered = `${db}-enc-tampered`;
  const bad = await withKey('restore', [
    '--from',
    encDir,
    '--db',
    db,
    '--rename',
    `${db}:${tampered}`,
  ]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /failed authentication: it was changed or damaged/);
  await t.rejects(
    n.use(tampered).get('later'),
    { message: /missing|not_found|deleted/ },
    'nothing of the changed file is restored',
  );
});

/** JSON text of a body nested `depth` arrays deep: more than JSON.stringify can recurse. */
const deepJson = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const DEPTH = 100_000;

t.test(
  'a document that cannot be read is skipped, named, retried, and verify says so',
  async (t) => {
    const src = await testCouch(t);
    const dir = await mkdtemp(join(tmpdir(), 'sawa-backup-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const db = `${PREFIX}bad`;
    const n = adminNano(src);
    await n.db.create(db);
    t.teardown(async () => {
      for (const d of [db, `${db}-copy`]) await n.db.destroy(d).catch(() => undefined);
    });
    for (const id of ['a', 'b', 'c']) await put(n, db, { _id: id, type: 'farmer' });
    const broken = await put(n, db, { _id: 'broken', type: 'visit' });
    // What each engine takes: CouchDB a body 100,000 deep, the store refuses past 1,000 levels.
    const deepBody = `{"_id":"deep","type":"visit","nest":${deepJson(DEPTH)}}`;
    const wrote = await fetch(`${src.url}/${encodeURIComponent(db)}/deep`, {
      method: 'PUT',
      headers: { authorization: src.adminAuth, 'content-type': 'application/json' },
      body: deepBody,
    });
    t.equal(wrote.status, src.embedded ? 400 : 201, 'a body 100,000 deep at write');
    let faults = true;
    let through = src;
    // On the store a third: changed between the listing and the read (its listed leaf gone
    // from _bulk_get), then open_revs=all breaks off after `[`, as CouchDB's does for
    // "broken" when it changed in between.
    const bad = src.embedded ? ['broken', 'deep', 'torn'] : ['broken', 'deep'];
    if (src.embedded) {
      // The store makes neither document: a proxy answers as CouchDB 3.5 does for them.
      await put(n, db, { _id: 'deep', type: 'visit', nest: 'DEEP' });
      await put(n, db, { _id: 'torn', type: 'visit' });
      through = await faultProxy(t, src, async (req, forward) => {
        const parts = segments(req.url);
        const mentions = req.body.includes('"broken"') || parts[1] === 'broken';
        if (faults && parts[0] === db && mentions && req.url.includes('attachments=true')) {
          return json(500, { error: 'unknown_error', reason: 'data_error', ref: 1 });
        }
        if (faults && parts[0] === db && parts[1] === 'torn' && req.url.includes('open_revs')) {
          return {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: Buffer.from('['),
          };
        }
        const res = await forward();
        if (!faults || parts[0] !== db) return res;
        let text = res.body.toString();
        if (parts[1] === '_bulk_get') {
          const answer = JSON.parse(text) as { results: Array<{ id: string; docs: unknown[] }> };
          for (const r of answer.results) {
            if (r.id === 'torn') {
              r.docs = [{ error: { id: 'torn', error: 'not_found', reason: 'missing' } }];
            }
          }
          text = JSON.stringify(answer);
        }
        // Made deep after any parse and stringify here: JSON.stringify cannot.
        text = text.replace('"nest":"DEEP"', `"nest":${deepJson(DEPTH)}`);
        return { ...res, body: Buffer.from(text) };
      });
    } else {
      // CouchDB 3.5 stores an empty attachment marked gzip, then fails every read of the
      // document with its bytes: 500 data_error (the whole _bulk_get with it).
      const res = await fetch(
        `${src.url}/${encodeURIComponent(db)}/broken/empty.txt?rev=${broken}`,
        {
          method: 'PUT',
          headers: {
            authorization: src.adminAuth,
            'content-type': 'text/plain',
            'content-encoding': 'gzip',
          },
          body: '',
        },
      );
      t.equal(res.status, 201, 'CouchDB takes an empty gzip attachment');
    }
    const url = new URL(through.url);
    url.username = encodeURIComponent(src.admin.name);
    url.password = encodeURIComponent(src.admin.password);
    const env = { COUCHDB_URL: url.toString(), LOG_LEVEL: 'silent', BACKUP_DATABASES: db };

    const run = await runCli(backupMain, ['--out', dir], env);
    t.equal(run.code, 1, 'exit 1: not everything is backed up');
    t.match(
      run.stdout,
      new RegExp(`SKIPPED ${db} "broken": CouchDB could not read it: 500 .*data_error`),
    );
    t.match(run.stdout, new RegExp(`SKIPPED ${db} "deep": too deeply nested to write as JSON`));
    t.match(
      run.stdout,
      src.embedded
        ? /SKIPPED \S+ "torn": CouchDB could not read it: its answer to open_revs=all broke off/
        : /^/,
    );
    t.match(run.stderr, `${bad.length} documents could not be backed up`);
    t.match(run.stderr, /everything else is in set/);
    const first = (await listSets(dir)).sets.at(-1)!;
    t.match(first.databases[db], { written: 3, docs: 3 }, 'everything else is in the set');
    t.same(
      first.databases[db]!.skipped?.map((s) => s.id),
      bad,
      'the manifest names the skipped documents',
    );
    const checked = await verify(n, first, [db]);
    t.equal(checked[0]?.ok, false, 'verify never calls it complete');
    t.match(
      checked[0]?.problems.join('\n'),
      /document "broken" is not in the backup: .*data_error/,
    );
    t.match(checked[0]?.problems.join('\n'), /document "deep" is not in the backup: too deeply/);

    // Unchanged, they are read again (and skipped again); fixed, they are backed up.
    const again = await runCli(backupMain, ['--out', dir], env);
    t.equal(again.code, 1);
    const second = (await listSets(dir)).sets.at(-1)!;
    t.equal(second.kind, 'incremental');
    t.same(
      second.databases[db]!.skipped?.map((s) => s.id),
      bad,
      'still listed: tried again though unchanged',
    );
    faults = false;
    for (const id of bad) {
      const doc = (await n.use(db).get(id, { revs: false })) as { _rev: string };
      await n.use(db).destroy(id, doc._rev);
    }
    const fixed = await runCli(backupMain, ['--out', dir], env);
    t.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    const third = (await listSets(dir)).sets.at(-1)!;
    t.match(third.databases[db], {
      mode: 'incremental',
      written: bad.length,
      docs: 3,
      deleted: bad.length,
    });
    t.notOk(third.databases[db]!.skipped, 'nothing skipped any more');
    t.same(
      (await verify(n, third, [db])).map((c) => c.problems),
      [[]],
    );
    const restored = await restore({
      nano: n,
      from: dir,
      at: first.id,
      only: [db],
      rename: (d) => `${d}-copy`,
    });
    t.equal(restored[db]?.skipped, bad.length, 'restore says what the set lacks');
  },
);
