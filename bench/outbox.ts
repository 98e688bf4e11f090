import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Nano from 'nano';
import { listClaims, type Claim } from '../server/jobs/integrations/outbox/claim.js';
import { dueClaims, ensureClaimsIndex } from '../server/jobs/integrations/outbox/due.js';
import { spawnStore } from './spawn-store.js';

/**
 * What an outbox run pays to find its work in a jobs database that holds many final claims
 * and few open ones: every claim listed (the old way) against the due open claims read
 * through their index (outbox/due.ts), first (the index is built) and then again.
 */
export interface OutboxFigure {
  run: string;
  ms: number;
  read: number;
}

const FINAL = 20_000;
const OPEN = 20;

function claim(i: number, state: Claim['state']): Claim & { _id: string } {
  const at = '2026-03-02T08:00:00.000Z';
  return {
    _id: `outbox:payment:${String(i).padStart(32, '0')}`,
    kind: 'payment',
    db: 'userdb-62656e6368',
    request_id: `payment_request-${i}`,
    owner: 'bench',
    external_id: `sawa-${String(i).padStart(32, '0')}`,
    state,
    attempts: 1,
    queries: 0,
    next_at: at,
    created_at: at,
    updated_at: at,
    order: { msisdn: '+255712345678', amount: 1000, network: 'mpesa' },
  };
}

export async function run(): Promise<OutboxFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-outbox-'));
  const store = await spawnStore(join(dir, 'store'));
  const url = new URL(store.url);
  const [user, pass] = Buffer.from(store.auth.replace(/^Basic /, ''), 'base64')
    .toString()
    .split(':');
  url.username = user ?? '';
  url.password = pass ?? '';
  const nano = Nano(url.toString());
  const figures: OutboxFigure[] = [];
  try {
    await nano.db.create('jobs');
    const jobs = nano.use<unknown>('jobs');
    for (let i = 0; i < FINAL + OPEN; i += 1000) {
      const docs = [];
      for (let k = i; k < Math.min(i + 1000, FINAL + OPEN); k++) {
        docs.push(claim(k, k < FINAL ? 'succeeded' : k % 2 ? 'queued' : 'submitted'));
      }
      await jobs.bulk({ docs });
    }
    const now = new Date('2026-03-02T09:00:00Z');
    const measure = async (label: string, find: () => Promise<number>) => {
      const t0 = performance.now();
      const read = await find();
      figures.push({ run: label, ms: Math.round(performance.now() - t0), read });
    };
    await measure(`every claim listed (${FINAL + OPEN})`, async () => {
      let n = 0;
      for await (const c of listClaims(jobs, 'payment')) if (c.state !== 'succeeded') n++;
      return n;
    });
    await measure('due open claims, index built first', async () => {
      await ensureClaimsIndex(jobs);
      return (await dueClaims(jobs, 'payment', now)).length;
    });
    await measure('due open claims, next run', async () => {
      await ensureClaimsIndex(jobs);
      return (await dueClaims(jobs, 'payment', now)).length;
    });
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: OutboxFigure[]): string {
  return [
    '| run | ms | open claims found |',
    '|---|---:|---:|',
    ...figures.map((f) => `| ${f.run} | ${f.ms} | ${f.read} |`),
  ].join('\n');
}

// `npx tsx bench/outbox.ts`: this benchmark alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${report(await run())}\n`);
}
