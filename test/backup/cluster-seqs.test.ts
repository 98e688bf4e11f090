import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { backup } from '../../server/backup/backup.js';
import { restore } from '../../server/backup/restore.js';
import { verify } from '../../server/backup/verify.js';
import { purgedSince, shardSeqs, startedOver } from '../../server/couch/sequences.js';
import { ownCouch, testCouch, type TestCouch } from '../helpers/store.js';
import { runCli } from '../helpers/cli.js';
import { main as restoreMain } from '../../scripts/restore.js';
import { adminNano } from '../reports/world.js';
import { faultProxy, json, segments } from '../jobs/fault-proxy.js';

/**
 * What a CouchDB cluster answers and the embedded store does not: sequences as opaque text
 * that changes with the shard copy that answers, `_users` security written its own way and
 * not editable. A proxy in front of the store answers like a cluster.
 */

const PREFIX = `bkc-${randomBytes(3).toString('hex')}-`;
// One store for the file; each test has its own databases and backup directory.
const store = await testCouch(t);
if (store.shared) {
  t.teardown(async () => {
    const n = adminNano(store);
    const ours = (db: string) => db.startsWith(PREFIX) || db.startsWith(`drill-${PREFIX}`);
    for (const db of ((await n.db.list()) as string[]).filter(ours)) await n.db.destroy(db);
  });
}

/** A database of this test with one document, and an empty backup directory. */
async function start(t: Test, name: string) {
  const n = adminNano(store);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-backup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const db = `${PREFIX}${name}`;
  await n.db.create(db);
  await n.use(db).insert({ _id: 'one', type: 'farmer' } as never);
  return { n, dir, db };
}

/** Erlang's term_to_binary([{Node, [Begin, End], Seq}, …], [compressed]), as CouchDB packs. */
function packSeq(shards: Array<[string, number, number, number | [number, string]]>): string {
  const int = (n: number) =>
    n < 256
      ? Buffer.from([97, n])
      : n < 2 ** 31
        ? Buffer.concat([Buffer.from([98]), u32(n)])
        : Buffer.concat([Buffer.from([110, 4, 0]), le32(n)]);
  const atom = (s: string) => Buffer.concat([Buffer.from([119, s.length]), Buffer.from(s)]);
  const bin = (s: string) => Buffer.concat([Buffer.from([109]), u32(s.length), Buffer.from(s)]);
  const list = (items: Buffer[]) =>
    Buffer.concat([Buffer.from([108]), u32(items.length), ...items, Buffer.from([106])]);
  const tuple = (items: Buffer[]) => Buffer.concat([Buffer.from([104, items.length]), ...items]);
  const term = list(
    shards.map(([node, b, e, seq]) =>
      tuple([
        atom(node),
        list([int(b), int(e)]),
        Array.isArray(seq) ? tuple([int(seq[0]), bin(seq[1]), atom(node)]) : int(seq),
      ]),
    ),
  );
  const packed = Buffer.concat([Buffer.from([131, 80]), u32(term.length), deflateSync(term)]);
  const sum = shards.reduce((n, [, , , s]) => n + (Array.isArray(s) ? s[0] : s), 0);
  return `${sum}-${packed.toString('base64url')}`;
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const node = () => `couchdb@node${1 + Math.floor(Math.random() * 3)}`;

t.test('sequences compared shard range by range', async (t) => {
  const a = packSeq([
    ['couchdb@node1', 0, 0x7fffffff, 0],
    ['couchdb@node2', 0x80000000, 0xffffffff, 0],
  ]);
  const b = packSeq([
    ['couchdb@node3', 0, 0x7fffffff, 0],
    ['couchdb@node1', 0x80000000, 0xffffffff, 0],
  ]);
  t.not(a, b, 'other copies answered: other text');
  t.same([...shardSeqs(a).keys()], ['0-2147483647', '2147483648-4294967295']);
  t.notOk(purgedSince(a, b), 'same counts per range: no purge');
  const c = packSeq([
    ['couchdb@node2', 0, 0x7fffffff, 1],
    ['couchdb@node1', 0x80000000, 0xffffffff, 0],
  ]);
  t.ok(purgedSince(b, c), 'one more purge in one range');
  t.notOk(purgedSince(c, b), 'a copy that has not the purge yet is no purge');
  t.ok(purgedSince('0-sawa', '1-sawa') && !purgedSince('1-sawa', '1-sawa'), 'the store');
  const s1 = packSeq([['n1', 0, 0x7fffffff, [10, 'aaaa']]]);
  const s2 = packSeq([['n2', 0, 0x7fffffff, [12, 'aaaa']]]);
  const s3 = packSeq([['n1', 0, 0x7fffffff, [3, 'bbbb']]]);
  t.notOk(startedOver(s1, s2), 'same shard file, further on');
  t.ok(startedOver(s2, s3), 'another shard file: the database was created again');
  t.ok(startedOver('12-sawa', '3-sawa') && !startedOver('3-sawa', '12-sawa'));

  // A last_seq as a CouchDB 2+ node answers it (q=8), from CouchDB's own documentation.
  const real =
    '5-g1AAAAIreJyVkEsKwjAURZ-toI5cgq5A0sQ0OrI70XyppcaRY92J7kR3ojupaSPUUgotgRd4yTlwbw4A0zRUMLdnpaMkwmyF3Ily9xBwEIuiKLI05KOTW0wkV4rruP29UyGWbordzwKVxWBNOGMKZhertDlarbr5pOT3DV4gudUC9-MPJX9tpEAYx4TQASns2E24ucuJ7rXJSL1BbEgf3vTwpmedCZkYa7Pulck7Xt7x_usFU2aIHOD4eEfVTVA5KMGUkqhNZV-8_o5i';
  const shards = shardSeqs(real);
  t.equal(shards.size, 8, 'eight shard ranges');
  t.equal(
    [...shards.values()].reduce((n, s) => n + s.seq, 0),
    5,
    'their sequences sum to 5',
  );
  t.ok(
    [...shards.values()].every((s) => typeof s.uuid === 'string'),
    'each with its shard uuid',
  );
});

/** The store, answering `GET /{db}` as a cluster: opaque update_seq and purge_seq. */
async function clusterLike(store: TestCouch) {
  return faultProxy(t, store, async (req, forward) => {
    const parts = segments(req.url);
    const res = await forward();
    if (req.method !== 'GET' || parts.length !== 1 || res.status !== 200) return res;
    const info = JSON.parse(res.body.toString()) as Record<string, unknown>;
    const purges = parseInt(String(info.purge_seq), 10);
    info.purge_seq = packSeq([
      [node(), 0, 0x7fffffff, purges],
      [node(), 0x80000000, 0xffffffff, 0],
    ]);
    info.update_seq = `${parseInt(String(info.update_seq), 10)}-g1AAAAB${randomBytes(30).toString('base64url')}`;
    return json(200, info);
  });
}

t.test('incremental backups of a cluster-like CouchDB copy only what changed', async (t) => {
  const { dir, db } = await start(t, 'seqs');
  const n = adminNano(await clusterLike(store));
  for (let i = 0; i < 19; i++) await n.use(db).insert({ _id: `d${i}`, type: 'farmer' } as never);
  await n.request({ path: '_global_changes', method: 'PUT' }).catch(() => undefined);

  // Scoped to this test's database; _global_changes is named, and still never taken.
  const databases = [db, '_global_changes'];
  const full = await backup({ nano: n, source: store.url, out: dir, databases });
  t.match(full.databases[db], { mode: 'full', written: 20 });
  t.notOk(full.databases._global_changes, "CouchDB's _global_changes is not backed up");
  const same = await backup({ nano: n, source: store.url, out: dir, databases });
  t.match(
    same.databases[db],
    { mode: 'incremental', written: 0, files: { data: null } },
    'unchanged: nothing copied, though purge_seq and update_seq read differently',
  );
  await n.use(db).insert({ _id: 'late', type: 'farmer' } as never);
  const one = await backup({ nano: n, source: store.url, out: dir, databases });
  t.match(one.databases[db], { mode: 'incremental', written: 1, docs: 21 }, 'one new document');

  const d3 = (await n.use(db).get('d3')) as { _rev: string };
  await n.request({ db, path: '_purge', method: 'POST', body: { d3: [d3._rev] } });
  const purged = await backup({ nano: n, source: store.url, out: dir, databases });
  t.match(purged.databases[db], { mode: 'full', docs: 20 }, 'a purge: copied whole');

  // Deleted and created again with other documents: nothing of the old one may survive.
  await n.db.destroy(db);
  await n.db.create(db);
  await n.use(db).insert({ _id: 'fresh', type: 'farmer' } as never);
  const again = await backup({ nano: n, source: store.url, out: dir, databases });
  t.match(again.databases[db], { mode: 'full', docs: 1, written: 1 }, 'a recreated database');
  t.same(
    (await verify(n, again, [db])).map((c) => c.problems),
    [[]],
  );
});

t.test('restore: security compared by meaning, _users left alone, --rename', async (t) => {
  const src = store;
  const { n, dir, db } = await start(t, 'sec');
  await n.request({
    db,
    path: '_security',
    method: 'PUT',
    body: { admins: { names: [], roles: [] }, members: { names: [], roles: ['team:north'] } },
  });
  // The source answers as CouchDB does: _users security without empty names arrays.
  const couchLike = await faultProxy(t, src, async (req, forward) => {
    const parts = segments(req.url);
    if (req.method === 'GET' && parts[0] === '_users' && parts[1] === '_security') {
      return json(200, { members: { roles: ['_admin'] }, admins: { roles: ['_admin'] } });
    }
    if (req.method === 'GET' && parts[0] === db && parts[1] === '_security') {
      return json(200, { members: { roles: ['team:north'] } });
    }
    return forward();
  });
  const set = await backup({
    nano: adminNano(couchLike),
    source: src.url,
    out: dir,
    databases: ['_users', db],
  });
  t.ok(set.databases._users, '_users is backed up');

  // Into a target that refuses _users security edits as CouchDB does, and counts writes.
  const dst = await ownCouch(t);
  const securityWrites: string[] = [];
  const strict = await faultProxy(t, dst, async (req, forward) => {
    const parts = segments(req.url);
    if (req.method === 'PUT' && parts[1] === '_security') {
      securityWrites.push(parts[0] as string);
      if (parts[0] === '_users')
        return json(403, {
          error: 'forbidden',
          reason: "You can't edit the security object of the user database.",
        });
    }
    return forward();
  });
  const target = adminNano(strict);
  // On a CouchDB shared by every file the target is the source server: restore beside it.
  const into = dst.url === src.url ? `${db}-restored` : db;
  const rename = (d: string) => (d === db ? into : d);
  await restore({ nano: target, from: dir, only: ['_users', db], rename });
  t.notOk(securityWrites.includes('_users'), '_users security is never written');
  t.equal(securityWrites.filter((d) => d === into).length, 1, 'a database gets its security');
  await restore({ nano: target, from: dir, only: [db], rename });
  t.equal(
    securityWrites.filter((d) => d === into).length,
    1,
    'and not again: empty lists mean the same as none',
  );
  t.same(
    (await verify(target, set, [db], rename)).map((c) => c.problems),
    [[]],
    'verify compares security by meaning too',
  );

  // A drill: the same set restored under other names, beside the real ones.
  const drill = (name: string) => `drill-${name}`;
  const done = await restore({ nano: target, from: dir, only: [db], rename: drill });
  t.equal(done[db]?.into, drill(db));
  t.same(
    (await verify(target, set, [db], drill)).map((c) => c.problems),
    [[]],
  );
  t.ok(((await target.db.list()) as string[]).includes(drill(db)));
});

t.test('npm run restore -- --prefix / --rename, as an operator runs a drill', async (t) => {
  const src = store;
  const { n, dir, db } = await start(t, 'cli');
  await backup({ nano: n, source: src.url, out: dir, databases: [db] });
  const url = new URL(src.url);
  url.username = encodeURIComponent(src.admin.name);
  url.password = encodeURIComponent(src.admin.password);
  // In-process (scripts/restore.ts's `main`); test/backup/backup.test.ts starts it as a process.
  const cli = (args: string[]) =>
    runCli(restoreMain, args, { COUCHDB_URL: url.toString(), LOG_LEVEL: 'silent' });
  const bad = await cli(['--from', dir, '--rename', 'nocolon']);
  t.equal(bad.code, 2, 'a bad --rename is a usage error');
  t.match(bad.stderr, /--rename wants FROM:TO/);
  const drill = await cli(['--from', dir, '--db', db, '--prefix', 'drill-', '--verify']);
  t.equal(drill.code, 0, drill.stderr);
  t.match(drill.stdout, /restored 1 databases, 1 documents.*\n.*verified 1 databases .*: 0 differ/);
  t.equal(((await n.use(`drill-${db}`).get('one')) as { _id: string })._id, 'one');
});
