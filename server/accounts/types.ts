import type { FastifyReply } from 'fastify';
import type { SawaUser } from '../user.js';
import type { UserChangeListener } from './user-cache.js';

// The user types live in a leaf module (server/user.ts) that access.ts shares.
export { ROLES, type Role, type TeamMode, type TeamMembership, type SawaUser } from '../user.js';

/** What the accounts plugin offers the rest of the service (the gateway above all). */
export interface AccountsService {
  /** The current user record, or null when unknown. Never cached longer than a request. */
  getUser(name: string): Promise<SawaUser | null>;
  /**
   * Every user, a page of records at a time, leaving out those whose deletion is under way:
   * for the parts of Sawa that need the whole roster (report scopes by team).
   */
  listUsers(): AsyncIterable<SawaUser>;
  /**
   * Notes a successful pull or push, for the "not synced for N days" admin list. Cheap:
   * writes are coalesced to at most one per user per minute.
   */
  recordSync(name: string, direction: 'pull' | 'push'): void;
  /** Writes the sync times still waiting for their minute (done at close). */
  flushSyncTimes(): Promise<void>;
  /** Changes to user records, as the accounts database's feed reports them. */
  userChanges: UserChanges;
}

export interface UserChanges {
  /** True while the feed is followed: every change from now on will be reported. */
  readonly live: boolean;
  /**
   * Calls `listener` with each record that may admit other tokens or rights now (with the
   * version the feed brought, null when deleted, undefined when only a read can tell); a null
   * id: any may have changed (feed lost).
   */
  watch(listener: UserChangeListener): () => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountsService;
    /**
     * preHandler: verifies the Bearer access token, loads the user, refuses
     * disabled users (401). Sets `request.sawaUser`.
     */
    requireUser: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** preHandler: requireUser, then refuses users without the `admin` role (403). */
    requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    sawaUser: SawaUser;
    /** The refresh session the access token came with (null for tokens without one). */
    sawaSession: string | null;
  }
}
