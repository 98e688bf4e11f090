/**
 * CouchDB 3.5 answers some malformed requests with a 500 naming the Erlang clause its
 * handler crashed in (`{"docs": 7}` to `_bulk_get`: `function_clause`; `_changes?limit=x`:
 * `badarg`), or the exception it did not catch (a multipart body that ends before its
 * closing boundary: `{{nocatch,<<"expected more data">>}, …}`). Such an answer is about the
 * request, not the server: sending it again cannot help. What it says, in a few words, or
 * null for any other answer (a 500 that is the server's own fault included).
 */
export function couchInputCrash(answer: unknown): string | null {
  const { error, reason } = (answer ?? {}) as { error?: unknown; reason?: unknown };
  if (typeof reason !== 'string') return null;
  if (error === 'unknown_error' && INPUT_CRASHES.has(reason)) {
    return `CouchDB could not read this request (${reason})`;
  }
  if (error === 'error' && UNREADABLE_BODY.test(reason)) {
    return 'the multipart body ended before its closing boundary';
  }
  return null;
}

const INPUT_CRASHES = new Set(['function_clause', 'badarg', 'case_clause']);
const UNREADABLE_BODY = /^\{\{nocatch,<<"expected more data">>\}/;
