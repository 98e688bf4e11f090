import type { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientGone } from '../errors.js';
import { userDocId, type UserDoc } from '../accounts/records.js';
import type { Stored } from '../couch/upsert.js';
import { endLiveFeed, type Gateway, type UpstreamCall } from './context.js';
import type { GzipFrames } from './gzip-frames.js';
import type { Waiter } from './change-hub.js';
import { feedTiming, rolesKey } from './waiter-parts.js';

export type FeedState = 'reading' | 'parked' | 'done';

/** How a held request ends: answered (the reply as sent) or failed. */
export interface FeedEnd {
  resolve: (r: FastifyReply) => void;
  reject: (err: Error) => void;
}

/**
 * A phone's `_changes` feed held on the change hub, longpoll (live-changes.ts) or continuous
 * (continuous-changes.ts): registered on the hub before its first read, read again when its
 * database is written (once more if a notice came during a read), parked between reads,
 * checked again when its user's record changes, and ended once. What differs, how a read is
 * answered and how the feed ends, is the subclass's.
 */
export abstract class HubFeed<E extends FeedEnd = FeedEnd> implements Waiter {
  readonly db: string;
  readonly userId: string;
  protected state: FeedState = 'reading';
  /** Notified while reading: read again before parking. */
  protected dirty = false;
  /** The roles CouchDB saw when the phone came. */
  protected readonly roles: string;
  protected readonly heartbeatMs: number | null;
  /** Without a change for this long the feed ends (its timeout, or the hub's safety net). */
  protected readonly holdMs: number;
  /** Once the answer has started (a heartbeat, or rows). */
  protected out: PassThrough | null = null;
  protected frames: GzipFrames | null = null;
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private unregister: () => void = () => undefined;

  constructor(
    protected readonly gw: Gateway,
    protected readonly call: UpstreamCall,
    protected readonly req: FastifyRequest,
    protected readonly reply: FastifyReply,
    /** The phone's query: its `feed`, `heartbeat` and `timeout` are taken out. */
    params: URLSearchParams,
    protected readonly end: E,
  ) {
    this.db = call.endpoint.db;
    this.userId = userDocId(req.sawaUser.name);
    this.roles = rolesKey(req);
    ({ heartbeatMs: this.heartbeatMs, holdMs: this.holdMs } = feedTiming(params));
  }

  changed(): void {
    if (this.state === 'reading') this.dirty = true;
    else if (this.state === 'parked') {
      this.state = 'reading'; // queued: a notice meanwhile needs no second read
      this.gw.hub.wakeRead(() => this.read());
    }
  }

  lost(): void {
    this.expire();
  }

  userChanged(doc?: Stored<UserDoc> | null): void {
    if (this.state === 'done') return;
    void this.recheck(doc);
  }

  /** Read upstream (in the hub's read slots), then answer, park, or read on. */
  protected abstract read(): Promise<void>;
  /** Its hold is over (timeout, safety net, a lost hub, new roles): end where it stands. */
  protected abstract expire(): void;
  /** The token and access check again, after a change to the user's record (`doc`). */
  protected abstract recheck(doc?: Stored<UserDoc> | null): Promise<void>;
  protected abstract heartbeat(): void;

  /**
   * On the hub (before any read, so no write is missed), the phone's leaving heard, its hold
   * and heartbeat running. The first read is the caller's to start.
   */
  protected register(): void {
    this.unregister = this.gw.hub.add(this);
    // A change to the user's record between the token check and now reached no one: check again.
    if (this.gw.userNotices.changedSince(this.userId, this.req.syncUserStamp)) void this.recheck();
    this.reply.raw.once('close', () => {
      if (this.state !== 'done' && !this.out) this.end.reject(new ClientGone());
      this.cleanup();
    });
    endLiveFeed(this.gw, this.reply);
    this.arm();
    if (this.heartbeatMs) this.beat = setInterval(() => this.heartbeat(), this.heartbeatMs);
  }

  /** (Re)starts the hold. */
  protected arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expire(), this.holdMs);
  }

  /** Before the answer: refused with `err`. After: cut (the phone asks again). */
  protected fail(err: Error): void {
    if (this.state === 'done') return;
    this.cleanup();
    if (this.out) this.out.destroy(err);
    else this.end.reject(err);
  }

  /** Off the hub, timers stopped: nothing more happens to this feed. */
  protected cleanup(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.unregister();
    clearTimeout(this.timer);
    clearInterval(this.beat);
  }
}
