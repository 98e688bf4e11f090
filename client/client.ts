import { SawaError } from './errors.js';
import { memoryStorage } from './storage.js';
import type {
  LiveSyncOptions,
  LogoutOptions,
  SawaClientOptions,
  SawaEventName,
  SawaEvents,
  SessionDbs,
  SessionUser,
  SignupOptions,
  SyncResult,
  SyncState,
} from './types.js';

const todo = () => new SawaError('server', 'not implemented yet');

/** See docs/client.md. */
export class SawaClient {
  /** Resolves once a stored session has been read back (state is then `idle` or `signed-out`). */
  readonly ready: Promise<void>;
  state: SyncState = 'signed-out';
  /** The last error behind an `offline` or `error` state. */
  lastError: Error | null = null;
  /** When the last complete sync round ended. */
  lastSyncedAt: Date | null = null;

  constructor(private readonly options: SawaClientOptions) {
    void (options.storage ?? memoryStorage());
    this.ready = Promise.resolve();
  }

  /** The signed-in user, or null. */
  get user(): SessionUser | null {
    return null;
  }

  /** The server's database names, or null when signed out. */
  get dbs(): SessionDbs | null {
    return null;
  }

  /** The local databases: `user` (the user's own) and `shared` (team databases). */
  get databases(): { user: any; shared: any[] } {
    throw todo();
  }

  async signup(
    _username: string,
    _password: string,
    _opts: SignupOptions = {},
  ): Promise<SessionUser> {
    throw todo();
  }

  async login(_username: string, _password: string): Promise<SessionUser> {
    throw todo();
  }

  async logout(_opts: LogoutOptions = {}): Promise<void> {
    throw todo();
  }

  async syncOnce(): Promise<SyncResult> {
    throw todo();
  }

  startLiveSync(_opts: LiveSyncOptions = {}): void {
    throw todo();
  }

  stopLiveSync(): void {}

  /** Local writes not yet accepted by the server (refused ones excluded). */
  async pending(): Promise<number> {
    throw todo();
  }

  /** `fetch` on the service with this session's token (refreshed as needed), e.g. `/me`. */
  async request(_path: string, _init: RequestInit = {}): Promise<Response> {
    throw todo();
  }

  on<E extends SawaEventName>(_event: E, _fn: SawaEvents[E]): () => void {
    return () => {};
  }

  off<E extends SawaEventName>(_event: E, _fn: SawaEvents[E]): void {}
}
