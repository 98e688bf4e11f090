import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tap, { type Test } from 'tap';
import { spawnFreshStore } from './store-process.js';
import type { StoreOptions } from '../../server/store/context.js';
import { configuredCouch } from '../../server/couch/connection.js';
import { suiteStoreFrom } from './suite-store.js';

export interface TestCouch {
  /** Base URL without credentials, ending without a slash. */
  url: string;
  admin: { name: string; password: string };
  proxySecret: string;
  /** True when the tests run against the embedded store (not a real CouchDB from COUCHDB_URL). */
  embedded: boolean;
  /**
   * True when other test files use this server at the same time (the real CouchDB of
   * COUCHDB_URL, or the suite's one store under `npm test`): its fleet-wide listings and
   * feeds (`_all_dbs`, `_db_updates`) carry their databases too.
   */
  shared: boolean;
  /** Basic auth header for the admin. */
  adminAuth: string;
  dataDir?: string;
}

/**
 * The CouchDB of a test file: the real CouchDB named by COUCHDB_URL (admin credentials in the
 * URL, proxy secret in COUCHDB_PROXY_SECRET); else under `npm test` the one embedded store the
 * whole suite shares (suite-store.ts); else the embedded store as a process of its own on a
 * free loopback port with a fresh data directory, which every call in the file gets (started
 * on the first call, stopped when the file ends). Tests name their users, teams and
 * databases uniquely (fixtures.ts `unique`) as they must on a CouchDB shared by every file.
 * Settings (`env`, or `overrides` configuration cannot carry) give the caller a store of its
 * own, stopped with `t`.
 */
export async function testCouch(
  t: Test,
  env: Record<string, string> = {},
  overrides: Partial<StoreOptions> = {},
): Promise<TestCouch> {
  const external = externalCouch();
  if (external) return external;
  if (Object.keys(env).length === 0 && Object.keys(overrides).length === 0) {
    fileCouch ??= suiteCouch() ?? embeddedCouch(tap, {}, {});
    return fileCouch;
  }
  return embeddedCouch(t, env, overrides);
}

let fileCouch: Promise<TestCouch> | undefined;

/** The suite's store, when `npm test` started one (test-all.mjs). */
function suiteCouch(): Promise<TestCouch> | undefined {
  const suite = suiteStoreFrom(process.env);
  if (!suite) return undefined;
  const adminAuth = basicAuth(suite.admin.name, suite.admin.password);
  return Promise.resolve({ ...suite, embedded: true, shared: true, adminAuth });
}

/**
 * A CouchDB for `t` alone: under COUCHDB_URL the real one (tests then rely on their names and
 * on the fleet-scope settings), else an embedded store of its own, stopped with `t`. For tests
 * whose fleet-wide scans (rollouts, backups, jobs) must not meet the file's other databases.
 */
export function ownCouch(
  t: Test,
  env: Record<string, string> = {},
  overrides: Partial<StoreOptions> = {},
): Promise<TestCouch> {
  const external = externalCouch();
  if (external) return Promise.resolve(external);
  return embeddedCouch(t, env, overrides);
}

/**
 * The status the store answers to bad input where CouchDB 3.5 answers 500 (`badarg`,
 * `function_clause`, `no_majority`…): the store keeps its clear one (docs/store.md).
 */
export function storeOr500(server: Pick<TestCouch, 'embedded'>, status: number): number {
  return server.embedded ? status : 500;
}

/** Skip options for a test that needs the embedded store's own process: a reason under COUCHDB_URL. */
export function needsEmbedded(why: string): { skip?: string } {
  return process.env.COUCHDB_URL ? { skip: `needs the embedded store (${why})` } : {};
}

/** The real CouchDB of COUCHDB_URL, resolved as the service and the scripts resolve it. */
function externalCouch(): TestCouch | undefined {
  const external = configuredCouch(process.env, { needsProxySecret: false });
  if (!external) return undefined;
  const { admin } = external;
  const adminAuth = basicAuth(admin.name, admin.password);
  return { ...external, embedded: false, shared: true, adminAuth };
}

async function embeddedCouch(
  t: Pick<Test, 'teardown'>,
  env: Record<string, string>,
  overrides: Partial<StoreOptions>,
): Promise<TestCouch> {
  const admin = { name: 'admin', password: 'test-admin-password' };
  const adminAuth = basicAuth(admin.name, admin.password);
  const base = { admin, embedded: true, shared: false, adminAuth };
  if (Object.keys(overrides).length === 0) {
    // Its own process, as `npm run store`: the test process never loads the store's sources.
    const fresh = await spawnFreshStore('sawa-store-', admin, env);
    t.teardown(fresh.remove);
    return { ...base, dataDir: fresh.dataDir, url: fresh.proc.url, proxySecret: fresh.proxySecret };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'sawa-store-'));
  // Settings configuration cannot carry (e.g. proxy authentication off): in this process.
  const [{ loadConfig }, { startStore }] = await Promise.all([
    import('../../server/config.js'),
    import('../../server/store/start.js'),
  ]);
  const config = loadConfig({
    DATA_DIR: dataDir,
    COUCHDB_USER: admin.name,
    COUCHDB_PASSWORD: admin.password,
    ...env,
  });
  const store = await startStore(config, { port: 0, overrides });
  t.teardown(async () => {
    await store.app.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { ...base, dataDir, url: store.url, proxySecret: store.proxySecret };
}

export function basicAuth(name: string, password: string): string {
  return 'Basic ' + Buffer.from(`${name}:${password}`).toString('base64');
}

/** A small fetch wrapper for CouchDB requests in tests: JSON in, status and JSON out. */
export async function couch(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; auth?: string; headers?: Record<string, string>; raw?: boolean } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.auth) headers.authorization = opts.auth;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if (!opts.raw) {
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
