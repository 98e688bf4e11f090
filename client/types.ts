/**
 * The public types of the Sawa client. They describe PouchDB only as far as the client uses
 * it, so the library needs no PouchDB types at run time and any PouchDB 7–9 build fits.
 */

/** Where the session is kept: `localStorage`, React Native's AsyncStorage, or memory. */
export interface SawaStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** The PouchDB constructor the app passes in (with its adapter plugins already added). */
export interface PouchDBConstructor {
  new (name: string, options?: Record<string, unknown>): any;
}

export interface SawaClientOptions {
  /** The service's base URL, e.g. `https://sawa.example` (no trailing `/sync`). */
  url: string;
  PouchDB: PouchDBConstructor;
  /** A stable id of this installation, sent as `X-Sawa-Device` (byte metering). */
  device?: string;
  /** Session storage; an in-memory store when left out (the session then ends with the page). */
  storage?: SawaStorage;
  /** Options for every local database, e.g. `{ adapter: 'idb' }` or `{ adapter: 'memory' }`. */
  localOptions?: Record<string, unknown>;
  /** Local database name prefix (default `sawa-`); the server's database name follows it. */
  localPrefix?: string;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Documents per pull page and push batch (default 500). */
  batchSize?: number;
  /**
   * The first wait before a request that got no answer is tried again (default 500 ms); each
   * later wait doubles, with jitter.
   */
  retryBaseMs?: number;
}

export type SyncState = 'signed-out' | 'idle' | 'syncing' | 'offline' | 'error';

/** A local write the server's sync rules refused: the document stays on the phone. */
export interface Rejection {
  /** The server's database name (`userdb-…` or a team database). */
  db: string;
  id: string;
  rev?: string;
  /** The rule's message, as the server gave it. */
  reason: string;
}

/** A document with more than one live revision after the sync. */
export interface Conflict {
  db: string;
  id: string;
}

export interface SyncResult {
  /** Document revisions written to the phone. */
  pulled: number;
  /** Document revisions the server accepted. */
  pushed: number;
  rejected: Rejection[];
  conflicts: Conflict[];
  /** False when the round stopped early because the link dropped (state is then `offline`). */
  complete: boolean;
}

export interface SessionUser {
  name: string;
  roles: string[];
}

/** The server's database names for this user. */
export interface SessionDbs {
  user: string;
  shared: string[];
}

export interface SignupOptions {
  /** An invitation code, when the server's signup mode asks for one. */
  invite?: string;
}

export interface LogoutOptions {
  /** Also destroy the local databases (default false: local data stays). */
  wipe?: boolean;
}

export interface LiveSyncOptions {
  /** Push local writes this long after the last one (default 1000 ms). */
  pushDelayMs?: number;
}

export interface SawaEvents {
  /** The state changed; `error` is set for `error` and `offline`. */
  state: (state: SyncState, error?: Error) => void;
  /** One refused write. */
  rejected: (rejection: Rejection) => void;
  /** One document found in conflict. */
  conflict: (conflict: Conflict) => void;
  /** A sync round finished (also a partial one: see `complete`). */
  synced: (result: SyncResult) => void;
}

export type SawaEventName = keyof SawaEvents;
