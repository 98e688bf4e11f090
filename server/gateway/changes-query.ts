import { syncErrors } from './errors.js';

/**
 * The `_changes` query as forwarded. Everything passes as the client wrote it except a
 * heartbeat below a second (each one costs the phone a flushed compressed block, and costs
 * CouchDB a write per connection) or above a minute (carrier NATs drop connections that stay
 * silent much longer).
 */
const MIN_HEARTBEAT_MS = 1000;
const MAX_HEARTBEAT_MS = 60_000;

export function changesQuery(query: string): string {
  if (!query.includes('heartbeat=') && !query.includes('limit=')) return query;
  const params = new URLSearchParams(query);
  // CouchDB 3.5 reads a negative limit as none at all; the store refuses it. No client
  // sends one, so the gateway refuses it the same way on both.
  const limit = params.get('limit');
  if (limit !== null && !/^\d+$/.test(limit)) {
    throw syncErrors.badPath(`limit must be a non-negative integer, not ${limit}`);
  }
  if (!query.includes('heartbeat=')) return query;
  const value = Number(params.get('heartbeat'));
  if (!Number.isInteger(value)) return query; // `true` or junk: CouchDB decides
  const clamped = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, value));
  if (clamped === value) return query;
  params.set('heartbeat', String(clamped));
  return params.toString();
}
