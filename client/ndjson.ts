import { SawaError } from './errors.js';

/**
 * The lines of a streamed NDJSON answer, each parsed, as they arrive. Where the platform's
 * fetch has no streamed bodies (React Native), the whole answer is read first. A stream
 * that stays silent for `stallMs` is cancelled: a 2G link can die without a reset, and a
 * read would then wait for ever.
 */
export async function* ndjsonLines(
  res: Response,
  stallMs: number,
): AsyncGenerator<Record<string, unknown>> {
  const body = res.body;
  if (!body || typeof body.getReader !== 'function') {
    for (const line of (await res.text()).split('\n')) if (line) yield parse(line);
    return;
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await readWithin(reader, stallMs);
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line) yield parse(line);
      }
    }
    buffered += decoder.decode();
    if (buffered.trim()) yield parse(buffered);
  } finally {
    reader.cancel().catch(() => {});
  }
}

async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SawaError('offline', 'the link went silent')), ms);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } catch (err) {
    if (err instanceof SawaError) throw err;
    throw new SawaError('offline', `the link dropped: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

function parse(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    // A line cut by a dropped link never reaches here (it has no newline yet): this is junk.
    throw new SawaError('protocol', 'the feed sent a line that is not JSON');
  }
}
