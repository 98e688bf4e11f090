import type { Registry } from './registry.js';
import type { Validators } from './validators.js';
import type { UuidGenerator } from './uuids.js';
import type { UserCtx } from './user-ctx.js';

export interface StoreOptions {
  dataDir: string;
  /** Server admins: name → password (plain, from configuration; hashed in memory at start-up). */
  admins: Record<string, string>;
  /** `[chttpd_auth] secret`: signs AuthSession cookies and proxy-auth tokens. */
  secret: string;
  /** When false, proxy authentication headers are ignored (CouchDB without a proxy secret). */
  proxyAuth: boolean;
  maxRequestBytes: number;
  maxDocBytes: number;
  /** PBKDF2 iterations for `_users` passwords hashed on write. */
  pbkdf2Iterations: number;
  /** AuthSession cookie lifetime, seconds (CouchDB's `[chttpd_auth] timeout`). */
  sessionTimeoutSec: number;
  maxOpenDbs: number;
  /** How long a write waits to be listed in `_db_updates` (batched; 25 ms by default). */
  dbUpdatesDelayMs?: number;
  version: string;
}

export interface StoreContext {
  opts: StoreOptions;
  registry: Registry;
  validators: Validators;
  uuids: UuidGenerator;
}

export type AuthMethod = 'default' | 'cookie' | 'proxy' | 'none';

declare module 'fastify' {
  interface FastifyInstance {
    store: StoreContext;
    authenticator: import('./authenticate.js').Authenticator;
  }
  interface FastifyRequest {
    userCtx: UserCtx;
    authMethod: AuthMethod;
  }
}
