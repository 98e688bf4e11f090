/**
 * The Sawa client: sign-in, tokens kept and refreshed, and a sync that spends the fewest
 * bytes a 2G link allows, with refused writes and conflicts reported. No Node-only APIs:
 * it runs in a browser, in React Native and in Node. PouchDB is passed in.
 *
 * ```ts
 * const client = new SawaClient({ url, PouchDB, device, storage });
 * await client.login(username, password);
 * await client.syncOnce();
 * ```
 * See docs/client.md.
 */
export { SawaClient } from './client.js';
export { SawaError, type SawaErrorCode } from './errors.js';
export { memoryStorage } from './storage.js';
export { applyPurges, type PurgeOutcome } from './purge.js';
export type {
  Conflict,
  LiveSyncOptions,
  LogoutOptions,
  PouchDBConstructor,
  Rejection,
  SawaClientOptions,
  SawaEventName,
  SawaEvents,
  SawaStorage,
  SessionDbs,
  SessionUser,
  SignupOptions,
  SyncResult,
  SyncState,
} from './types.js';
