import type { FastifyReply } from 'fastify';

/** Sawa's roles. They are also the CouchDB roles a user carries through proxy authentication. */
export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** How a member uses a team's shared database. */
export type TeamMode = 'read' | 'write';

export interface TeamMembership {
  team: string;
  mode: TeamMode;
}

/** A user as the rest of Sawa sees it: never a password hash or a token. */
export interface SawaUser {
  name: string;
  roles: Role[];
  teams: TeamMembership[];
  disabled: boolean;
  /** An admin reset the password: the user may only change it (POST /me/password). */
  passwordChangeRequired?: boolean;
}

/** What the accounts plugin offers the rest of the service (the gateway above all). */
export interface AccountsService {
  /** The current user record, or null when unknown. Never cached longer than a request. */
  getUser(name: string): Promise<SawaUser | null>;
  /**
   * Notes a successful pull or push, for the "not synced for N days" admin list. Cheap:
   * writes are coalesced to at most one per user per minute.
   */
  recordSync(name: string, direction: 'pull' | 'push'): void;
  /** Writes the sync times still waiting for their minute (done at close). */
  flushSyncTimes(): Promise<void>;
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
