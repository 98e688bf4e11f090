/**
 * Waiting between attempts: exponential with full jitter, so a thousand phones coming back
 * on one cell tower at once do not all knock at the same second.
 */
export function backoffMs(attempt: number, baseMs = 500, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

/** Retry-After (seconds or an HTTP date) in milliseconds, capped; undefined when absent. */
export function retryAfterMs(header: string | null, capMs = 60_000): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.min(capMs, ms)) : undefined;
}

/** Where `online` is heard: the browser's window (globalThis) unless told. */
export interface Platform {
  addEventListener?: (type: string, fn: () => void) => void;
  removeEventListener?: (type: string, fn: () => void) => void;
}

/**
 * `sleep` before another try at a link that failed: it also ends when the platform says the
 * network is back (a browser's `online` event), so a phone whose link returns does not sit
 * out the rest of its backoff. Where there is no such event (Node), it is `sleep`.
 */
export function retrySleep(
  ms: number,
  signal?: AbortSignal,
  platform: Platform = globalThis as Platform,
): Promise<void> {
  if (typeof platform.addEventListener !== 'function') return sleep(ms, signal);
  const back = new AbortController();
  const end = () => back.abort();
  platform.addEventListener('online', end);
  signal?.addEventListener('abort', end);
  if (signal?.aborted) end();
  return sleep(ms, back.signal).finally(() => {
    platform.removeEventListener?.('online', end);
    signal?.removeEventListener('abort', end);
  });
}
