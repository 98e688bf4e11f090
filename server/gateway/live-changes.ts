import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientGone } from '../errors.js';
import { userDocId, type UserDoc } from '../accounts/records.js';
import type { Stored } from '../couch/upsert.js';
import { negotiate } from './compress.js';
import { endLiveFeed, type Gateway, type UpstreamCall } from './context.js';
import { GzipFrames } from './gzip-frames.js';
import { sendBuffer } from './relay.js';
import { seqText, type Waiter } from './change-hub.js';
import { readChanges, type Read } from './changes-read.js';
import { feedTiming, recordPull, rolesKey, stillAllowed } from './waiter-parts.js';

/**
 * A phone's longpoll `_changes`, answered by the gateway while the change hub is live. The
 * phone's own query is read upstream as a normal feed (as its user, filters and style as it
 * asked); changes are answered at once. With none, the phone is parked on the hub (no
 * upstream request) until its database is written, then read again. The phone is registered
 * before that first read, so a write landing between the read and the parking still wakes it.
 * At its timeout, or when the hub stops being current, it gets what CouchDB answers at a
 * longpoll's timeout: no results and the `last_seq` of the last read, from which its next
 * request misses nothing.
 */

export function liveChanges(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
  query: string,
  forward: () => Promise<FastifyReply>,
): Promise<FastifyReply> {
  return new Promise((resolve, reject) => {
    new LongpollWaiter(gw, call, req, reply, query, { forward, resolve, reject }).start();
  });
}

type State = 'reading' | 'parked' | 'done';

class LongpollWaiter implements Waiter {
  readonly db: string;
  readonly userId: string;
  private state: State = 'reading';
  /** Notified while reading: read again before parking. */
  private dirty = false;
  /** Answer with what the last read found as soon as it is in. */
  private answerNow = false;
  private readQuery: string;
  /** The last empty answer, as a string: a small Buffer would pin an 8 KB pool slab. */
  private idle: string | null = null;
  private readonly heartbeatMs: number | null;
  private readonly holdMs: number;
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  /** Once the heartbeat has started the answer. */
  private out: PassThrough | null = null;
  private frames: GzipFrames | null = null;
  private readonly roles: string;
  /** The phone's query less `since`, as its user: whose next longpoll an answer may spare a read. */
  private readonly answerKey: string | null;
  private readonly since: string | null;
  private unregister: () => void = () => undefined;

  constructor(
    private readonly gw: Gateway,
    private readonly call: UpstreamCall,
    private readonly req: FastifyRequest,
    private readonly reply: FastifyReply,
    query: string,
    /** How the request ends: forwarded upstream after all, answered, or failed. */
    private readonly end: {
      forward: () => Promise<FastifyReply>;
      resolve: (r: FastifyReply) => void;
      reject: (err: Error) => void;
    },
  ) {
    this.db = call.endpoint.db;
    this.userId = userDocId(req.sawaUser.name);
    this.roles = rolesKey(req);
    const params = new URLSearchParams(query);
    ({ heartbeatMs: this.heartbeatMs, holdMs: this.holdMs } = feedTiming(params));
    this.readQuery = params.toString();
    this.since = params.get('since');
    const rest = new URLSearchParams(params);
    rest.delete('since');
    rest.sort();
    // A body (POST: doc_ids, selector) is not part of the key: those go to CouchDB every time.
    this.answerKey =
      req.method === 'GET'
        ? [this.db, this.userId, this.roles, rest.toString()].join('\u0000')
        : null;
  }

  start(): void {
    this.unregister = this.gw.hub.add(this);
    // A change to the user's record between the token check and now reached no one: check again.
    if (this.gw.userNotices.changedSince(this.userId, this.req.syncUserStamp)) void this.recheck();
    // Lost between the caller's look and now: read, then answer at once.
    if (!this.gw.hub.live) this.answerNow = true;
    this.reply.raw.once('close', () => {
      if (this.state !== 'done' && !this.out) this.end.reject(new ClientGone());
      this.cleanup();
    });
    endLiveFeed(this.gw, this.reply);
    this.timer = setTimeout(() => this.expire(), this.holdMs);
    if (this.heartbeatMs) this.beat = setInterval(() => this.heartbeat(), this.heartbeatMs);
    // Back from an answer with nothing pending, and nothing written since: wait at once.
    const lastSeq =
      this.answerNow || this.answerKey === null
        ? undefined
        : this.gw.hub.recall(this.answerKey, this.db, this.since);
    if (lastSeq !== undefined) {
      this.idle = JSON.stringify({ results: [], last_seq: lastSeq, pending: 0 }) + '\n';
      this.state = 'parked';
      return;
    }
    // In the hub's read slots too: thousands of phones arriving at once must not hold a
    // read (and a socket, and an open database) upstream each.
    this.gw.hub.wakeRead(() => this.read());
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

  private expire(): void {
    if (this.state === 'parked') this.finish(Buffer.from(this.idle as string));
    else if (this.state === 'reading') this.answerNow = true;
  }

  private async recheck(doc?: Stored<UserDoc> | null): Promise<void> {
    let sameRoles: boolean;
    try {
      sameRoles = await stillAllowed(this.gw, this.req, this.reply, this.db, this.roles, doc);
    } catch (err) {
      if (this.state === 'done') return;
      if (!this.out || !this.idle) return this.fail(err as Error);
      // The answer has started: end it empty; the phone's next request is refused.
      return this.finish(Buffer.from(this.idle));
    }
    if (!sameRoles) this.expire();
  }

  private async read(): Promise<void> {
    if (this.state === 'done') return; // left while its read waited for a slot
    this.state = 'reading';
    let got: Read;
    try {
      got = await this.readOnce();
    } catch (err) {
      return this.fail(err as Error);
    }
    if ((this.state as State) === 'done') return;
    if (got.status !== 200 || !got.empty || got.body === null) {
      if (got.body === null) return this.passOn();
      if (got.status === 200 && got.pending === 0 && this.answerKey !== null)
        this.gw.hub.remember(this.answerKey, got.lastSeq, got.stamp);
      return this.finish(got.body, got.status);
    }
    this.idle = got.body.toString('utf8');
    const since = seqText(got.lastSeq);
    // Nothing passed the phone's filter up to `last_seq`: reading on from there is the same.
    const params = new URLSearchParams(this.readQuery);
    params.set('since', since);
    this.readQuery = params.toString();
    if (this.dirty) {
      this.dirty = false;
      return this.read();
    }
    if (this.answerNow) return this.finish(got.body);
    this.state = 'parked';
  }

  private readOnce(): Promise<Read> {
    return readChanges(this.call, this.req, this.readQuery, this.gw.hub.stamp(this.db));
  }

  private heartbeat(): void {
    if (this.state === 'done') return;
    if (!this.out) {
      this.out = new PassThrough();
      if (negotiate(this.req.headers['accept-encoding'], ['gzip'])) {
        this.frames = new GzipFrames();
        this.reply.header('content-encoding', 'gzip');
      }
      this.reply.code(200).header('content-type', 'application/json');
      recordPull(this.gw, this.req, this.reply);
      this.end.resolve(this.reply.send(this.out));
    }
    this.out.write(this.frames ? this.frames.line() : '\n');
  }

  private finish(body: Buffer, status = 200): void {
    if (this.state === 'done') return;
    this.cleanup();
    if (this.out) {
      if (status !== 200) return void this.out.destroy(); // cut: the phone asks again
      this.out.end(this.frames ? this.frames.last(body) : body);
      return;
    }
    this.reply.code(status).header('content-type', 'application/json');
    if (status === 200) recordPull(this.gw, this.req, this.reply);
    this.end.resolve(sendBuffer(this.reply, body, negotiate(this.req.headers['accept-encoding'])));
  }

  /** An answer too big to hold: the phone's request goes upstream as it came (it streams). */
  private passOn(): void {
    if (this.state === 'done') return;
    this.cleanup();
    if (this.out) return void this.out.destroy();
    this.end.forward().then(this.end.resolve, this.end.reject);
  }

  private fail(err: Error): void {
    if (this.state === 'done') return;
    this.cleanup();
    if (this.out) this.out.destroy(err);
    else this.end.reject(err);
  }

  private cleanup(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.unregister();
    clearTimeout(this.timer);
    clearInterval(this.beat);
  }
}
