import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import {
  anonymous,
  hashPassword,
  parseBasicAuth,
  readProxyAuth,
  readSessionCookie,
  sessionCookieFromHeader,
  mintSessionCookie,
  setCookieHeader,
  userDocId,
  USERS_DB,
  verifyPassword,
  VerifiedCache,
  type UserCtx,
} from './auth/index.js';

export type Credentials = Record<string, unknown> & {
  name: string;
  roles: string[];
  salt?: string;
};

/**
 * Who a request runs as, decided as CouchDB's handler chain decides it: proxy
 * headers (signed with the secret), then the AuthSession cookie, then Basic;
 * otherwise anonymous. Wrong Basic credentials are refused outright.
 */
export class Authenticator {
  private readonly cache = new VerifiedCache();
  private admins = new Map<string, Credentials>();

  constructor(private readonly app: FastifyInstance) {}

  /** Server admins from configuration, hashed once in memory so they verify like `_users` entries. */
  async init(): Promise<void> {
    for (const [name, password] of Object.entries(this.app.store.opts.admins)) {
      const hashed = await hashPassword(password, { iterations: 1000 });
      this.admins.set(name, { ...hashed, name, roles: ['_admin'], _rev: 'config' });
    }
  }

  /** A configured admin or the user's `_users` document, or null. */
  async lookup(name: string): Promise<Credentials | null> {
    const admin = this.admins.get(name);
    if (admin) return admin;
    const { registry } = this.app.store;
    if (!registry.exists(USERS_DB)) return null;
    try {
      const doc = (await registry.use(USERS_DB, (h) => h.db.get(userDocId(name)))) as Record<
        string,
        unknown
      >;
      const roles = Array.isArray(doc.roles)
        ? (doc.roles as unknown[]).filter((r): r is string => typeof r === 'string')
        : [];
      return { ...doc, name, roles };
    } catch {
      return null;
    }
  }

  /** Checks a name and password; the user's context on success, null otherwise. */
  async login(name: string, password: string): Promise<Credentials | null> {
    const user = await this.lookup(name);
    if (!user) return null;
    return (await verifyPassword(password, user, { cache: this.cache })) ? user : null;
  }

  cookieFor(user: Credentials, req: FastifyRequest): string {
    const { secret, sessionTimeoutSec } = this.app.store.opts;
    const value = mintSessionCookie({
      name: user.name,
      userSalt: typeof user.salt === 'string' ? user.salt : '',
      secret,
    });
    return setCookieHeader(value, {
      timeoutSec: sessionTimeoutSec,
      secure: req.protocol === 'https',
    });
  }

  async authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { opts } = this.app.store;
    req.userCtx = anonymous();
    req.authMethod = 'none';
    if (opts.proxyAuth) {
      const proxied = readProxyAuth(req.headers, opts.secret);
      if (proxied) return this.set(req, proxied, 'proxy');
    }
    const cookie = sessionCookieFromHeader(req.headers.cookie);
    if (cookie) {
      const session = await readSessionCookie(cookie, {
        secret: opts.secret,
        lookupUser: (name) => this.lookup(name),
        timeoutSec: opts.sessionTimeoutSec,
      });
      if (session) {
        if (session.needsRefresh) reply.header('set-cookie', this.cookieFor(session.user, req));
        return this.set(req, { name: session.name, roles: session.user.roles }, 'cookie');
      }
    }
    const basic = parseBasicAuth(req.headers.authorization);
    if (basic) {
      const user = await this.login(basic.name, basic.password);
      if (!user) throw errors.unauthorized('Name or password is incorrect.');
      return this.set(req, { name: user.name, roles: user.roles }, 'default');
    }
  }

  private set(req: FastifyRequest, ctx: UserCtx, method: FastifyRequest['authMethod']): void {
    req.userCtx = ctx;
    req.authMethod = method;
  }
}
