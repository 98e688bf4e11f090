import zlib from 'node:zlib';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';

/**
 * Compression of streamed CouchDB answers (`_changes`, `_bulk_get`, `_all_docs`, documents).
 * @fastify/compress does the gateway's own small answers and request decoding, but for
 * streams it holds the first 10 bytes back to sniff them and never flushes: a longpoll feed
 * whose only output for minutes is a one-byte heartbeat would go silent, and carrier NATs
 * and proxies cut silent connections. Here the compressor is flushed as soon as the upstream
 * pauses, so every heartbeat reaches the phone, while a fast stream is compressed as one
 * block (a flush per chunk would cost ratio on large pulls).
 */

export type Encoding = 'br' | 'gzip';

// Long enough that back-to-back chunks of one answer share a block, short enough that a
// heartbeat is not noticeably late.
const FLUSH_WHEN_IDLE_MS = 15;

// Brotli 4 compresses CouchDB JSON ~5% smaller than gzip 6 and faster; 5 to 8 gain under 1%
// at a quarter of the speed, 11 is far too slow for a proxy.
const BROTLI = {
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 4,
    [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
  },
};
const GZIP = { level: 6 };

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|xml)\b|[^;]*\+(json|xml)\b)/i;

/**
 * Answers smaller than this cost more to compress than they save: Content-Encoding, and
 * the gzip header and trailer, eat most of what a few hundred bytes of JSON shrink by.
 */
export const MIN_COMPRESS_BYTES = 512;

export function isCompressible(contentType: string | undefined): boolean {
  return contentType !== undefined && COMPRESSIBLE.test(contentType);
}

/**
 * The encoding to answer with for an Accept-Encoding header: brotli when the client takes
 * it, else gzip, else none. `q=0` refuses an encoding; `*` means any.
 */
export function negotiate(
  acceptEncoding: string | undefined,
  offered: readonly Encoding[] = ['br', 'gzip'],
): Encoding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const accepts = (enc: string) => (q.get(enc) ?? q.get('*') ?? 0) > 0;
  if (offered.includes('br') && accepts('br')) return 'br';
  if (offered.includes('gzip') && (accepts('gzip') || (q.get('x-gzip') ?? 0) > 0)) return 'gzip';
  return null;
}

/** `body` compressed in one go (a small answer of known length). */
export function compressSync(body: Buffer, encoding: Encoding): Buffer {
  return encoding === 'br' ? zlib.brotliCompressSync(body, BROTLI) : zlib.gzipSync(body, GZIP);
}

/**
 * `source` compressed with `encoding`, flushed whenever the source goes quiet. Backpressure
 * runs end to end (phone socket → compressor → source socket): a slow phone slows CouchDB's
 * stream down instead of piling the answer up in memory. Destroying the result (the phone
 * left) destroys the source, which closes the upstream connection.
 */
export function compressed(
  source: Readable,
  encoding: Encoding,
  onError: (err: Error) => void,
): Readable {
  const zip = encoding === 'br' ? zlib.createBrotliCompress(BROTLI) : zlib.createGzip(GZIP);
  const mode =
    encoding === 'br' ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (!zip.destroyed && !zip.writableEnded) zip.flush(mode);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      clearTimeout(timer);
      timer = setTimeout(flush, FLUSH_WHEN_IDLE_MS);
      done(null, chunk);
    },
  });
  pipeline(source, tap, zip, (err) => {
    clearTimeout(timer);
    if (err) onError(err);
  });
  return zip;
}
