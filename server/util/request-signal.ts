/**
 * Runs `request` with a signal of its own that aborts when `parent` does. A request given
 * a long-lived signal (a follower's, a hub's) outright leaves an abort listener on it that
 * undici only takes off once the request is garbage: a feed's thousands of requests piled
 * up thousands of listeners on one signal (Node's MaxListenersExceededWarning past 1,500,
 * once per request after that, seen on the service with 10,000 users made). Here the one
 * listener on `parent` goes when the request ends.
 */
export async function withRequestSignal<T>(
  parent: AbortSignal,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const own = new AbortController();
  const stop = () => own.abort(parent.reason);
  if (parent.aborted) stop();
  else parent.addEventListener('abort', stop, { once: true });
  try {
    return await request(own.signal);
  } finally {
    parent.removeEventListener('abort', stop);
  }
}
