import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Bytes a request and its response took on the socket: request line, headers, body as
 * sent (compressed when it was), chunk framing — what the phone's data bundle pays for,
 * less TLS overhead when TLS ends in front of us. Keep-alive connections carry one request
 * at a time (PouchDB does not pipeline), so each request's share is the socket's counters
 * minus where the previous request on it left them.
 */
const marks = new WeakMap<Socket, { read: number; written: number }>();

export function onWireBytes(
  req: IncomingMessage,
  res: ServerResponse,
  done: (bytesIn: number, bytesOut: number) => void,
): void {
  const socket = req.socket;
  if (!socket || typeof socket.bytesRead !== 'number') return; // light-my-request: no wire
  res.once('close', () => {
    const before = marks.get(socket) ?? { read: 0, written: 0 };
    const now = { read: socket.bytesRead, written: socket.bytesWritten };
    marks.set(socket, now);
    done(Math.max(0, now.read - before.read), Math.max(0, now.written - before.written));
  });
}
