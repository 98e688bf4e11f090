import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { changesQuery } from './changes-query.js';
import type { Gateway, UpstreamCall } from './context.js';
import { syncDirection } from './endpoints.js';
import { continuousChanges } from './continuous-changes.js';
import { liveChanges } from './live-changes.js';
import { rawQuery } from './path.js';
import { relay } from './relay.js';
import { parkable } from './waiter-parts.js';

/**
 * Every endpoint the gateway forwards as is: database info, `_changes`, `_revs_diff`,
 * `_bulk_get`, `_all_docs`, `_local` checkpoints, document and attachment reads, attachment
 * writes (CouchDB's validate_doc_update judges those, as the user). Bodies and answers
 * stream; a finished pull is recorded for the "last synced" list. A longpoll `_changes`
 * with nothing to answer yet waits on the change hub instead (live-changes.ts), and so does a
 * continuous one between its reads (continuous-changes.ts).
 */
export async function passThrough(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const raw = rawQuery(req.raw.url);
  const query = call.endpoint.kind === 'changes' ? changesQuery(raw) : raw;
  const forward = () => forwardAs(gw, call, req, reply, query);
  const held = call.endpoint.kind === 'changes' ? parkable(gw, req, query) : null;
  if (held === 'longpoll') return liveChanges(gw, call, req, reply, query, forward);
  // Continuous and eventsource: one waiter, two ways of writing the rows.
  if (held !== null) return continuousChanges(gw, call, req, reply, query);
  return forward();
}

async function forwardAs(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
  query: string,
): Promise<FastifyReply> {
  const res = await call.send({
    query,
    body: req.body as Buffer | Readable | undefined,
    clientHeaders: true,
  });
  const direction = syncDirection(call.endpoint.kind, res.status);
  if (direction) {
    const name = req.sawaUser.name;
    reply.raw.once('finish', () => gw.accounts.recordSync(name, direction));
  }
  return relay(req, reply, res);
}
