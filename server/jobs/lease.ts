import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Nano from 'nano';
import { getDoc, upsert, type Stored } from '../couch/upsert.js';
import type { JobResult } from './types.js';

/**
 * One lease document per job in the jobs database (JOBS_DB) (`lease:<job>`) makes exactly one process run a
 * job at a time, across every Sawa instance and the command line. It is taken and renewed
 * by `_rev` through the one retrying upsert, so of two racing writers one gets a 409, reads
 * again and sees the other holding it. A holder that dies stops renewing and the lease
 * expires after its TTL. The lease also remembers the last cron tick taken, so a tick that
 * one instance has already run (or is running) is skipped by the others, even when their
 * timers fire a little later.
 */

export interface RunRecord {
  tick: string | null;
  holder: string;
  started_at: string;
  finished_at: string;
  ok: boolean;
  result?: JobResult;
  error?: string;
}

export interface LeaseDoc {
  type: 'lease';
  job: string;
  /** Who runs the job now; null when nobody does. */
  holder: string | null;
  /** The scheduled time of the last tick taken (ISO): no instance runs that tick or an older one. */
  tick: string | null;
  acquired_at: string | null;
  expires_at: string | null;
  /** The last runs, newest first. */
  runs: RunRecord[];
}

const KEEP_RUNS = 20;

export const leaseId = (job: string) => `lease:${job}`;

/** A name for this process: host, pid and a random part (a restarted process is someone else). */
export function holderName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export type Taken =
  | { taken: true; lease: Lease }
  | { taken: false; reason: 'held'; holder: string; until: string }
  | { taken: false; reason: 'done'; tick: string };

export interface Lease {
  job: string;
  holder: string;
  /** The tick this run is for; null for a run by hand. */
  tick: string | null;
  expiresAt: number;
  /** Extends the lease; false when it was lost (expired and taken by someone else). */
  renew(): Promise<boolean>;
  /** Gives the lease up and records the run. */
  release(run: Omit<RunRecord, 'holder' | 'tick'>): Promise<void>;
}

export interface LeaseOptions {
  /** The jobs database (config JOBS_DB). */
  jobsDb: string;
  ttlMs: number;
  /** The cron tick this run is for; a manual run has none and leaves the tick as it is. */
  tick?: Date;
  now?: () => number;
}

export async function takeLease(
  nano: Nano.ServerScope,
  job: string,
  holder: string,
  opts: LeaseOptions,
): Promise<Taken> {
  const db = nano.use(opts.jobsDb);
  const now = opts.now ?? Date.now;
  const tick = opts.tick?.toISOString();
  const res = await upsert<LeaseDoc>(db, leaseId(job), (cur) => {
    if (busy(cur, holder, now())) return false;
    if (tick && cur?.tick && cur.tick >= tick) return false;
    return {
      ...blank(job),
      ...cur,
      holder,
      tick: tick ?? cur?.tick ?? null,
      acquired_at: new Date(now()).toISOString(),
      expires_at: new Date(now() + opts.ttlMs).toISOString(),
    };
  });
  const doc = res.doc as Stored<LeaseDoc>;
  if (!res.written) {
    return busy(doc, holder, now())
      ? {
          taken: false,
          reason: 'held',
          holder: doc.holder as string,
          until: doc.expires_at as string,
        }
      : { taken: false, reason: 'done', tick: doc.tick as string };
  }
  let expiresAt = Date.parse(doc.expires_at as string);
  return {
    taken: true,
    lease: {
      job,
      holder,
      tick: tick ?? null,
      get expiresAt() {
        return expiresAt;
      },
      async renew() {
        const r = await upsert<LeaseDoc>(db, leaseId(job), (cur) =>
          cur?.holder === holder
            ? {
                ...blank(job),
                ...cur,
                expires_at: new Date(now() + opts.ttlMs).toISOString(),
              }
            : false,
        );
        if (r.written) expiresAt = Date.parse(r.doc?.expires_at as string);
        return r.written;
      },
      async release(run) {
        const record: RunRecord = { tick: tick ?? null, holder, ...run };
        await upsert<LeaseDoc>(db, leaseId(job), (cur) => {
          const base = { ...blank(job), ...cur };
          const mine = base.holder === holder;
          return {
            ...base,
            // A lease lost mid-run belongs to its new holder; only the record is added.
            ...(mine && { holder: null, expires_at: new Date(now()).toISOString() }),
            runs: [record, ...base.runs].slice(0, KEEP_RUNS),
          };
        });
      },
    },
  };
}

/** Held by someone else and not yet expired. */
function busy(doc: LeaseDoc | null, holder: string, now: number): boolean {
  return !!doc?.holder && doc.holder !== holder && Date.parse(doc.expires_at ?? '') > now;
}

function blank(job: string): LeaseDoc {
  return {
    type: 'lease',
    job,
    holder: null,
    tick: null,
    acquired_at: null,
    expires_at: null,
    runs: [],
  };
}

/** The lease document as it stands (for tests, the CLI and ops), or null. */
export async function readLease(
  nano: Nano.ServerScope,
  jobsDb: string,
  job: string,
): Promise<Stored<LeaseDoc> | null> {
  return getDoc<LeaseDoc>(nano.use(jobsDb), leaseId(job));
}
