import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * A close that does not wait on keep-alive connections. `server.close()` ends the connections
 * idle at that moment; one busy then (a phone mid-request, a feed) stays open after its answer
 * until the keep-alive timeout, 72 s in Fastify, and holds the process that long. Once closing
 * starts, every answer carries `Connection: close` and the connection of a streamed answer is
 * ended when the answer is done, so phones reconnect (to another instance) at once. A
 * connection that never sent a request (a phone's fetch aborted while it was connecting, a
 * browser's preconnect) is neither idle nor busy to Node, which would keep it, and the
 * process, until its headers timeout (60 s): those are ended when closing starts.
 */
export function drainOnClose(fastify: FastifyInstance): void {
  let closing = false;
  const endQuiet = quietConnections(fastify.server);
  fastify.addHook('preClose', async () => {
    closing = true;
    endQuiet();
  });
  fastify.addHook('onSend', async (_req, reply, payload) => {
    if (closing && !reply.raw.headersSent) reply.header('connection', 'close');
    return payload;
  });
  fastify.addHook('onResponse', async (req) => {
    if (closing) req.raw.socket?.end();
  });
}

/**
 * Tracks the connections of `server` and how many requests each carries; the function
 * returned ends those carrying none now (a request in flight is answered as usual).
 */
export function quietConnections(server: Server): () => void {
  const inFlight = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      if (inFlight.has(socket)) inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1);
    });
  });
  return () => {
    for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
  };
}
