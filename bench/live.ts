import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner } from 'fast-jwt';
import Nano from 'nano';
import { loadConfig } from '../server/config.js';
import { createAccounts } from '../server/accounts/service.js';
import { signup } from '../server/accounts/signup.js';
import { buildDesignDocs, loadSyncRules } from '../server/rules/index.js';
import { fieldRecords } from './gateway-records.js';
import { continuousPhone, lightPhone, pouchPhone, type Phone } from './live-phones.js';
import { freePort, spawnStore, type SpawnedStore } from './spawn-store.js';

/**
 * A fleet in live sync, as issue 12 measures it: `npm start` with the embedded store (one
 * process: gateway and store), or the service against the store in its own process (as
 * CouchDB would be), N users each with their own database, and N phones in this process each
 * holding a live pull (longpoll `_changes`) through `/sync`: stock PouchDB, or light phones
 * making the same requests (live-phones.ts) when thousands of PouchDBs are too heavy, or
 * `continuous` (or `eventsource`) light phones each holding such a feed instead.
 *   - memory: the service's RSS once every phone waits, less its RSS before they came;
 *   - upstream: the service's TCP connections to the store (own-process store only);
 *   - burst: one document written to every database at once (straight to the store, as a
 *     job or another phone's push would land), time until each phone has it;
 *   - steady: WRITES_PER_SEC writes to random databases for STEADY_SEC, the same.
 * `BENCH_LIVE_RUNS` lists the runs (default `embedded:pouchdb:1000,own:light:10000`);
 * `BENCH_LIVE_ENV` adds service settings (`A=1,B=2`), for comparing modes.
 */

const PASSWORD = 'bench-admin-password';
const WRITES_PER_SEC = 50;
const STEADY_SEC = 10;
const GRACE_MS = 60_000;

export interface LiveRun {
  store: 'embedded' | 'own';
  phone: 'pouchdb' | 'light' | 'continuous' | 'eventsource';
  phones: number;
}

export interface LiveFigures {
  run: LiveRun;
  phones: number;
  /** The service's TCP connections to the store with every phone waiting (own-process store). */
  upstreamConnections: number | null;
  rssBeforeMiB: number;
  rssWaitingMiB: number;
  perPhoneKiB: number;
  /**
   * The same for the JavaScript heap in use (garbage not yet collected included): what of the
   * RSS per phone is objects, and what is outside the heap (sockets, parsers, V8's reserve).
   */
  heapBeforeMiB: number;
  heapWaitingMiB: number;
  heapPerPhoneKiB: number;
  burst: Delivery;
  steady: Delivery;
  load: string;
  /** Phone requests that failed at the socket (reset) and were retried by PouchDB. */
  resets: number;
}

interface Delivery {
  written: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Service {
  url: string;
  store: string;
  child: ChildProcess;
  jwtSecret: string;
  /** For `GET /metrics`: the JavaScript heap in use, beside the RSS. */
  metricsToken: string;
  stop(): Promise<void>;
}

async function startService(
  dir: string,
  env: Record<string, string>,
  own?: { store: SpawnedStore; proxySecret: string },
): Promise<Service> {
  const port = await freePort();
  const storePort = await freePort();
  const jwtSecret = randomBytes(32).toString('hex');
  const metricsToken = randomBytes(24).toString('hex');
  const upstream = own
    ? { COUCHDB_URL: own.store.url, COUCHDB_PROXY_SECRET: own.proxySecret }
    : { COUCHDB_URL: '', COUCHDB_PROXY_SECRET: randomBytes(24).toString('hex') };
  const main = fileURLToPath(new URL('../server/server.ts', import.meta.url));
  // BENCH_SERVICE_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where the time goes.
  const extra = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', main], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      STORE_PORT: String(storePort),
      DATA_DIR: dir,
      COUCHDB_USER: 'admin',
      COUCHDB_PASSWORD: PASSWORD,
      ...upstream,
      JWT_SECRET: jwtSecret,
      METRICS_TOKEN: metricsToken,
      JOBS_ENABLED: 'none',
      SYNC_RATE_LIMIT_PER_MIN: '1000000',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    if (i > 1200) throw new Error('service did not come up in 60 s');
    await sleep(50);
  }
  return {
    url,
    store: own?.store.url ?? `http://127.0.0.1:${storePort}`,
    child,
    jwtSecret,
    metricsToken,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service's JavaScript heap in use (prom-client's `nodejs_heap_size_used_bytes`), MiB. */
async function heapUsedMiB(svc: Service): Promise<number> {
  const res = await fetch(`${svc.url}/metrics`, {
    headers: { authorization: `Bearer ${svc.metricsToken}` },
  });
  const text = await res.text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576;
}

export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Runs `fn` over `items`, `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function bareDdocs(): ReturnType<typeof buildDesignDocs> {
  const full = buildDesignDocs(loadSyncRules());
  return Object.fromEntries(Object.keys(full).map((k) => [k, []])) as unknown as typeof full;
}

const progress = (what: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} live: ${what}\n`);

interface User {
  name: string;
  token: string;
  db: string;
}

/**
 * Users made the way signup makes them, but with a cheap password hash: the bench is about
 * sync. Without design documents (`bare`) for light phones: they never pull them, nothing in
 * a waiting phone's cost depends on them, and 10,000 installs of ~88 KB would take the
 * machine's hour.
 */
async function makeUsers(svc: Service, n: number, bare = false): Promise<User[]> {
  const url = new URL(svc.store);
  url.username = 'admin';
  url.password = PASSWORD;
  const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: svc.jwtSecret });
  const sign = createSigner({ key: svc.jwtSecret, algorithm: 'HS256', expiresIn: 3_600_000 });
  const { ctx } = createAccounts({
    nano: Nano(url.toString()),
    config,
    ddocs: bare ? bareDdocs() : buildDesignDocs(loadSyncRules()),
    scrypt: { N: 2 ** 4, r: 8, p: 1 },
    log: { warn: () => {}, error: () => {} },
    signAccessToken: (claims) => sign({ ...claims }),
  });
  const out: User[] = new Array(n);
  const tag = randomBytes(3).toString('hex');
  await pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      // A loaded store now and then drops a kept-alive connection: sign up again, fresh name.
      for (let attempt = 0; ; attempt++) {
        const name = `fleet-${tag}-${i}${attempt ? `-${attempt}` : ''}`;
        try {
          const { result } = await signup(ctx, name, 'bench-password-123');
          out[i] = { name, token: result.access_token, db: result.dbs.user };
          return;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    },
  );
  return out;
}

/** A farmer record the sync rules accept, owned by `owner`. */
async function write(
  store: string,
  auth: string,
  db: string,
  id: string,
  owner = 'admin',
): Promise<void> {
  const doc = { ...fieldRecords(1, owner)[0], _id: id };
  // A connection the loaded store reset is tried again, as a job or a phone would.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${store}/${db}/${id}`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    }).catch((err: unknown) => {
      if (attempt >= 5) throw err;
      return null;
    });
    if (res === null) {
      await sleep(200 * (attempt + 1));
      continue;
    }
    // 409 after a reset: the first try had written it.
    if (res.status !== 201 && !(attempt > 0 && res.status === 409))
      throw new Error(`write ${db}/${id}: ${res.status}`);
    return;
  }
}

function delivery(sent: Array<{ phone: Phone; id: string; at: number }>): Delivery {
  const lat: number[] = [];
  for (const s of sent) {
    const t = s.phone.arrived.get(s.id);
    if (t !== undefined) lat.push(Math.max(0, t - s.at));
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) =>
    lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]!) : NaN;
  return {
    written: sent.length,
    delivered: lat.length,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: lat.length ? Math.round(lat[lat.length - 1]!) : NaN,
  };
}

async function awaitAll(sent: Array<{ phone: Phone; id: string }>, graceMs: number) {
  const until = performance.now() + graceMs;
  while (performance.now() < until) {
    if (sent.every((s) => s.phone.arrived.has(s.id))) return;
    await sleep(100);
  }
}

function parseEnv(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter(Boolean)) {
    const [k, ...v] = pair.split('=');
    env[k as string] = v.join('=');
  }
  return env;
}

async function loadAvg(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

/** `BENCH_LIVE_RUNS`: `store:phone:n` separated by commas. */
export function liveRuns(text = process.env.BENCH_LIVE_RUNS): LiveRun[] {
  return (text ?? 'embedded:pouchdb:1000,own:light:10000').split(',').map((part) => {
    const [store, phone, n] = part.split(':');
    const phones = ['pouchdb', 'light', 'continuous', 'eventsource'];
    if ((store !== 'embedded' && store !== 'own') || !phones.includes(phone as string))
      throw new Error(
        `BENCH_LIVE_RUNS: ${part} is not embedded|own:pouchdb|light|continuous|eventsource:N`,
      );
    return { store, phone: phone as LiveRun['phone'], phones: Number(n) };
  });
}

/** Established TCP connections of process `pid` to `port` on 127.0.0.1. */
async function connectionsTo(pid: number, port: number): Promise<number> {
  const { readdir, readlink } = await import('node:fs/promises');
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const table = await readFile(`/proc/${pid}/net/tcp`, 'utf8');
  let n = 0;
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // remote address, state 01 (established), inode
    if (f[2]?.endsWith(`:${hex}`) && f[3] === '01' && inodes.has(f[9] ?? '')) n++;
  }
  return n;
}

export async function run(
  spec: LiveRun = liveRuns()[0]!,
  env: Record<string, string> = parseEnv(process.env.BENCH_LIVE_ENV),
): Promise<LiveFigures> {
  const n = spec.phones;
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-live-'));
  // PouchDB's http adapter leaves a failed first request of a remote database unhandled;
  // its replication retries on its own. Counted, not fatal; kept for the process's life, as
  // cancelled phones still reject after the run.
  let resets = 0;
  const onReject = (err: unknown) => {
    if ((err as { type?: string }).type !== 'system') throw err;
    resets++;
  };
  process.on('unhandledRejection', onReject);
  process.on('uncaughtException', onReject);
  const proxySecret = randomBytes(24).toString('hex');
  const store =
    spec.store === 'own'
      ? await spawnStore(join(dir, 'store'), { COUCHDB_PROXY_SECRET: proxySecret })
      : undefined;
  const svc = await startService(dir, env, store ? { store, proxySecret } : undefined);
  const adminAuth = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
  const phones: Phone[] = [];
  try {
    progress(`${spec.store}:${spec.phone}:${n} service up; making users`);
    const users = await makeUsers(svc, n, spec.phone !== 'pouchdb');
    progress('users made; warming up');
    // Touch every database once through the gateway so both sides' lazy start-up costs are
    // paid. One keep-alive agent, 16 at a time: no burst of connections.
    await pool(users, 16, async (u) => {
      for (let tries = 0; tries < 3; tries++) {
        const ok = await fetch(`${svc.url}/sync/${u.db}/`, {
          headers: { authorization: `Bearer ${u.token}` },
        })
          .then(async (r) => (await r.arrayBuffer(), r.ok))
          .catch(() => false);
        if (ok) break;
      }
    });
    await sleep(2000);
    const rssBefore = await rssMiB(svc.child.pid as number);
    const heapBefore = await heapUsedMiB(svc);
    progress('starting phones');
    // 500 phones a second: each opens its own connections, and a listen backlog overrun is a
    // reset on the phone's side, the bench's doing rather than the service's.
    for (let i = 0; i < n; i++) {
      const user = users[i]!;
      phones.push(
        spec.phone === 'pouchdb'
          ? pouchPhone(svc.url, user, i)
          : spec.phone === 'light'
            ? lightPhone(svc.url, user)
            : continuousPhone(svc.url, user, spec.phone),
      );
      if (i % 50 === 49) await sleep(100);
    }
    let ready = 0;
    for (const p of phones) void p.waiting.then(() => ready++);
    // A bound on the wait, cleared after: a pending timer kept the process up 5 minutes.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(phones.map((p) => p.waiting)),
      new Promise((r) => (bound = setTimeout(r, 5 * GRACE_MS))),
    ]);
    clearTimeout(bound);
    if (ready < n) progress(`only ${ready} of ${n} phones reached their live pull`);
    if (spec.phone === 'pouchdb') {
      // Every phone has pulled its (design) documents and is waiting on a longpoll.
      await awaitAll(
        phones.map((phone) => ({ phone, id: '_design/sawa' })),
        GRACE_MS,
      );
    }
    await sleep(5000);
    const rssWaiting = await rssMiB(svc.child.pid as number);
    const heapWaiting = await heapUsedMiB(svc);
    const upstreamConnections = store
      ? await connectionsTo(svc.child.pid as number, Number(new URL(store.url).port))
      : null;
    const load = await loadAvg();
    progress(`phones waiting (${Math.round(rssWaiting)} MiB); burst`);

    const burst: Array<{ phone: Phone; id: string; at: number }> = [];
    await pool(
      phones.map((phone, i) => ({ phone, i })),
      64,
      async ({ phone, i }) => {
        const id = `burst-${i}`;
        const at = performance.now();
        burst.push({ phone, id, at });
        await write(svc.store, adminAuth, users[i]!.db, id, users[i]!.name);
      },
    );
    await awaitAll(burst, GRACE_MS);
    progress('steady');

    const steady: Array<{ phone: Phone; id: string; at: number }> = [];
    const total = WRITES_PER_SEC * STEADY_SEC;
    const t0 = performance.now();
    const writes: Promise<void>[] = [];
    for (let k = 0; k < total; k++) {
      const wait = t0 + (k * 1000) / WRITES_PER_SEC - performance.now();
      if (wait > 0) await sleep(wait);
      const i = Math.floor(Math.random() * n);
      const id = `steady-${k}`;
      steady.push({ phone: phones[i]!, id, at: performance.now() });
      writes.push(write(svc.store, adminAuth, users[i]!.db, id, users[i]!.name));
    }
    await Promise.all(writes);
    await awaitAll(steady, GRACE_MS);

    return {
      run: spec,
      phones: n,
      upstreamConnections,
      rssBeforeMiB: Math.round(rssBefore),
      rssWaitingMiB: Math.round(rssWaiting),
      perPhoneKiB: Math.round(((rssWaiting - rssBefore) * 1024) / n),
      heapBeforeMiB: Math.round(heapBefore),
      heapWaitingMiB: Math.round(heapWaiting),
      heapPerPhoneKiB: Math.round(((heapWaiting - heapBefore) * 1024) / n),
      burst: delivery(burst),
      steady: delivery(steady),
      load,
      resets,
    };
  } finally {
    for (const p of phones) p.stop();
    await svc.stop();
    await store?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function report(f: LiveFigures): string {
  const row = (name: string, d: Delivery) =>
    `| ${name} | ${d.delivered} / ${d.written} | ${d.p50Ms} ms | ${d.p99Ms} ms | ${d.maxMs} ms |`;
  const where =
    f.run.store === 'own'
      ? `the service against the store in its own process (${f.upstreamConnections} connections to the store with every phone waiting)`
      : '`npm start` with the embedded store';
  return [
    `${f.phones} ${f.run.phone === 'pouchdb' ? 'stock PouchDB' : f.run.phone === 'light' ? 'light' : `${f.run.phone}-feed`} phones waiting on ${where}; service RSS ${f.rssBeforeMiB} MiB before, ${f.rssWaitingMiB} MiB with every phone waiting: **${f.perPhoneKiB} KiB per phone**; JavaScript heap in use ${f.heapBeforeMiB} MiB before, ${f.heapWaitingMiB} MiB waiting: ${f.heapPerPhoneKiB} KiB per phone. Load average ${f.load}. Connections reset under the phones: ${f.resets}.`,
    '',
    '| writes | delivered | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('burst (one per database at once)', f.burst),
    row(`steady (${WRITES_PER_SEC}/s for ${STEADY_SEC} s)`, f.steady),
  ].join('\n');
}

/**
 * `npm run bench live-dbs`: what an open database costs the embedded store. N databases
 * created, then each read once (opened), memory before and after.
 */
export interface DbsFigures {
  dbs: number;
  createdMiB: number;
  openMiB: number;
  perDbKiB: number;
  load: string;
}

export async function runDbs(opts: { dbs?: number } = {}): Promise<DbsFigures> {
  const n = opts.dbs ?? Number(process.env.BENCH_LIVE_DBS ?? 1000);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-live-dbs-'));
  const svc = await startService(dir, parseEnv(process.env.BENCH_LIVE_ENV));
  const auth = { authorization: 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64') };
  const tag = randomBytes(3).toString('hex');
  const names = Array.from({ length: n }, (_, i) => `live-dbs-${tag}-${i}`);
  try {
    await pool(names, 8, async (db) => {
      const res = await fetch(`${svc.store}/${db}`, { method: 'PUT', headers: auth });
      if (res.status !== 201) throw new Error(`create ${db}: ${res.status}`);
    });
    await sleep(2000);
    const created = await rssMiB(svc.child.pid as number);
    await pool(names, 8, async (db) => {
      await write(svc.store, auth.authorization, db, 'doc');
      const res = await fetch(`${svc.store}/${db}/_changes?since=0`, { headers: auth });
      await res.arrayBuffer();
    });
    await sleep(2000);
    const open = await rssMiB(svc.child.pid as number);
    return {
      dbs: n,
      createdMiB: Math.round(created),
      openMiB: Math.round(open),
      perDbKiB: Math.round(((open - created) * 1024) / n),
      load: await loadAvg(),
    };
  } finally {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function reportDbs(f: DbsFigures): string {
  return `${f.dbs} databases: service RSS ${f.createdMiB} MiB after creating them, ${f.openMiB} MiB after a write and a read of each: **${f.perDbKiB} KiB per database**. Load average ${f.load}.`;
}
