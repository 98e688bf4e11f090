/**
 * Bounded concurrency over a lazily pulled list: provisioning repair, the jobs, design-doc
 * rollouts and the conflict report all walk thousands of databases or users this way, so
 * it lives in a leaf module none of them owns.
 */

/** Runs `fn` over the items, at most `concurrency` at a time, pulling items lazily. */
export async function runBounded<T>(
  items: AsyncIterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  // One shared iterator; each worker takes the next item when it is free.
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      await fn(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

/** A plain list as the async iterable runBounded pulls from. */
export async function* toAsync<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}
