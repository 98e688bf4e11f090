/**
 * Sequences are opaque strings to clients, as in CouchDB 3. Inside they are
 * PouchDB's integer sequence plus the database's offset (raised by a purge
 * rebuild so sequences never go backwards).
 */
export function formatSeq(internal: number, offset: number): string {
  return `${internal + offset}-sawa`;
}

/** Reads a `since` value: a sequence this store gave out, a bare number, 0 or `now` (handled by the caller). */
export function parseSeq(value: unknown, offset: number): number | null {
  if (value === undefined || value === null) return 0;
  const text = String(value);
  const m = /^(\d+)(-.*)?$/.exec(text);
  if (!m) return null;
  return Math.max(0, Number(m[1]) - offset);
}
