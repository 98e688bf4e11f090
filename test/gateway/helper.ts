import PouchDB from 'pouchdb';
import type { Test } from 'tap';
import { accountsService, FAST_SCRYPT } from '../accounts/helper.js';
import { createUser } from '../../server/accounts/sessions.js';
import type { Accounts } from '../../server/accounts/service.js';
import type { Role, TeamMembership } from '../../server/accounts/types.js';
import { couch, testCouch, type TestCouch } from '../helpers/store.js';
import type { TestService } from '../helpers/service.js';
import type { Phone } from '../helpers/phones.js';

export { FAST_SCRYPT };
export const PASSWORD = 'habari-za-asubuhi';

export interface AuthAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: { name: string; roles: string[] };
  dbs: { user: string; shared: string[] };
}

export interface Gw {
  store: TestCouch;
  svc: TestService;
  url: string;
  /** POST /auth/signup through the real route. */
  signup(name: string, password?: string): Promise<AuthAnswer>;
  login(name: string, password?: string): Promise<AuthAnswer>;
  /**
   * A user with roles and teams, made as ops make one: an admin (created the way the
   * provision script does) calls POST /admin/users, then the user logs in.
   */
  member(name: string, roles: Role[], teams: TeamMembership[]): Promise<AuthAnswer>;
  /** A JSON request to the service. */
  call(method: string, path: string, opts?: Parameters<typeof couch>[3]): ReturnType<typeof couch>;
}

export async function gateway(
  t: Test,
  opts: { env?: Record<string, string>; store?: TestCouch; couchUrl?: string } = {},
): Promise<Gw> {
  const store = opts.store ?? (await testCouch(t));
  const upstream = opts.couchUrl ? { ...store, url: opts.couchUrl } : store;
  const svc = await accountsService(t, upstream, { env: opts.env });
  const accounts = svc.app.accounts as Accounts;
  const call: Gw['call'] = (method, path, o = {}) => couch(svc.url, method, path, o);
  const auth = async (path: string, name: string, password: string) => {
    const res = await call('POST', path, { body: { username: name, password } });
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`${path} ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body as AuthAnswer;
  };
  let adminToken: string | undefined;
  return {
    store,
    svc,
    url: svc.url,
    call,
    signup: (name, password = PASSWORD) => auth('/auth/signup', name, password),
    login: (name, password = PASSWORD) => auth('/auth/login', name, password),
    async member(name, roles, teams) {
      if (!adminToken) {
        await createUser(accounts.ctx, {
          name: 'ops',
          password: PASSWORD,
          roles: ['admin'],
          teams: [],
        });
        adminToken = (await auth('/auth/login', 'ops', PASSWORD)).access_token;
      }
      const made = await call('POST', '/admin/users', {
        auth: `Bearer ${adminToken}`,
        body: { username: name, password: PASSWORD, roles, teams },
      });
      if (made.status !== 201)
        throw new Error(`admin create ${name}: ${made.status} ${JSON.stringify(made.body)}`);
      return auth('/auth/login', name, PASSWORD);
    },
  };
}

/**
 * The client side of a session as the mobile app writes it (DESIGN.md's fetch wrapper):
 * Authorization: Bearer on every request; on a 401 it calls /auth/refresh once and retries.
 */
export class Session {
  token: string;
  refreshToken: string;
  requests = 0;
  refreshes = 0;
  statuses: number[] = [];

  constructor(
    readonly base: string,
    auth: AuthAnswer,
    readonly headers: Record<string, string> = {},
  ) {
    this.token = auth.access_token;
    this.refreshToken = auth.refresh_token;
  }

  /** Called before each request with its number (1-based): lets a test act mid-replication. */
  beforeRequest: (n: number) => void = () => undefined;

  fetch = async (url: string | Request, opts: RequestInit = {}): Promise<Response> => {
    this.beforeRequest(++this.requests);
    const send = () => {
      const h = new Headers(opts.headers);
      for (const [k, v] of Object.entries(this.headers)) h.set(k, v);
      h.set('Authorization', `Bearer ${this.token}`);
      return PouchDB.fetch(url as string, { ...opts, headers: h });
    };
    let res = await send();
    this.statuses.push(res.status);
    if (res.status === 401) {
      await this.refresh();
      res = await send();
      this.statuses.push(res.status);
    }
    return res;
  };

  async refresh(): Promise<void> {
    const res = await couch(this.base, 'POST', '/auth/refresh', {
      body: { refresh_token: this.refreshToken },
    });
    if (res.status !== 200) throw new Error(`refresh: ${res.status} ${JSON.stringify(res.body)}`);
    this.refreshes++;
    this.token = res.body.access_token;
    this.refreshToken = res.body.refresh_token;
  }

  /** The remote database `db` through the gateway, as a stock PouchDB with this fetch. */
  db(db: string): Phone {
    return new PouchDB(`${this.base}/sync/${db}`, { skip_setup: true, fetch: this.fetch as never });
  }
}

/** A valid farmer document owned by `owner`. */
export function farmer(owner: string, id: string, extra: Record<string, unknown> = {}) {
  const at = '2024-05-01T09:30:00+03:00';
  return {
    _id: id,
    type: 'farmer',
    owner,
    created_at: at,
    updated_at: at,
    name: 'Asha Mwakalinga',
    village: 'Mvomero',
    district: 'Morogoro',
    phone: '+255712345678',
    ...extra,
  };
}

/** A valid payment_request (immutable once written) of `owner`. */
export function paymentRequest(owner: string, id: string, extra: Record<string, unknown> = {}) {
  const at = '2024-05-01T09:30:00+03:00';
  return {
    _id: id,
    type: 'payment_request',
    owner,
    created_at: at,
    updated_at: at,
    farmer_id: 'farmer-1',
    msisdn: '+255712345678',
    amount: 1000,
    provider: 'mpesa',
    reason: 'maize seed',
    ...extra,
  };
}
