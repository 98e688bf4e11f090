import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { changesQuery } from './changes-query.js';
import type { Gateway, UpstreamCall } from './context.js';
import { syncDirection } from './endpoints.js';
import { rawQuery } from './path.js';
import { relay } from './relay.js';

/**
 * Every endpoint the gateway forwards as is: database info, `_changes`, `_revs_diff`,
 * `_bulk_get`, `_all_docs`, `_local` checkpoints, document and attachment reads, attachment
 * writes (CouchDB's validate_doc_update judges those, as the user). Bodies and answers
 * stream; a finished pull is recorded for the "last synced" list.
 */
export async function passThrough(
  gw: Gateway,
  call: UpstreamCall,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const query = rawQuery(req.raw.url);
  const res = await call.send({
    query: call.endpoint.kind === 'changes' ? changesQuery(query) : query,
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
