import type Nano from 'nano';
import { Internal, cleanCouchError } from '../errors.js';
import { getDoc, upsert, type Stored } from '../couch/upsert.js';
import { hashesMatch, inviteHash, inviteIdOf, normalizeInviteCode } from './invite-codes.js';
import type { Role, TeamMembership } from './types.js';

/** `invite:<id>` in the accounts database: one per invitation code, the code itself never. */
export interface InviteDoc {
  type: 'invite';
  id: string;
  code_sha256: string;
  role: Role;
  teams: TeamMembership[];
  created_by: string;
  created_at: string;
  expires_at: string;
  used_by: string | null;
  used_at: string | null;
  revoked_at: string | null;
}

export const INVITE_PREFIX = 'invite:';
export type InviteState = 'active' | 'used' | 'expired' | 'revoked';

export function inviteState(doc: InviteDoc, now = Date.now()): InviteState {
  if (doc.revoked_at) return 'revoked';
  if (doc.used_by) return 'used';
  return Date.parse(doc.expires_at) <= now ? 'expired' : 'active';
}

/** Invitation records. Claims and releases are compare-and-swaps through the one upsert. */
export class InviteStore {
  private readonly db: Nano.DocumentScope<unknown>;

  constructor(nano: Nano.ServerScope, dbName: string) {
    this.db = nano.use(dbName);
  }

  async create(doc: InviteDoc): Promise<void> {
    await upsert<InviteDoc>(this.db, INVITE_PREFIX + doc.id, (current) => {
      // 64 bits of id: a clash means a bug, never a reason to overwrite.
      if (current) throw new Internal('invitation id clash');
      return doc;
    });
  }

  get(id: string): Promise<Stored<InviteDoc> | null> {
    return getDoc<InviteDoc>(this.db, INVITE_PREFIX + id);
  }

  /**
   * Takes the invitation for `name` and answers it, when it is active or already taken by
   * `name` (a signup retried after a lost answer). Anything else — unknown, used by another,
   * expired, revoked — is null, and nobody learns which.
   */
  async claim(code: string, name: string): Promise<Stored<InviteDoc> | null> {
    const normalized = normalizeInviteCode(code);
    if (!normalized) return null;
    const hash = inviteHash(normalized);
    const state: { ok: boolean } = { ok: false };
    const res = await upsert<InviteDoc>(this.db, INVITE_PREFIX + inviteIdOf(hash), (doc) => {
      state.ok = false;
      if (!doc || doc.type !== 'invite' || !hashesMatch(hash, doc.code_sha256)) return false;
      if (doc.revoked_at || Date.parse(doc.expires_at) <= Date.now()) return false;
      if (doc.used_by !== null) {
        state.ok = doc.used_by === name;
        return false;
      }
      state.ok = true;
      return { ...doc, used_by: name, used_at: new Date().toISOString() };
    });
    return state.ok ? res.doc : null;
  }

  /** Gives a claimed invitation back (the account it was for could not be made). */
  async release(id: string, name: string): Promise<void> {
    await upsert<InviteDoc>(this.db, INVITE_PREFIX + id, (doc) =>
      doc && doc.used_by === name ? { ...doc, used_by: null, used_at: null } : false,
    );
  }

  /** Marks it revoked; false when there is no such invitation or `allowed` refuses it. */
  async revoke(
    id: string,
    allowed: (doc: InviteDoc) => boolean,
  ): Promise<Stored<InviteDoc> | null> {
    const res = await upsert<InviteDoc>(this.db, INVITE_PREFIX + id, (doc) => {
      if (!doc || doc.type !== 'invite' || !allowed(doc)) return false;
      return doc.revoked_at ? false : { ...doc, revoked_at: new Date().toISOString() };
    });
    return res.doc && allowed(res.doc) ? res.doc : null;
  }

  /** Every invitation, in id order, a page of CouchDB rows at a time. */
  async *scan(): AsyncGenerator<Stored<InviteDoc>> {
    let startkey = INVITE_PREFIX;
    for (;;) {
      const res = await this.db
        .list({ startkey, endkey: INVITE_PREFIX + '\ufff0', include_docs: true, limit: 500 })
        .catch((err: unknown) => {
          throw cleanCouchError(err);
        });
      for (const row of res.rows) {
        const doc = row.doc as Stored<InviteDoc> | undefined;
        if (doc?.type === 'invite') yield doc;
      }
      if (res.rows.length < 500) return;
      startkey = res.rows.at(-1)!.id + '\u0000';
    }
  }
}
