import { SawaError } from './errors.js';
import { errorOf, send, type SendOptions, type Transport } from './http.js';
import type { SawaStorage, SessionDbs, SessionUser } from './types.js';

const KEY = 'sawa.session';

export interface Tokens {
  access_token: string;
  refresh_token: string;
  /** Epoch milliseconds, by this device's clock. */
  expires_at: number;
  /** The access token's lifetime in milliseconds. */
  lifetime: number;
  user: SessionUser;
  dbs: SessionDbs;
}

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: SessionUser;
  dbs: SessionDbs;
}

/**
 * The signed-in session: tokens kept in `storage`, the access token refreshed before it
 * expires and once on a 401, with one refresh in flight however many requests wait for it
 * (a refresh token works once: two parallel refreshes would revoke the session). A refresh
 * the server refuses (revoked, reused, expired) ends the session: `onSignedOut` runs once
 * and every later call fails with `signed-out`, never a loop.
 */
export class Session {
  private tokens: Tokens | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly t: Transport,
    private readonly storage: SawaStorage,
    private readonly onChange: (tokens: Tokens | null, why?: SawaError) => void,
  ) {}

  /** The first retry's wait, for the callers that retry on their own (pull). */
  get retryBaseMs(): number | undefined {
    return this.t.retryBaseMs;
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  async restore(): Promise<Tokens | null> {
    const raw = await this.storage.get(KEY);
    if (!raw) return null;
    try {
      const parsed = JSON.parse(raw) as Tokens;
      if (typeof parsed.refresh_token !== 'string' || !parsed.dbs?.user) return null;
      this.tokens = parsed;
      this.onChange(parsed);
    } catch {
      await this.storage.remove(KEY);
    }
    return this.tokens;
  }

  /** POST /auth/signup or /auth/login; the session starts when the server answers. */
  async start(path: string, body: Record<string, unknown>): Promise<Tokens> {
    const res = await send(this.t, path, { json: body, attempts: 3 });
    if (!res.ok) throw await errorOf(res);
    await this.save(toTokens((await res.json()) as TokenAnswer));
    return this.tokens as Tokens;
  }

  /** A POST that starts no session (a sign-in code request): the answer's JSON. */
  async post(path: string, body: Record<string, unknown>): Promise<unknown> {
    const res = await send(this.t, path, { json: body, attempts: 1 });
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const tokens = this.need();
    const ttl = tokens.expires_at - Date.now();
    // A minute of margin (a fifth for short tokens) so a request never leaves with a token
    // that expires on its way over a slow link.
    if (ttl < Math.min(60_000, tokens.lifetime / 5)) await this.refresh(tokens.access_token);
    return this.need().access_token;
  }

  /** Refreshes unless someone already replaced `stale` (then that token is used). */
  refresh(stale: string): Promise<void> {
    if (this.tokens && this.tokens.access_token !== stale) return Promise.resolve();
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** An authenticated request; a 401 costs one refresh and one retry. */
  async fetch(path: string, opts: SendOptions = {}): Promise<Response> {
    const token = await this.accessToken();
    const go = (tok: string) =>
      send(this.t, path, { ...opts, headers: { ...opts.headers, authorization: `Bearer ${tok}` } });
    const res = await go(token);
    if (res.status !== 401) return res;
    void res.body?.cancel().catch(() => {});
    await this.refresh(token);
    const again = await go(this.need().access_token);
    if (again.status === 401) {
      // A fresh token refused: the account was disabled or deleted.
      const err = await errorOf(again);
      await this.end(new SawaError('signed-out', err.message, 401));
      throw this.signedOut(err.message);
    }
    return again;
  }

  /** Revokes the refresh token (best effort) and forgets the session. */
  async logout(): Promise<void> {
    const tokens = this.tokens;
    if (!tokens) return;
    try {
      const res = await send(this.t, '/auth/logout', {
        json: { refresh_token: tokens.refresh_token },
        headers: { authorization: `Bearer ${tokens.access_token}` },
        attempts: 2,
        timeoutMs: 15_000,
      });
      void res.body?.cancel().catch(() => {});
    } finally {
      await this.end();
    }
  }

  async end(why?: SawaError): Promise<void> {
    this.tokens = null;
    await this.storage.remove(KEY);
    this.onChange(null, why);
  }

  private async doRefresh(): Promise<void> {
    const tokens = this.need();
    const res = await send(this.t, '/auth/refresh', {
      json: { refresh_token: tokens.refresh_token },
      attempts: 3,
    });
    if (res.status === 401 || res.status === 403) {
      const err = await errorOf(res);
      await this.end(new SawaError('signed-out', err.message, res.status));
      throw this.signedOut(err.message);
    }
    if (!res.ok) throw await errorOf(res);
    await this.save(toTokens((await res.json()) as TokenAnswer));
  }

  private async save(tokens: Tokens): Promise<void> {
    // Stored before use: the old refresh token is spent, and losing the new one would mean
    // a password prompt in the field.
    await this.storage.set(KEY, JSON.stringify(tokens));
    this.tokens = tokens;
    this.onChange(tokens);
  }

  private need(): Tokens {
    if (!this.tokens) throw this.signedOut('not signed in');
    return this.tokens;
  }

  private signedOut(message: string): SawaError {
    return new SawaError('signed-out', message, 401);
  }
}

function toTokens(a: TokenAnswer): Tokens {
  if (typeof a?.access_token !== 'string' || typeof a.refresh_token !== 'string' || !a.dbs) {
    throw new SawaError('protocol', 'the sign-in answer has no tokens');
  }
  return {
    access_token: a.access_token,
    refresh_token: a.refresh_token,
    expires_at: Date.now() + a.expires_in * 1000,
    lifetime: a.expires_in * 1000,
    user: a.user,
    dbs: { user: a.dbs.user, shared: a.dbs.shared ?? [] },
  };
}
