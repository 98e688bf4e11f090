import PouchDB from 'pouchdb';
import tap from 'tap';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { createHmac, randomUUID } from 'node:crypto';
import { SawaClient } from '../../client/index.js';
import type { SawaClientOptions, SawaStorage } from '../../client/index.js';
import { gateway, type Gw } from '../gateway/helper.js';

PouchDB.plugin(MemoryAdapter);

export const PASSWORD = 'habari-za-asubuhi';
/** The JWT secret test/helpers/service.ts and the accounts helper give the service. */
const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';

/** Every request a phone made: method, path, status (0 when the link failed). */
export interface Traffic {
  calls: { method: string; path: string; status: number; body?: string }[];
  count(path: RegExp): number;
}

/**
 * A phone: the Sawa client over PouchDB on the memory adapter, its own local databases,
 * every request recorded. `fail(n)` makes the next n requests fail as a dropped link does.
 * Retries wait 10 ms, 20 ms, 40 ms… (`retryBaseMs`) instead of half a second, 1 s, 2 s…: the
 * same retries, without seconds of sleep in a test of a dropped link.
 */
export function phoneClient(url: string, opts: Partial<SawaClientOptions> = {}, delayMs = 0) {
  const traffic: Traffic = {
    calls: [],
    count: (re) => traffic.calls.filter((c) => re.test(`${c.method} ${c.path}`)).length,
  };
  let failing = 0;
  const client = new SawaClient({
    url,
    PouchDB: PouchDB as unknown as SawaClientOptions['PouchDB'],
    device: `test-${randomUUID().slice(0, 8)}`,
    localOptions: { adapter: 'memory' },
    localPrefix: `phone-${randomUUID()}-`,
    retryBaseMs: 10,
    fetch: async (input, init = {}) => {
      const u = new URL(String(input));
      const call = {
        method: init.method ?? 'GET',
        path: u.pathname + u.search,
        status: 0,
        body: typeof init.body === 'string' ? init.body : undefined,
      };
      traffic.calls.push(call);
      if (failing > 0) {
        failing--;
        throw new TypeError('fetch failed (test: link down)');
      }
      if (delayMs) await sleep(delayMs);
      const res = await fetch(input, init);
      call.status = res.status;
      return res;
    },
    ...opts,
  });
  return { client, traffic, fail: (n: number) => void (failing = n) };
}

let shared: Promise<Gw> | undefined;
/**
 * The service every part of client.test.ts talks to: one per file (started on the first call,
 * closed when the file ends), as the file's store is. Parts name their users uniquely.
 */
export function fileGateway(): Promise<Gw> {
  shared ??= gateway(tap);
  return shared;
}

/** Storage that outlives a client, as localStorage outlives a page. */
export function sharedStorage(): SawaStorage & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: (k) => values.get(k) ?? null,
    set: (k, v) => void values.set(k, v),
    remove: (k) => void values.delete(k),
  };
}

let n = 0;
/** A visit the reference rules accept. */
export function visit(owner: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  const at = new Date(Date.UTC(2025, 0, 6, 8, n)).toISOString();
  return {
    _id: `visit-${randomUUID()}`,
    type: 'visit',
    owner,
    created_at: at,
    updated_at: at,
    farmer_id: 'farmer-1',
    visited_at: at,
    activity: 'training',
    ...extra,
  };
}

/**
 * The same access token with its `exp` moved to `seconds` from now, signed as the service
 * signs (HS256 with the tests' secret): a token that runs out in the middle of a sync.
 */
export function expiringToken(token: string, seconds: number): string {
  const [, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8'));
  claims.exp = Math.floor(Date.now() / 1000) + seconds;
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(50);
  }
}
