import type { FastifyReply, FastifyRequest } from 'fastify';
import { dbRight } from '../access.js';
import type { UserDoc } from '../accounts/records.js';
import type { Stored } from '../couch/upsert.js';
import type { Gateway } from './context.js';
import { couchRoles } from './couch-user.js';

/**
 * What the hub's two kinds of waiting phone share (live-changes.ts for longpolls,
 * continuous-changes.ts for continuous feeds): which requests the hub takes, the timing a
 * phone asked for, the access check run again when its user's record changes, and the
 * record of its pull.
 */

/** CouchDB's feed timeout when the phone names none (chttpd `changes_timeout`). */
const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * With a heartbeat CouchDB holds a feed for good. Parked phones are answered (empty) at
 * least this often anyway: a safety net should `_db_updates` ever lose a notice.
 */
const HOLD_MAX_MS = 5 * 60_000;
const CHANGES_TIMEOUT_DEFAULT_HEARTBEAT_MS = 60_000;

/**
 * Which feed the hub holds for this request, if any: a longpoll, continuous or eventsource
 * read forward with a buffered body, while the hub is live (else it is forwarded upstream).
 */
export function parkable(
  gw: Gateway,
  req: FastifyRequest,
  query: string,
): 'longpoll' | 'continuous' | 'eventsource' | null {
  if (!gw.hub.live) return null;
  if (req.method !== 'GET' && req.method !== 'POST') return null;
  if (req.body !== undefined && !Buffer.isBuffer(req.body)) return null;
  const params = new URLSearchParams(query);
  if (params.has('descending')) return null;
  const feed = params.get('feed');
  if (feed === 'longpoll') return feed;
  // `limit=0` (CouchDB: no rows, `pending` all) is left to CouchDB.
  if (params.get('limit') === '0') return null;
  return feed === 'continuous' || feed === 'eventsource' ? feed : null;
}

/**
 * The heartbeat the phone asked for (null: none), and how long its feed is held without a
 * change: its `timeout` without a heartbeat, the safety net with one. Removes both, and
 * `feed`, from `params`: the hub's reads are normal feeds.
 */
export function feedTiming(params: URLSearchParams): {
  heartbeatMs: number | null;
  holdMs: number;
} {
  const heartbeat = params.get('heartbeat');
  const timeout = Number(params.get('timeout') ?? DEFAULT_TIMEOUT_MS);
  const heartbeatMs =
    heartbeat === null
      ? null
      : heartbeat === 'true'
        ? CHANGES_TIMEOUT_DEFAULT_HEARTBEAT_MS
        : Number(heartbeat) || null;
  const holdMs =
    heartbeatMs !== null
      ? HOLD_MAX_MS
      : Math.min(HOLD_MAX_MS, Number.isFinite(timeout) && timeout >= 0 ? timeout : 0);
  params.delete('feed');
  params.delete('heartbeat');
  params.delete('timeout');
  return { heartbeatMs, holdMs };
}

/** The roles CouchDB sees for the request's user, as one string to compare. */
export const rolesKey = (req: FastifyRequest): string => couchRoles(req.sawaUser).join(',');

/**
 * The same decision as when the phone came: token, user record (`doc`, the version the
 * accounts feed brought, else read), access to the database. Throws when refused; false when
 * allowed with other roles than `roles` (CouchDB must see the new ones, which the phone's
 * reads do not carry).
 */
export async function stillAllowed(
  gw: Gateway,
  req: FastifyRequest,
  reply: FastifyReply,
  db: string,
  roles: string,
  doc?: Stored<UserDoc> | null,
): Promise<boolean> {
  if (doc === undefined) await gw.requireUser(req, reply);
  else gw.recheckUser(req, reply, doc);
  if (dbRight(req.sawaUser, db) === null) throw new Error('no longer allowed');
  return rolesKey(req) === roles;
}

/** A pull answered: recorded for the "last synced" list once the answer has gone. */
export function recordPull(gw: Gateway, req: FastifyRequest, reply: FastifyReply): void {
  const name = req.sawaUser.name;
  reply.raw.once('finish', () => gw.accounts.recordSync(name, 'pull'));
}
