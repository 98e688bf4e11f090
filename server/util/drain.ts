import type { FastifyInstance } from 'fastify';

/**
 * A close that does not wait on keep-alive connections. `server.close()` ends the connections
 * idle at that moment; one busy then (a phone mid-request, a feed) stays open after its answer
 * until the keep-alive timeout, 72 s in Fastify, and holds the process that long. Once closing
 * starts, every answer carries `Connection: close` and the connection of a streamed answer is
 * ended when the answer is done, so phones reconnect (to another instance) at once.
 */
export function drainOnClose(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook('onSend', async (_req, reply, payload) => {
    if (closing && !reply.raw.headersSent) reply.header('connection', 'close');
    return payload;
  });
  fastify.addHook('onResponse', async (req) => {
    if (closing) req.raw.socket?.end();
  });
}
