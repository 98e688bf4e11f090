/**
 * couch_att:from_json, as a pure check both the embedded store and the gateway apply to every
 * entry of a written document's `_attachments`. An entry is a stub (`"stub": true`) or inline
 * data (a base64 string); `"follows": true` only means something inside a multipart body,
 * which swaps it for the part's bytes before the document is judged. PouchDB hashes `data` in
 * a callback outside any request's error path, so a number there used to end the process.
 */

type Att = Record<string, unknown>;

/** CouchDB's content type for inline data that names none. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The entries of `_attachments`, or null when it is not a JSON object at all. */
export function attachmentEntries(atts: unknown): [string, unknown][] | null {
  if (typeof atts !== 'object' || atts === null || Array.isArray(atts)) return null;
  return Object.entries(atts as Record<string, unknown>);
}

/** Why one entry is unusable (the reason names the attachment), or null. */
export function attachmentProblem(name: string, att: unknown): string | null {
  const bad = (what: string) => `Invalid attachment ${JSON.stringify(name)}: ${what}`;
  if (typeof att !== 'object' || att === null || Array.isArray(att)) {
    return bad('an attachment must be a JSON object');
  }
  const a = att as Att;
  if (a.content_type !== undefined && typeof a.content_type !== 'string') {
    return bad('content_type must be a string');
  }
  if (a.stub === true) return null;
  if (a.follows !== undefined) return bad('"follows" belongs in a multipart/related body only');
  if (typeof a.data !== 'string') return bad('needs "stub": true or "data" as a base64 string');
  if (!BASE64.test(a.data.replace(/\s+/g, ''))) return `Invalid attachment data for ${name}`;
  return null;
}
