import { backoffMs, retryAfterMs, retrySleep, sleep } from './backoff.js';
import { SawaError } from './errors.js';
import { encodeBody } from './gzip.js';

/**
 * One HTTP exchange with the service, retried the way a 2G link needs: a dropped
 * connection, a 429 or a 502/503/504 is tried again after a jittered backoff (or the
 * server's Retry-After); after the last attempt the caller gets `offline` (no answer at
 * all) or the server's error. Every request the client makes is safe to repeat.
 */
export interface Transport {
  base: string;
  fetch: typeof fetch;
  device?: string;
  /** The first retry's wait (backoff.ts), 500 ms unless told. */
  retryBaseMs?: number;
}

export interface SendOptions {
  method?: string;
  /** A JSON body, gzipped when large and the platform can. */
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Attempts before giving up (default 4). */
  attempts?: number;
  /** Give up on an attempt whose answer has not started after this long (default 60 s). */
  timeoutMs?: number;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);

export async function send(t: Transport, path: string, opts: SendOptions = {}): Promise<Response> {
  const attempts = opts.attempts ?? 4;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  // Browsers ignore this (they pick the encodings); Node and React Native honour it.
  headers['accept-encoding'] = 'br, gzip';
  if (t.device) headers['x-sawa-device'] = t.device;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    const encoded = await encodeBody(JSON.stringify(opts.json));
    body = encoded.data as BodyInit;
    headers['content-type'] = 'application/json';
    if (encoded.gzip) headers['content-encoding'] = 'gzip';
  }
  for (let attempt = 0; ; attempt++) {
    let wait: number | undefined;
    try {
      const res = await fetchWithTimeout(t, path, {
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs ?? 60_000,
      });
      if (!RETRY_STATUS.has(res.status) || attempt + 1 >= attempts) return res;
      wait = retryAfterMs(res.headers.get('retry-after'));
      void res.body?.cancel().catch(() => {});
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (attempt + 1 >= attempts) {
        throw new SawaError('offline', `cannot reach ${t.base}: ${(err as Error).message}`);
      }
    }
    // The server's Retry-After is waited out; a link that failed is tried again at once when
    // the platform says the network is back.
    if (wait !== undefined) await sleep(wait, opts.signal);
    else await retrySleep(backoffMs(attempt, t.retryBaseMs), opts.signal);
    if (opts.signal?.aborted) throw new SawaError('offline', 'aborted');
  }
}

async function fetchWithTimeout(
  t: Transport,
  path: string,
  init: RequestInit & { signal?: AbortSignal; timeoutMs: number },
): Promise<Response> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  // A signal aborted before the call (live sync woke while a token was being fetched) never
  // fires again: the request must not go out and wait its whole timeout.
  if (init.signal?.aborted) abort.abort();
  init.signal?.addEventListener('abort', onAbort);
  const timer = setTimeout(onAbort, init.timeoutMs);
  try {
    return await t.fetch(t.base + path, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: abort.signal,
    });
  } finally {
    clearTimeout(timer);
    init.signal?.removeEventListener('abort', onAbort);
  }
}

/** The server's error as a SawaError (Fastify's `{code, message}` or CouchDB's `{error, reason}`). */
export async function errorOf(res: Response): Promise<SawaError> {
  let code = 'server';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body.code === 'string') code = body.code;
    else if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
    else if (typeof body.reason === 'string') message = body.reason;
  } catch {
    // not JSON: keep the status
  }
  return new SawaError(code, message, res.status);
}
