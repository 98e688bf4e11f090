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
 * A phone's continuous (or eventsource) `_changes`, answered by the gateway while the change
 * hub is live, as its longpoll is (live-changes.ts): no upstream request is held while it
 * waits. Each read is the phone's own query as a normal feed from the last `last_seq`, a page
 * at a time, and its rows go out one JSON object a line as CouchDB writes them; then the phone
 * parks on the hub and a write to its database reads on from there. The answer starts after
 * the first read (an error, such as a missing filter, is answered with its status, as CouchDB
 * does), and ends as CouchDB's does, with a `{"last_seq":…,"pending":…}` line: at the phone's
 * `limit`, at its `timeout` of silence without a heartbeat, and with one at the hub's safety
 * net or when the hub stops being current (the phone reconnects from that `last_seq`). A
 * refused user's feed is cut, as a forwarded feed is.
 *
 * `feed=eventsource` is the same feed in CouchDB's server-sent events: `text/event-stream`
 * with `Cache-Control: no-cache`, each row `data: <row>` then `id: <its seq>` and a blank
 * line, heartbeats `event: heartbeat` with empty data, `Last-Event-ID` taken for `since`. Where
 * the continuous feed would write its `last_seq` line, an eventsource feed writes an `id:`
 * alone (`id: <last_seq>` and a blank line): no event, but an EventSource reconnecting sends it
 * as its Last-Event-ID, so a feed ended by the hub with no row sent does not resume at its
 * first `since=now`. CouchDB ends its eventsource without that line.
 */

/** Rows per read (CouchDB's own changes batch is of this order). */
const PAGE = 100;
/** A page held whole up to this; a bigger one is read again in smaller pages. */
const PAGE_CAP_BYTES = 16 * 1024 * 1024;
const EVENT_HEARTBEAT = Buffer.from('event: heartbeat\ndata: \n\n');

export function continuousChanges(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
  query: string,
): Promise<FastifyReply> {
  return new Promise((resolve, reject) => {
    new ContinuousWaiter(gw, call, req, reply, query, { resolve, reject }).start();
  });
}

class ContinuousWaiter extends HubFeed {
  /** End with the `last_seq` line once the read under way is written. */
  private endNow = false;
  /** The phone's query less `feed`, `heartbeat`, `timeout`, `limit`, `since`. */
  private readonly base: string;
  private since: string | null;
  private lastSeq: unknown = null;
  private pending = 0;
  /** The phone's `limit`, and the rows sent so far. */
  private readonly limit: number | null;
  private sent = 0;
  private pageMax = PAGE;
  private readonly events: boolean;

  constructor(
    gw: Gateway,
    call: UpstreamCall,
    req: FastifyRequest,
    reply: FastifyReply,
    query: string,
    end: FeedEnd,
  ) {
    const params = new URLSearchParams(query);
    const events = params.get('feed') === 'eventsource';
    super(gw, call, req, reply, params, end);
    this.events = events;
    const limit = params.get('limit');
    this.limit = limit === null ? null : Number(limit); // checked by changesQuery
    const lastEventId = events ? req.headers['last-event-id'] : undefined;
    this.since = typeof lastEventId === 'string' ? lastEventId : params.get('since');
    params.delete('limit');
    params.delete('since');
    this.base = params.toString();
  }

  start(): void {
    this.register();
    // Lost between the caller's look and now: read once, then end.
    if (!this.gw.hub.live) this.endNow = true;
    this.gw.hub.wakeRead(() => this.read());
  }

  /** Silence for `timeout` (no heartbeat), the safety net, a lost hub: end where it stands. */
  protected expire(): void {
    if (this.state === 'parked') this.close();
    else if (this.state === 'reading') this.endNow = true;
  }

  protected async recheck(doc?: Stored<UserDoc> | null): Promise<void> {
    let sameRoles: boolean;
    try {
      sameRoles = await stillAllowed(this.gw, this.req, this.reply, this.db, this.roles, doc);
    } catch (err) {
      // Before the answer: refused with the status its next request gets. After: cut.
      return this.fail(err as Error);
    }
    // Roles changed: CouchDB must see the new ones; the phone reconnects with them.
    if (!sameRoles) this.expire();
  }

  protected async read(): Promise<void> {
    if (this.state === 'done') return; // left while its read waited for a slot
    this.state = 'reading';
    const page = Math.min(this.pageMax, this.limit === null ? PAGE : this.limit - this.sent);
    const params = new URLSearchParams(this.base);
    if (this.since !== null) params.set('since', this.since);
    params.set('limit', String(page));
    let got: Read;
    try {
      const stamp = this.gw.hub.stamp(this.db);
      got = await readChanges(this.call, this.req, params.toString(), stamp, PAGE_CAP_BYTES);
    } catch (err) {
      return this.fail(err as Error);
    }
    if ((this.state as FeedState) === 'done') return;
    if (got.body === null) {
      if (page === 1) return this.fail(new Error('a change over the page cap'));
      this.pageMax = Math.max(1, Math.floor(page / 2));
      return this.read();
    }
    if (got.status !== 200 || got.results === null) return this.refuse(got);
    this.pageMax = PAGE;
    const rows = rowLines(got.body, got.results);
    this.begin(rows.length === 0);
    if (rows.length > 0)
      this.write(this.events ? eventLines(rows, got.results) : rows.join('\n') + '\n');
    this.sent += rows.length;
    this.lastSeq = got.lastSeq;
    this.since = seqText(got.lastSeq);
    this.pending = got.pending ?? 0;
    if (rows.length > 0) this.arm(); // the timeout, or the safety net, counts from the last row
    if (this.limit !== null && this.sent >= this.limit) return this.close();
    if ((rows.length > 0 && this.pending > 0) || this.dirty) {
      this.dirty = false;
      return this.read();
    }
    if (this.endNow) return this.close();
    this.state = 'parked';
  }

  /** The answer's start: 200 and, with nothing to send yet, a newline, as CouchDB 3.5. */
  private begin(empty: boolean): void {
    if (this.out) return;
    this.out = new PassThrough();
    if (negotiate(this.req.headers['accept-encoding'], ['gzip'])) {
      this.frames = new GzipFrames();
      this.reply.header('content-encoding', 'gzip');
    }
    if (this.events)
      this.reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache');
    else this.reply.header('content-type', 'application/json');
    this.reply.code(200);
    recordPull(this.gw, this.req, this.reply);
    this.end.resolve(this.reply.send(this.out));
    if (empty && !this.events) this.heartbeat();
  }

  private write(text: string | Buffer): void {
    const out = this.out as PassThrough;
    out.write(this.frames ? this.frames.block(Buffer.from(text)) : text);
  }

  protected heartbeat(): void {
    if (this.state === 'done' || !this.out) return; // the first read starts the answer
    if (this.events) this.write(EVENT_HEARTBEAT);
    else this.out.write(this.frames ? this.frames.line() : '\n');
  }

  /**
   * The end CouchDB writes: the `last_seq` line, then a newline; for eventsource, the
   * `last_seq` as an `id:` alone (above).
   */
  private close(): void {
    if (this.state === 'done') return;
    this.cleanup();
    const out = this.out as PassThrough;
    const tail = this.events
      ? Buffer.from(`id: ${JSON.stringify(this.lastSeq)}\n\n`)
      : Buffer.from(`${JSON.stringify({ last_seq: this.lastSeq, pending: this.pending })}\n\n`);
    out.end(this.frames ? this.frames.last(tail) : tail);
  }

  /** CouchDB refused the read: so is the phone, or, once its answer has started, it is cut. */
  private refuse(got: Read): void {
    if (this.state === 'done') return;
    this.cleanup();
    if (this.out) return void this.out.destroy();
    this.reply.code(got.status).header('content-type', 'application/json');
    const body = got.body as Buffer;
    this.end.resolve(sendBuffer(this.reply, body, negotiate(this.req.headers['accept-encoding'])));
  }
}

/**
 * A normal feed's rows as continuous lines. CouchDB writes a normal feed a row a line, so its
 * own bytes are kept (numbers in documents as it wrote them); otherwise (the embedded store,
 * which writes the whole answer on one line) each parsed row is written again.
 */
export function rowLines(body: Buffer, results: unknown[]): string[] {
  if (results.length === 0) return [];
  const lines = body.toString('utf8').split('\n');
  if (lines[0] === '{"results":[' && lines.length >= results.length + 2) {
    const rows = lines
      .slice(1, 1 + results.length)
      .map((l) => (l.endsWith(',') ? l.slice(0, -1) : l));
    if (rows.every((r) => r.startsWith('{') && r.endsWith('}'))) return rows;
  }
  return results.map((r) => JSON.stringify(r));
}

/** Rows (`rowLines`) as CouchDB's server-sent events: `data:`, then `id:` its `seq`. */
function eventLines(rows: string[], results: unknown[]): string {
  return rows
    .map(
      (row, i) => `data: ${row}\nid: ${JSON.stringify((results[i] as { seq?: unknown }).seq)}\n\n`,
    )
    .join('');
}
