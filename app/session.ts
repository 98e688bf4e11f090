import PouchDB from 'pouchdb';
import { SawaClient } from '../client/index.js';
import type { Rejection, SessionUser, SyncResult, SyncState } from '../client/types.js';
import { DocIndex, type Doc, type LocalDb } from './data.js';
import { SyncLog } from './sync-log.js';

/**
 * One signed-in agent: the Sawa client (tokens, sync), the local database on IndexedDB and
 * the in-memory index the screens read. The session lives in localStorage, so a reload with
 * no network signs the agent straight back in.
 */

const storage = {
  get: (key: string) => localStorage.getItem(key),
  set: (key: string, value: string) => localStorage.setItem(key, value),
  remove: (key: string) => localStorage.removeItem(key),
};

function deviceId(): string {
  let id = localStorage.getItem('sawa.device');
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    id = `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    localStorage.setItem('sawa.device', id);
  }
  return id;
}

export interface Session {
  client: SawaClient;
  user: SessionUser;
  db: LocalDb;
  docs: DocIndex;
  log: SyncLog;
  /** Saves a document the agent wrote and counts it as waiting for the server. */
  save(doc: Doc): Promise<void>;
  syncNow(): Promise<void>;
  signOut(): Promise<void>;
}

export const client = new SawaClient({
  url: location.origin,
  PouchDB: PouchDB as never,
  device: deviceId(),
  storage,
  localOptions: { adapter: 'idb' },
});

export const log = new SyncLog();

/** The stored session, if any: works with no network. */
export async function resume(): Promise<Session | null> {
  await client.ready;
  return client.user ? start(client.user) : null;
}

export async function signIn(
  mode: 'login' | 'signup',
  name: string,
  password: string,
): Promise<Session> {
  if (mode === 'signup') await client.signup(name, password);
  else await client.login(name, password);
  log.reset();
  return start(client.user as SessionUser);
}

async function start(user: SessionUser): Promise<Session> {
  const db = client.databases.user as LocalDb;
  const docs = new DocIndex(db);
  await docs.open();
  const off = [
    client.on('state', (state: SyncState) => log.setState(state)),
    client.on('rejected', (r: Rejection) => log.refuse(r)),
    client.on('synced', (result: SyncResult) => {
      log.roundDone(result.complete);
      refresh();
    }),
  ];
  // Conflicts are read from the local database itself: a document with more than one live
  // revision, whoever made it. The waiting count is the client's own.
  const refresh = () => {
    log.conflicts = docs.conflicted().map((d) => ({ db: user.name, id: d._id }));
    log.notify();
    client.pending().then(
      (n) => log.setWaiting(n),
      () => undefined,
    );
  };
  docs.subscribe(refresh);
  refresh();
  log.setState(client.state);
  client.startLiveSync();
  // The network is back: sync now rather than at the next retry.
  const nudge = () => void client.syncOnce().catch(() => undefined);
  window.addEventListener('online', nudge);
  off.push(() => window.removeEventListener('online', nudge), client.on('state', refresh));
  const session: Session = {
    client,
    user,
    db,
    docs,
    log,
    async save(doc) {
      const { rev } = await db.put(doc);
      doc._rev = rev;
      log.forgetRefusal(doc._id);
    },
    async syncNow() {
      try {
        await client.syncOnce();
      } catch {
        // The state line already says offline or error; the live sync retries by itself.
      }
    },
    async signOut() {
      client.stopLiveSync();
      for (const unsubscribe of off) unsubscribe?.();
      docs.close();
      await client.logout();
      log.reset();
    },
  };
  return session;
}
