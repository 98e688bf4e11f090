// `npm test`'s one embedded store for the whole suite. test-all.mjs starts it before tap and
// names it to every test file in SUITE_STORE_ENV; `testCouch` then hands it out instead of
// starting a store per file, as the suite shares one CouchDB under COUCHDB_URL. A store start
// and its cold JIT cost each file about 1.4 CPU-seconds (docs/testing.md). Tests that need a
// store alone (`ownCouch`, or settings of their own) still start one. Imports no tap: it runs
// in test-all's process.
import { randomBytes } from 'node:crypto';
import { spawnFreshStore } from './store-process.js';

/** The environment variable that carries the suite's store to each test file (JSON). */
export const SUITE_STORE_ENV = 'SAWA_TEST_SUITE_STORE';

/** What a test file learns of the suite's store. */
export interface SuiteStore {
  url: string;
  admin: { name: string; password: string };
  proxySecret: string;
  dataDir: string;
}

export interface RunningSuiteStore {
  /** To add to tap's environment. */
  env: Record<string, string>;
  /**
   * Stops the store and removes its data. Resolves with a description of the store's end if
   * it ended on its own before (a crash under the suite), else with undefined.
   */
  stop(): Promise<string | undefined>;
}

export async function startSuiteStore(): Promise<RunningSuiteStore> {
  const admin = { name: 'admin', password: randomBytes(12).toString('base64url') };
  const { proc, dataDir, proxySecret, remove } = await spawnFreshStore('sawa-suite-store-', admin);
  let early: string | undefined;
  let stopping = false;
  void proc.exited.then((how) => {
    if (!stopping) early = `the suite's store ended on its own (${how}):\n${proc.output()}`;
  });
  const store: SuiteStore = { url: proc.url, admin, proxySecret, dataDir };
  return {
    env: { [SUITE_STORE_ENV]: JSON.stringify(store) },
    async stop() {
      stopping = true;
      await remove();
      return early;
    },
  };
}

/** The suite's store named in `env`, if any. */
export function suiteStoreFrom(env: NodeJS.ProcessEnv): SuiteStore | undefined {
  const named = env[SUITE_STORE_ENV];
  return named ? (JSON.parse(named) as SuiteStore) : undefined;
}
