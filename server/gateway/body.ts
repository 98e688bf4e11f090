import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { syncErrors } from './errors.js';

/**
 * Request bodies on /sync. @fastify/compress has already swapped a gzip/deflate/br body for
 * its decoded stream (preParsing); here the *decoded* size is held to SYNC_MAX_REQUEST_BYTES,
 * so a few kilobytes of gzip that inflate to gigabytes stop at the limit with a 413 instead
 * of filling memory. JSON bodies are buffered (the write path must read every document);
 * attachment uploads stream through to CouchDB.
 */
export function registerBodyParser(
  app: FastifyInstance,
  limit: number,
  streams: (req: FastifyRequest) => boolean,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return done(syncErrors.tooLarge(limit));
    if (streams(req)) {
      const limited = limiter(limit);
      payload.on('error', (err) => limited.destroy(err));
      return done(null, payload.pipe(limited));
    }
    readBody(payload, limit).then(
      (body) => done(null, body),
      (err: Error) => done(err),
    );
  });
}

export function readBody(stream: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error | null, body?: Buffer) => {
      stream.off('data', onData).off('end', onEnd).off('error', stop).off('close', onClose);
      // Not destroyed on purpose: the 413 must still reach the client. Its Connection: close
      // ends the upload once the answer is out.
      if (err) {
        stream.pause();
        reject(err);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop(syncErrors.tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => stop(null, Buffer.concat(chunks, size));
    const onClose = () => stop(syncErrors.badBody('the request body ended early'));
    stream.on('data', onData).on('end', onEnd).on('error', stop).on('close', onClose);
    // @fastify/compress hands its decoder over paused; a 'data' listener alone would not start it.
    stream.resume();
  });
}

/** Passes a stream through, failing it with a 413 once more than `limit` bytes went by. */
export function limiter(limit: number): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      if (size > limit) done(syncErrors.tooLarge(limit));
      else done(null, chunk);
    },
  });
}

/** The JSON object in a buffered body, or a CouchDB-shaped 400. */
export function jsonBody(body: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(body) || body.length === 0)
    throw syncErrors.badBody('a JSON body is required');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw syncErrors.badBody('invalid UTF-8 JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw syncErrors.badBody('Request body must be a JSON object');
  }
  // JSON.parse takes any depth; JSON.stringify, the rules and CouchDB's store do not.
  if (deeperThan(parsed, MAX_JSON_DEPTH)) {
    throw syncErrors.badBody(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return parsed as Record<string, unknown>;
}

/** How deep a request's JSON may nest: far more than any document needs, far less than a stack. */
export const MAX_JSON_DEPTH = 1000;

/** Whether arrays and objects in `value` nest more than `max` levels (walked without recursion). */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
