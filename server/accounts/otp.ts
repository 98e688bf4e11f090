import { createHash, randomInt } from 'node:crypto';
import type Nano from 'nano';
import { getDoc, upsert, type Stored } from '../couch/upsert.js';
import { AccountDisabled, CodeInvalid, cleanCouchError, couchStatus } from '../errors.js';
import type { SmsProvider } from '../integrations/sms-types.js';
import type { AccountsContext } from './context.js';
import { hashPassword, verifyPassword, type PasswordHash } from './passwords.js';
import { USER_PREFIX, type UserDoc } from './records.js';
import { session, type AuthResult } from './sessions.js';
import { ensureMangoIndexes } from '../couch/mango-index.js';

/**
 * Sign-in by SMS (docs/accounts.md): a 6-digit code for the account a phone number belongs
 * to, kept as an scrypt hash in the accounts database (`otp:<hash of the number>`), valid
 * OTP_TTL_SEC, at most OTP_MAX_ATTEMPTS guesses, used once. Whether the number is known is
 * never told: the request answers alike and does the same lookup; the rest runs afterwards.
 */
export const OTP_PREFIX = 'otp:';
export const OTP_TTL_SEC = 300;
export const OTP_MAX_ATTEMPTS = 5;

interface OtpDoc {
  type: 'otp';
  name: string;
  code: PasswordHash;
  expires_at: string;
  attempts: number;
}

export const otpId = (phone: string) =>
  OTP_PREFIX + createHash('sha256').update(phone).digest('hex').slice(0, 40);

/** The live account whose user name or `phone` is this number, or null. */
export async function userOfPhone(ctx: AccountsContext, phone: string): Promise<UserDoc | null> {
  await ctx.ready();
  const usable = (d: UserDoc | null) => (d && !d.deleting && !d.disabled ? d : null);
  // Both lookups every time: a number that is a user name must not answer sooner.
  const [named, found] = await Promise.all([ctx.users.get(phone), byPhoneField(ctx, phone)]);
  if (usable(named)) return named;
  // A number on two accounts signs in to neither: which one is meant cannot be known.
  return found.length === 1 ? usable(found[0] ?? null) : null;
}

/** Mango indexes in the accounts database: users by `phone`, and codes by expiry. */
const OTP_DDOC = 'otp';
export const PHONE_INDEX = 'users-by-phone';
const EXPIRY_INDEX = 'codes-by-expiry';
const indexed = new WeakMap<AccountsContext, Promise<void>>();

/** Creates both indexes once per context, one after the other (mango-index.ts says why). */
function ensureIndexes(ctx: AccountsContext): Promise<void> {
  let done = indexed.get(ctx);
  if (!done) {
    done = ensureMangoIndexes(ctx.nano.use(ctx.config.ACCOUNTS_DB), [
      { index: { fields: ['phone'] }, ddoc: OTP_DDOC, name: PHONE_INDEX },
      { index: { fields: ['type', 'expires_at'] }, ddoc: OTP_DDOC, name: EXPIRY_INDEX },
    ]).catch((err: unknown) => {
      indexed.delete(ctx);
      throw err;
    });
    indexed.set(ctx, done);
  }
  return done;
}

/** The `_find` of the accounts holding `phone` (tests `_explain` it). */
export function phoneQuery(phone: string): Nano.MangoQuery {
  return {
    selector: { phone, _id: { $gt: USER_PREFIX, $lt: `${USER_PREFIX}\ufff0` } },
    use_index: [OTP_DDOC, PHONE_INDEX],
    limit: 2,
  };
}

async function byPhoneField(ctx: AccountsContext, phone: string): Promise<UserDoc[]> {
  await ensureIndexes(ctx);
  try {
    const found = await ctx.nano.use(ctx.config.ACCOUNTS_DB).find(phoneQuery(phone));
    return found.docs as unknown as UserDoc[];
  } catch (err) {
    throw cleanCouchError(err);
  }
}

/**
 * Deletes up to `limit` codes whose time is up (a code nobody verifies stays otherwise);
 * the number deleted. A code renewed meanwhile answers 409 and stays.
 */
export async function sweepExpiredCodes(
  ctx: AccountsContext,
  now = new Date(),
  limit = 100,
): Promise<number> {
  await ctx.ready();
  await ensureIndexes(ctx);
  const db = ctx.nano.use(ctx.config.ACCOUNTS_DB);
  try {
    const found = await db.find({
      selector: { type: 'otp', expires_at: { $lt: now.toISOString() } },
      use_index: [OTP_DDOC, EXPIRY_INDEX],
      fields: ['_id', '_rev'],
      limit,
    });
    if (!found.docs.length) return 0;
    const res = await db.bulk({
      docs: found.docs.map((d) => ({ _id: d._id, _rev: d._rev, _deleted: true })),
    });
    return res.filter((r) => !r.error).length;
  } catch (err) {
    throw cleanCouchError(err);
  }
}

const lastSweep = new WeakMap<AccountsContext, number>();

/** A sweep at most once a minute per instance, run beside code requests (they make codes). */
export function sweepNowAndThen(ctx: AccountsContext, now = Date.now()): Promise<number> {
  if ((lastSweep.get(ctx) ?? 0) > now - 60_000) return Promise.resolve(0);
  lastSweep.set(ctx, now);
  return sweepExpiredCodes(ctx, new Date(now));
}

/** Makes a code for `user`, stores its hash (replacing any earlier one) and sends it. */
export async function issueCode(
  ctx: AccountsContext,
  phone: string,
  user: UserDoc,
  sms: SmsProvider | null,
  now = new Date(),
): Promise<void> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const hash = await hashPassword(code, ctx.scrypt);
  const db = ctx.nano.use(ctx.config.ACCOUNTS_DB);
  await upsert<OtpDoc>(db, otpId(phone), () => ({
    type: 'otp',
    name: user.name,
    code: hash,
    expires_at: new Date(now.getTime() + OTP_TTL_SEC * 1000).toISOString(),
    attempts: 0,
  }));
  if (!sms) {
    ctx.log.warn({}, 'a sign-in code was asked for, but no SMS provider is configured');
    return;
  }
  const answer = await sms.submit({
    externalId: `sawa-otp-${Date.now()}`,
    to: phone,
    text: `Sawa: your sign-in code is ${code}. It is valid for 5 minutes. Do not share it.`,
  });
  if (answer.kind === 'rejected') {
    ctx.log.warn({ provider: sms.name, reason: answer.reason }, 'a sign-in code was not sent');
  }
}

/** Checks a code; the right one is used up and answers the login response. */
export async function verifyCode(
  ctx: AccountsContext,
  phone: string,
  code: string,
  now = new Date(),
): Promise<AuthResult> {
  await ctx.ready();
  const db = ctx.nano.use(ctx.config.ACCOUNTS_DB);
  const doc = await getDoc<OtpDoc>(db, otpId(phone));
  const live =
    doc && Date.parse(doc.expires_at) > now.getTime() && doc.attempts < OTP_MAX_ATTEMPTS
      ? doc
      : null;
  // The same scrypt work whether or not a code is waiting.
  const ok = await verifyPassword(code, live?.code ?? (await ctx.dummy()));
  if (!live) {
    if (doc) await drop(db, doc);
    throw new CodeInvalid();
  }
  if (!ok) {
    await upsert<OtpDoc>(db, live._id, (cur) =>
      cur && cur.expires_at === live.expires_at ? { ...cur, attempts: cur.attempts + 1 } : false,
    );
    throw new CodeInvalid();
  }
  // Used once: whoever deletes this revision signs in; a racing second use fails.
  if (!(await drop(db, live))) throw new CodeInvalid();
  const user = await ctx.users.get(live.name);
  if (!user || user.deleting) throw new CodeInvalid();
  if (user.disabled) throw new AccountDisabled();
  await ctx.provision(user);
  return session(ctx, user, await ctx.tokens.issue(user));
}

async function drop(db: Nano.DocumentScope<unknown>, doc: Stored<OtpDoc>): Promise<boolean> {
  try {
    await db.destroy(doc._id, doc._rev);
    return true;
  } catch (err) {
    if (couchStatus(err) === 409 || couchStatus(err) === 404) return false;
    throw cleanCouchError(err);
  }
}

/**
 * Requests per key (a number, an address) in a sliding hour, in memory per instance like the
 * login limits; the oldest keys are forgotten first past `maxKeys`.
 */
export class HourlyLimit {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly perHour: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one request; the seconds to wait when it is over the limit, else 0. */
  take(key: string): number {
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - 3_600_000);
    if (recent.length >= this.perHour) {
      return Math.max(1, Math.ceil((recent[0]! + 3_600_000 - now) / 1000));
    }
    recent.push(now);
    this.hits.delete(key);
    this.hits.set(key, recent);
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value as string);
    return 0;
  }
}
