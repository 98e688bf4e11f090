/**
 * Calls to providers: JSON or form bodies, a deadline, and a clear line between "the
 * provider answered" (a status and a body) and "we do not know" (ProviderUnreachable).
 */

/** No answer was read: the request may or may not have been acted on. */
export class ProviderUnreachable extends Error {
  constructor(
    readonly provider: string,
    readonly sent: boolean,
    cause: unknown,
  ) {
    super(`${provider}: no answer (${String((cause as Error)?.message ?? cause)})`);
    this.name = 'ProviderUnreachable';
  }
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export async function callProvider(
  provider: string,
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    json?: unknown;
    form?: Record<string, string>;
  },
  timeoutMs: number,
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // A refused connection sent nothing; anything else (a timeout) may have been acted on.
    const refused = (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
    throw new ProviderUnreachable(provider, !refused, err);
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new ProviderUnreachable(provider, true, err);
  }
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { raw: text.slice(0, 200) };
  }
  const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  return { status: res.status, body: obj };
}

/** A credential a provider issues (an access token, a session id) and when to stop using it. */
export interface Credential {
  value: string;
  /** Milliseconds since the epoch. */
  until: number;
}

/**
 * A provider credential kept until it expires, obtained by `obtain` (whose answer `accept`
 * reads: the credential, or why there is none), and calls made with it: a call the provider
 * refuses with 401 is made once more with a new credential (one revoked or expired early).
 * Obtaining a credential asks for no payment or message, so when it fails nothing was sent.
 */
export function credentialCache(
  provider: string,
  obtain: () => Promise<Answer>,
  accept: (res: Answer) => Credential | string,
) {
  let held: Credential | null = null;

  async function current(fresh: boolean): Promise<string> {
    if (!fresh && held && held.until > Date.now()) return held.value;
    let res: Answer;
    try {
      res = await obtain();
    } catch (err) {
      throw new ProviderUnreachable(provider, false, err);
    }
    const got = accept(res);
    if (typeof got === 'string') throw new ProviderUnreachable(provider, false, got);
    held = got;
    return got.value;
  }

  return {
    async authorized(call: (credential: string) => Promise<Answer>): Promise<Answer> {
      const first = await call(await current(false));
      if (first.status !== 401) return first;
      return call(await current(true));
    },
  };
}
