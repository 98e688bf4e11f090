import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserDoc } from '../accounts/records.js';
import type { Stored } from '../couch/upsert.js';
import { negotiate } from './compress.js';
import type { Gateway, UpstreamCall } from './context.js';
import { GzipFrames } from './gzip-frames.js';
import { sendBuffer } from './relay.js';
import { seqText } from './change-hub.js';
import { readChanges, type Read } from './changes-read.js';
import { HubFeed, type FeedEnd, type FeedState } from './hub-feed.js';
import { recordPull, stillAllowed } from './waiter-parts.js';

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

/** A longpoll's end: besides answered or failed, forwarded upstream after all. */
interface LongpollEnd extends FeedEnd {
  forward: () => Promise<FastifyReply>;
}

class LongpollWaiter extends HubFeed<LongpollEnd> {
  /** Answer with what the last read found as soon as it is in. */
  private answerNow = false;
  private readQuery: string;
  /** The last empty answer, as a string: a small Buffer would pin an 8 KB pool slab. */
  private idle: string | null = null;
  /** The phone's query less `since`, as its user: whose next longpoll an answer may spare a read. */
  private readonly answerKey: string | null;
  private readonly since: string | null;

  constructor(
    gw: Gateway,
    call: UpstreamCall,
    req: FastifyRequest,
    reply: FastifyReply,
    query: string,
    end: LongpollEnd,
  ) {
    const params = new URLSearchParams(query);
    super(gw, call, req, reply, params, end);
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
    this.register();
    // Lost between the caller's look and now: read, then answer at once.
    if (!this.gw.hub.live) this.answerNow = true;
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

  protected expire(): void {
    if (this.state === 'parked') this.finish(Buffer.from(this.idle as string));
    else if (this.state === 'reading') this.answerNow = true;
  }

  protected async recheck(doc?: Stored<UserDoc> | null): Promise<void> {
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

  protected async read(): Promise<void> {
    if (this.state === 'done') return; // left while its read waited for a slot
    this.state = 'reading';
    let got: Read;
    try {
      got = await this.readOnce();
    } catch (err) {
      return this.fail(err as Error);
    }
    if ((this.state as FeedState) === 'done') return;
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

  protected heartbeat(): void {
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
}
