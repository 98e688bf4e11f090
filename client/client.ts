import { SawaError } from './errors.js';
import { Emitter } from './events.js';
import { LiveSync } from './live.js';
import { localDb, type LocalDb } from './local.js';
import { pendingChanges } from './push.js';
import { syncRound } from './round.js';
import { Session, type Tokens } from './session.js';
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
import type { PullResult } from './pull.js';

/**
 * A phone's connection to Sawa: the session, the local databases, and sync. See
 * docs/client.md for the whole story and examples for a browser and React Native.
 */
export class SawaClient {
  /** Resolves once a stored session has been read back (state is then `idle` or `signed-out`). */
  readonly ready: Promise<void>;
  /** The last error behind an `offline` or `error` state. */
  lastError: Error | null = null;
  /** When the last complete sync round ended. */
  lastSyncedAt: Date | null = null;

  private current: SyncState = 'signed-out';
  private readonly events = new Emitter<SawaEvents>();
  private readonly session: Session;
  private readonly locals = new Map<string, LocalDb>();
  private running: Promise<SyncResult> | null = null;
  private live: LiveSync | null = null;
  /** What live sync's longpolls pulled, reported with the next round. */
  private carried: { db: string; pulled: PullResult }[] = [];

  constructor(private readonly options: SawaClientOptions) {
    if (!options?.url || !options.PouchDB) {
      throw new TypeError('SawaClient needs { url, PouchDB }');
    }
    const base = options.url.replace(/\/+$/, '');
    const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.session = new Session(
      { base, fetch: doFetch, device: options.device, retryBaseMs: options.retryBaseMs },
      options.storage ?? memoryStorage(),
      (tokens, why) => this.sessionChanged(tokens, why),
    );
    this.ready = this.session.restore().then(
      () => undefined,
      () => undefined,
    );
  }

  get state(): SyncState {
    return this.current;
  }

  /** The signed-in user, or null. */
  get user(): SessionUser | null {
    return this.session.current?.user ?? null;
  }

  /** The server's database names, or null when signed out. */
  get dbs(): SessionDbs | null {
    return this.session.current?.dbs ?? null;
  }

  /** The local databases: `user` (the user's own) and `shared` (team databases). */
  get databases(): { user: any; shared: any[] } {
    const dbs = this.dbs;
    if (!dbs) throw new SawaError('signed-out', 'not signed in');
    return {
      user: this.local(dbs.user).db,
      shared: dbs.shared.map((name) => this.local(name).db),
    };
  }

  async signup(username: string, password: string, opts: SignupOptions = {}): Promise<SessionUser> {
    await this.ready;
    const body: Record<string, unknown> = { username, password };
    if (opts.invite !== undefined) body.invite = opts.invite;
    return (await this.session.start('/auth/signup', body)).user;
  }

  async login(username: string, password: string): Promise<SessionUser> {
    await this.ready;
    return (await this.session.start('/auth/login', { username, password })).user;
  }

  /**
   * Asks the server to send a sign-in code by SMS. Resolves alike whether or not the number
   * belongs to an account (`expires_in`: seconds the code is valid); 429 while limited.
   */
  async requestCode(phone: string): Promise<{ expires_in: number }> {
    await this.ready;
    const answer = (await this.session.post('/auth/otp/request', { phone })) as {
      expires_in: number;
    };
    return { expires_in: answer.expires_in };
  }

  /** Signs in with the code from the SMS, as `login` does. */
  async verifyCode(phone: string, code: string): Promise<SessionUser> {
    await this.ready;
    return (await this.session.start('/auth/otp/verify', { phone, code })).user;
  }

  /**
   * Revokes the refresh token on the server (when it can be reached) and forgets the session.
   * Local data stays unless `wipe`: a phone handed to a colleague should be wiped.
   */
  async logout(opts: LogoutOptions = {}): Promise<void> {
    await this.ready;
    this.stopLiveSync();
    const locals = [...this.locals.values()];
    try {
      await this.session.logout();
    } catch {
      // Unreachable: the tokens are forgotten anyway; the refresh token expires on its own.
    } finally {
      this.locals.clear();
      if (opts.wipe) await Promise.all(locals.map((l) => l.db.destroy()));
    }
  }

  /**
   * One pull and push of every database. Resolves with what moved; when the link drops it
   * resolves early with `complete: false` and the state `offline`. Rejects with a SawaError
   * when signed out (`signed-out`) or when the server keeps failing (state `error`).
   */
  syncOnce(): Promise<SyncResult> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Syncs now, then whenever the server or the phone has a change, until stopped. */
  startLiveSync(opts: LiveSyncOptions = {}): void {
    if (this.live) return;
    this.live = new LiveSync({
      round: () => this.syncOnce(),
      dbs: () => this.allLocals(),
      session: this.session,
      state: () => this.current,
      setState: (s, e) => this.setState(s, e),
      carry: (db, pulled) => this.carried.push({ db, pulled }),
      pushDelayMs: opts.pushDelayMs ?? 1000,
    });
    this.live.start();
  }

  stopLiveSync(): void {
    this.live?.stop();
    this.live = null;
  }

  /** Local writes not yet pushed (counted per document). */
  async pending(): Promise<number> {
    await this.ready;
    let n = 0;
    for (const local of this.allLocals()) n += (await pendingChanges(local)).length;
    return n;
  }

  /** `fetch` on the service with this session's token (refreshed as needed), e.g. `/me`. */
  async request(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
    await this.ready;
    return this.session.fetch(path, init);
  }

  on<E extends SawaEventName>(event: E, fn: SawaEvents[E]): () => void {
    return this.events.on(event, fn);
  }

  off<E extends SawaEventName>(event: E, fn: SawaEvents[E]): void {
    this.events.off(event, fn);
  }

  private async round(): Promise<SyncResult> {
    await this.ready;
    if (!this.session.current) throw new SawaError('signed-out', 'not signed in');
    this.setState('syncing');
    const carried = this.carried.splice(0);
    try {
      const { result, offline } = await syncRound(
        this.session,
        this.allLocals(),
        this.options.batchSize ?? 500,
        carried,
      );
      for (const r of result.rejected) this.events.emit('rejected', r);
      for (const c of result.conflicts) this.events.emit('conflict', c);
      if (offline) this.setState('offline', offline);
      else {
        this.lastSyncedAt = new Date();
        this.setState('idle');
      }
      this.events.emit('synced', result);
      return result;
    } catch (err) {
      if (this.session.current) this.setState('error', err as Error);
      throw err;
    }
  }

  private allLocals(): LocalDb[] {
    const dbs = this.dbs;
    return dbs ? [dbs.user, ...dbs.shared].map((name) => this.local(name)) : [];
  }

  private local(name: string): LocalDb {
    let local = this.locals.get(name);
    if (!local) {
      const prefix = this.options.localPrefix ?? 'sawa-';
      const db = new this.options.PouchDB(prefix + name, this.options.localOptions);
      this.locals.set(name, (local = localDb(name, db)));
    }
    return local;
  }

  private sessionChanged(tokens: Tokens | null, why?: SawaError): void {
    if (tokens) {
      if (this.current === 'signed-out') this.setState('idle');
      return;
    }
    this.stopLiveSync();
    this.setState('signed-out', why);
  }

  private setState(state: SyncState, error?: Error): void {
    if (error) this.lastError = error;
    if (state === this.current) return;
    this.current = state;
    this.events.emit('state', state, error);
  }
}
