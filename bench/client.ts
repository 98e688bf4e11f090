import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { SawaClient, type SawaClientOptions } from '../client/index.js';
import { pull } from '../client/pull.js';
import { push } from '../client/push.js';
import { EDGE_2G, Link, type LinkShape } from './client-link.js';
import { fieldRecords } from './gateway-records.js';
import { seed, signup } from './gateway.js';
import { startStack } from './gateway-stack.js';

PouchDB.plugin(MemoryAdapter);

/**
 * Issue 10's table on a shaped 2G link: a fresh phone's first sync of 3,000 visit records,
 * the first push after it, an idle pull + push round, and a first sync cut half-way and
 * resumed. Two phones: a stock PouchDB through the gateway (the fetch wrapper of DESIGN.md,
 * default options, as a new user would run it) and the Sawa client. Bytes are counted on
 * the link, both ways, headers included (TCP/IP and TLS overhead not).
 */
export type Phone = 'stock PouchDB' | 'Sawa client';

export interface PhoneFigures {
  phone: Phone;
  firstSyncMs: number;
  firstSyncBytes: number;
  firstSyncRequests: number;
  firstPushBytes: number;
  firstPushMs: number;
  idleBytes: number;
  idleRequests: number;
  /** Bytes of the cut sync plus its resumption, over the uncut first sync's bytes. */
  resumedShare: number;
  cutAtBytes: number;
}

export interface ClientBench {
  records: number;
  rawJsonPerRecord: number;
  shape: LinkShape;
  phones: PhoneFigures[];
}

const PASSWORD = 'bench-password-123';

/** Visits only, as issue 10 measures (about 330 bytes of JSON each). */
function visits(n: number, owner: string): Record<string, unknown>[] {
  return fieldRecords(n * 3, owner, 'uuid')
    .filter((r) => r.type === 'visit')
    .slice(0, n);
}

export async function run(
  opts: { records?: number; shape?: LinkShape } = {},
): Promise<ClientBench> {
  const n = opts.records ?? 3000;
  const shape = opts.shape ?? EDGE_2G;
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-client-'));
  const stack = await startStack(dir, { SYNC_RATE_LIMIT_PER_MIN: '1000000' });
  const link = await new Link(stack.service, shape).open();
  try {
    const user = 'agent-bench';
    const { db } = await signup(stack.service, user);
    const docs = visits(n, user);
    await seed(stack.store, stack.adminAuth, db, docs);
    const raw = docs.reduce((sum, d) => sum + JSON.stringify(d).length + 45, 0) / n; // + _rev
    const phones = [await stockPhone(link, db), await clientPhone(link)];
    return { records: n, rawJsonPerRecord: Math.round(raw), shape, phones };
  } finally {
    await link.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Bytes, requests and time of one step on the link. */
async function measure(
  link: Link,
  count: { requests: number },
  step: () => Promise<unknown>,
  label = '',
) {
  const bytes0 = link.bytes;
  const req0 = count.requests;
  const t0 = performance.now();
  await step();
  const m = {
    ms: Math.round(performance.now() - t0),
    bytes: link.bytes - bytes0,
    requests: count.requests - req0,
  };
  if (process.env.BENCH_VERBOSE) process.stderr.write(`${label}: ${JSON.stringify(m)}\n`);
  return m;
}

/** Resolves `graceMs` after the link was cut. */
async function afterCut(link: Link, graceMs: number): Promise<void> {
  while (!link.wasCut) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, graceMs));
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'agent-bench', password: PASSWORD }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function stockPhone(link: Link, db: string): Promise<PhoneFigures> {
  const token = await login(link.url);
  const count = { requests: 0 };
  const remote = new PouchDB(`${link.url}/sync/${db}`, {
    skip_setup: true,
    fetch: (url: string | Request, o: RequestInit = {}) => {
      count.requests++;
      const headers = new Headers(o.headers);
      headers.set('Authorization', `Bearer ${token}`);
      headers.set('X-Sawa-Device', 'bench-stock');
      return PouchDB.fetch(url, { ...o, headers });
    },
  });
  const fresh = () => new PouchDB(`stock-${Math.random()}`, { adapter: 'memory' });
  const local = fresh();
  const first = await measure(link, count, () => local.replicate.from(remote), 'stock first');
  const firstPush = await measure(link, count, () => local.replicate.to(remote), 'stock push');
  const idle = await measure(
    link,
    count,
    async () => {
      await local.replicate.from(remote);
      await local.replicate.to(remote);
    },
    'idle',
  );
  const cutPhone = fresh();
  const resumed = await measure(
    link,
    count,
    async () => {
      link.cutAfterDown(Math.round(first.bytes / 2));
      // A replication on a dead link may never settle (node-fetch has no timeout): an app
      // would cancel it; give it a few seconds after the cut.
      const rep = cutPhone.replicate.from(remote);
      await Promise.race([
        rep.then(
          () => undefined,
          () => undefined,
        ),
        afterCut(link, 5000),
      ]);
      rep.cancel();
      if (!link.wasCut) throw new Error('stock: the link was never cut');
      link.restore();
      await cutPhone.replicate.from(remote);
    },
    'resumed',
  );
  return {
    phone: 'stock PouchDB',
    firstSyncMs: first.ms,
    firstSyncBytes: first.bytes,
    firstSyncRequests: first.requests,
    firstPushBytes: firstPush.bytes,
    firstPushMs: firstPush.ms,
    idleBytes: idle.bytes,
    idleRequests: idle.requests,
    resumedShare: resumed.bytes / first.bytes,
    cutAtBytes: Math.round(first.bytes / 2),
  };
}

async function clientPhone(link: Link): Promise<PhoneFigures> {
  const count = { requests: 0 };
  const make = () =>
    new SawaClient({
      url: link.url,
      PouchDB: PouchDB as unknown as SawaClientOptions['PouchDB'],
      device: 'bench-client',
      localOptions: { adapter: 'memory' },
      localPrefix: `client-${Math.random()}-`,
      fetch: (input, init) => {
        count.requests++;
        return fetch(input, init);
      },
    });
  const client = make();
  await client.login('agent-bench', PASSWORD);
  // The round's two halves measured apart: the client's internals, as syncOnce runs them.
  const internals = client as unknown as { session: any; local(name: string): any };
  const local = internals.local(client.dbs?.user as string);
  const firstPull = await measure(link, count, () => pull(internals.session, local), 'client pull');
  const firstPush = await measure(
    link,
    count,
    () => push(internals.session, local, 500),
    'client push',
  );
  const idle = await measure(link, count, () => client.syncOnce(), 'client idle');
  const cutClient = make();
  await cutClient.login('agent-bench', PASSWORD);
  const resumed = await measure(
    link,
    count,
    async () => {
      link.cutAfterDown(Math.round(firstPull.bytes / 2));
      const cut = await cutClient.syncOnce();
      if (cut.complete || !link.wasCut) throw new Error('client: the link was never cut');
      link.restore();
      const done = await cutClient.syncOnce();
      if (!done.complete) throw new Error('client: the resumed sync did not finish');
    },
    'resumed',
  );
  const firstBytes = firstPull.bytes + firstPush.bytes;
  return {
    phone: 'Sawa client',
    firstSyncMs: firstPull.ms + firstPush.ms,
    firstSyncBytes: firstBytes,
    firstSyncRequests: firstPull.requests + firstPush.requests,
    firstPushBytes: firstPush.bytes,
    firstPushMs: firstPush.ms,
    idleBytes: idle.bytes,
    idleRequests: idle.requests,
    resumedShare: resumed.bytes / firstBytes,
    cutAtBytes: Math.round(firstPull.bytes / 2),
  };
}

export function report(b: ClientBench): string {
  const kib = (x: number) => (x / 1024).toFixed(1);
  const s = b.shape;
  const rows: [string, (f: PhoneFigures) => string, string][] = [
    ['first sync: time', (f) => `${(f.firstSyncMs / 1000).toFixed(1)} s`, '≤ 20 s'],
    [
      'first sync: bytes per record (both ways, headers included)',
      (f) => `${Math.round(f.firstSyncBytes / b.records)} B (${kib(f.firstSyncBytes)} KiB)`,
      '≤ 80 B',
    ],
    ['first sync: requests', (f) => String(f.firstSyncRequests), ''],
    [
      'first push after the first pull',
      (f) => `${kib(f.firstPushBytes)} KiB, ${(f.firstPushMs / 1000).toFixed(1)} s`,
      '≤ 10 KiB',
    ],
    [
      'idle pull + push round',
      (f) => `${(f.idleBytes / 1000).toFixed(2)} KB, ${f.idleRequests} requests`,
      '≤ 2 KB',
    ],
    [
      'cut half-way, then resumed (share of an uncut sync)',
      (f) => `${f.resumedShare.toFixed(2)}×`,
      '≤ 1.1×',
    ],
  ];
  return [
    `${b.records} visit records, ~${b.rawJsonPerRecord} B of JSON each; link ${s.downBitsPerSec / 1000} kbit/s down, ` +
      `${s.upBitsPerSec / 1000} kbit/s up, ${s.rttMs} ms round trip (loopback proxy)`,
    '',
    `| | ${b.phones.map((p) => p.phone).join(' | ')} | goal |`,
    `|---|${b.phones.map(() => '---|').join('')}---|`,
    ...rows.map(
      ([name, cell, goal]) => `| ${name} | ${b.phones.map(cell).join(' | ')} | ${goal} |`,
    ),
  ].join('\n');
}

// `npx tsx bench/client.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.env.BENCH_CLIENT_RECORDS ?? 3000);
  process.stdout.write(report(await run({ records })) + '\n');
}
