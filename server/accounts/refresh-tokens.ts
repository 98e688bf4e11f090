import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Nano from 'nano';
import { cleanCouchError, RefreshInvalid, RefreshReused } from '../errors.js';
import { upsert, type Stored } from '../couch/upsert.js';

/**
 * Rotating refresh tokens, one document per login session ("family"): `refresh:<family>`.
 * A token is `<family>.<generation>.<secret>`; the document keeps the current generation
 * and only the SHA-256 of its secret. Refreshing moves the family to the next generation
 * with a new secret, in one compare-and-swap on the document, so a token works once even
 * when two requests race. Presenting an older generation means a used token came back:
 * either it was stolen or its owner replayed it; the family is revoked either way, and both
 * parties must log in again.
 *
 * One document per session (not per token) keeps the database small: a phone refreshing
 * every 15 minutes rewrites its one document instead of adding ~100 a day.
 */

export interface RefreshDoc {
  type: 'refresh';
  family: string;
  user: string;
  uid: string;
  generation: number;
  secret_sha256: string;
  created_at: string;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: 'logout' | 'reuse' | 'user-deleted' | null;
}

export const REFRESH_PREFIX = 'refresh:';
const TOKEN = /^([A-Za-z0-9_-]{22})\.([0-9]{1,9})\.([A-Za-z0-9_-]{43})$/;

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
const newSecret = () => randomBytes(32).toString('base64url');

function parse(token: string): { family: string; generation: number; secret: string } | null {
  const m = TOKEN.exec(token);
  return m ? { family: m[1]!, generation: Number(m[2]), secret: m[3]! } : null;
}

function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export class RefreshTokens {
  private readonly db: Nano.DocumentScope<unknown>;

  constructor(
    nano: Nano.ServerScope,
    dbName: string,
    private readonly ttlSec: number,
  ) {
    this.db = nano.use(dbName);
  }

  private expiry(now: Date): string {
    return new Date(now.getTime() + this.ttlSec * 1000).toISOString();
  }

  /** Starts a new session for the user and returns its first token. */
  async issue(user: { name: string; uid: string }): Promise<string> {
    const now = new Date();
    const family = randomBytes(16).toString('base64url');
    const secret = newSecret();
    await upsert<RefreshDoc>(this.db, REFRESH_PREFIX + family, () => ({
      type: 'refresh',
      family,
      user: user.name,
      uid: user.uid,
      generation: 0,
      secret_sha256: sha256(secret),
      created_at: now.toISOString(),
      issued_at: now.toISOString(),
      expires_at: this.expiry(now),
      revoked_at: null,
      revoked_reason: null,
    }));
    return `${family}.0.${secret}`;
  }

  /** Exchanges a token for the next one; throws RefreshInvalid or (reuse) RefreshReused. */
  async rotate(token: string): Promise<{ token: string; user: string; uid: string }> {
    const t = parse(token);
    if (!t) throw new RefreshInvalid();
    const secret = newSecret();
    // An object, not a let: diff assigns it in a callback (TypeScript would not see that).
    const state: { outcome: 'rotated' | 'reused' | 'invalid' } = { outcome: 'invalid' };
    const res = await upsert<RefreshDoc>(this.db, REFRESH_PREFIX + t.family, (doc) => {
      const now = new Date();
      state.outcome = 'invalid';
      if (!doc || doc.type !== 'refresh' || doc.revoked_at) return false;
      if (t.generation < doc.generation) {
        state.outcome = 'reused';
        return { ...doc, revoked_at: now.toISOString(), revoked_reason: 'reuse' };
      }
      if (t.generation > doc.generation || !secretMatches(t.secret, doc.secret_sha256))
        return false;
      if (Date.parse(doc.expires_at) <= now.getTime()) return false;
      state.outcome = 'rotated';
      return {
        ...doc,
        generation: doc.generation + 1,
        secret_sha256: sha256(secret),
        issued_at: now.toISOString(),
        expires_at: this.expiry(now),
      };
    });
    if (state.outcome === 'reused') throw new RefreshReused();
    if (state.outcome !== 'rotated' || !res.doc) throw new RefreshInvalid();
    const doc = res.doc;
    return { token: `${t.family}.${doc.generation}.${secret}`, user: doc.user, uid: doc.uid };
  }

  /**
   * Ends the session the token belongs to, if it belongs to `owner`; any generation will do,
   * since the owner proved who they are with an access token. RefreshInvalid otherwise, so
   * nobody learns whether someone else's session exists.
   */
  async revoke(token: string, owner: { name: string; uid: string }): Promise<void> {
    const t = parse(token);
    if (!t) throw new RefreshInvalid();
    const state = { mine: false };
    await upsert<RefreshDoc>(this.db, REFRESH_PREFIX + t.family, (doc) => {
      state.mine =
        !!doc && doc.type === 'refresh' && doc.user === owner.name && doc.uid === owner.uid;
      if (!state.mine || doc!.revoked_at) return false;
      return { ...doc!, revoked_at: new Date().toISOString(), revoked_reason: 'logout' };
    });
    if (!state.mine) throw new RefreshInvalid();
  }

  /**
   * Deletes sessions that can no longer be used (expired or revoked) and, with `user`, every
   * session of that user but `except`. Returns how many went. For the repair script, user
   * deletion and password changes.
   */
  async prune(opts: { user?: string; except?: string } = {}): Promise<number> {
    const now = Date.now();
    let startkey = REFRESH_PREFIX;
    let removed = 0;
    for (;;) {
      const res = await this.db
        .list({ startkey, endkey: REFRESH_PREFIX + '\ufff0', include_docs: true, limit: 500 })
        .catch((err: unknown) => {
          throw cleanCouchError(err);
        });
      const dead = res.rows
        .map((r) => r.doc as Stored<RefreshDoc> | undefined)
        .filter(
          (d): d is Stored<RefreshDoc> =>
            !!d &&
            ((d.user === opts.user && d.family !== opts.except) ||
              !!d.revoked_at ||
              Date.parse(d.expires_at) <= now),
        );
      if (dead.length) {
        const out = await this.db
          .bulk({ docs: dead.map((d) => ({ _id: d._id, _rev: d._rev, _deleted: true })) })
          .catch((err: unknown) => {
            throw cleanCouchError(err);
          });
        // A 409 here means the session was just refreshed: it lives, so leave it.
        removed += out.filter((r) => !r.error).length;
      }
      if (res.rows.length < 500) return removed;
      startkey = res.rows.at(-1)!.id + '\u0000';
    }
  }
}
