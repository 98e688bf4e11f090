import type Nano from 'nano';
import type { Config } from '../config.js';
import type { DesignDocSet } from '../rules/index.js';
import { createProvisioner, type Provisioner } from '../provisioning/provisioner.js';
import { adminOnlySecurity } from '../provisioning/security.js';
import { ensureDb, ensureSecurity } from '../provisioning/steps.js';
import { ProvisioningFailed } from '../errors.js';
import { dummyHash, type PasswordHash, type ScryptCost } from './passwords.js';
import { InviteStore } from './invites.js';
import { RefreshTokens } from './refresh-tokens.js';
import { UserStore } from './users.js';

/** The claims of an access token. */
export interface AccessClaims {
  /** The user name. */
  sub: string;
  /** The refresh session the token was issued with: a password change keeps this one. */
  sid?: string;
  /** Issue time in milliseconds: tokens older than a password change are refused. */
  at?: number;
  /** The user record's uid: a token outlives no deletion. */
  uid: string;
  roles: string[];
}

export interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AccountsDeps {
  nano: Nano.ServerScope;
  config: Pick<
    Config,
    | 'ACCOUNTS_DB'
    | 'ACCESS_TOKEN_TTL_SEC'
    | 'REFRESH_TOKEN_TTL_SEC'
    | 'PASSWORD_MIN_LENGTH'
    | 'SIGNUP'
    | 'INVITE_TTL_DAYS'
  > &
    Partial<Pick<Config, 'USER_CACHE_SIZE'>>;
  ddocs: DesignDocSet;
  scrypt: ScryptCost;
  log: Logger;
  /** Signs an access token; absent in scripts, which hand out none. */
  signAccessToken?: (claims: AccessClaims) => string;
}

/** What the account operations share: stores, provisioning, settings. Built once per service. */
export interface AccountsContext extends AccountsDeps {
  users: UserStore;
  tokens: RefreshTokens;
  invites: InviteStore;
  provisioner: Provisioner;
  /** The hash unknown users are checked against (see passwords.ts). */
  dummy(): Promise<PasswordHash>;
  /** Creates the accounts database, admin-only, once per process (again after a failure). */
  ready(): Promise<void>;
  /** Provisions the user's databases, or fails with a retryable 503. */
  provision(user: { name: string; teams: ReadonlyArray<{ team: string }> }): Promise<string[]>;
}

export function createContext(deps: AccountsDeps): AccountsContext {
  const db = deps.config.ACCOUNTS_DB;
  const provisioner = createProvisioner(deps.nano, deps.ddocs);
  let dummy: Promise<PasswordHash> | undefined;
  let ready: Promise<void> | undefined;
  return {
    ...deps,
    users: new UserStore(deps.nano, db, deps.config.USER_CACHE_SIZE ?? 0),
    tokens: new RefreshTokens(deps.nano, db, deps.config.REFRESH_TOKEN_TTL_SEC),
    invites: new InviteStore(deps.nano, db),
    provisioner,
    dummy: () => (dummy ??= dummyHash(deps.scrypt)),
    ready() {
      ready ??= (async () => {
        await ensureDb(deps.nano, db);
        await ensureSecurity(deps.nano, db, adminOnlySecurity());
      })().catch((err) => {
        ready = undefined;
        throw err;
      });
      return ready;
    },
    async provision(user) {
      try {
        return await provisioner.user(user);
      } catch (err) {
        deps.log.error({ err: String(err), user: user.name }, 'provisioning failed');
        throw new ProvisioningFailed(JSON.stringify(user.name));
      }
    },
  };
}
