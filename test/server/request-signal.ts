import t from 'tap';
import { getEventListeners } from 'node:events';
import { withRequestSignal } from '../../server/util/request-signal.js';

/** Stands in for undici's fetch: it leaves its abort listener on the signal it is given. */
function requestLike(signal: AbortSignal, answer: string): Promise<string> {
  signal.addEventListener('abort', () => undefined);
  return Promise.resolve(answer);
}

t.test('a long-lived signal keeps no listener from the requests made under it', async (t) => {
  const parent = new AbortController();
  const answers: string[] = [];
  for (let i = 0; i < 2000; i++) {
    answers.push(await withRequestSignal(parent.signal, (s) => requestLike(s, `answer ${i}`)));
  }
  t.equal(answers.at(-1), 'answer 1999', 'each request answers');
  t.equal(
    getEventListeners(parent.signal, 'abort').length,
    0,
    'none left on the long-lived signal',
  );
  const failing = withRequestSignal(parent.signal, () => Promise.reject(new Error('refused')));
  await t.rejects(failing, /refused/, 'a failure passes through');
  t.equal(getEventListeners(parent.signal, 'abort').length, 0, 'none left after a failure either');
});

t.test(
  'aborting the long-lived signal aborts the request in flight, with its reason',
  async (t) => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = withRequestSignal(
      parent.signal,
      (s) =>
        new Promise<never>((_, reject) => {
          seen = s;
          s.addEventListener('abort', () => reject(s.reason));
        }),
    );
    parent.abort(new Error('stopping'));
    await t.rejects(pending, /stopping/);
    t.equal(seen?.aborted, true);
    const late = await withRequestSignal(parent.signal, async (s) => s.aborted);
    t.equal(late, true, 'a request under a signal already aborted starts aborted');
  },
);
