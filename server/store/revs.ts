import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { params } from './http.js';

/** `N-hash`, as couch_doc:parse_rev accepts it (the hash may be empty: `1-`). */
const REV = /^\d+-[^\s]*$/;

export function checkRev(rev: unknown): string {
  if (typeof rev !== 'string' || !REV.test(rev)) throw errors.invalidRev();
  return rev;
}

/**
 * The revision a write names, from `?rev=`, `If-Match` and the body's `_rev`,
 * refused when two of them disagree (couch_httpd_db:extract_header_rev).
 */
export function requestRev(req: FastifyRequest, bodyRev?: unknown): string | undefined {
  const query = params.str(req, 'rev');
  const header = req.headers['if-match'];
  const etag = typeof header === 'string' ? header.trim().replace(/^"|"$/g, '') : undefined;
  if (query !== undefined) checkRev(query);
  if (etag !== undefined) checkRev(etag);
  if (query !== undefined && etag !== undefined && query !== etag) {
    throw errors.badRequest('Document rev and etag have different values');
  }
  const explicit = query ?? etag;
  if (bodyRev !== undefined && explicit !== undefined && bodyRev !== explicit) {
    throw errors.badRequest(
      'Document rev from request body and query string have different values',
    );
  }
  return explicit ?? (bodyRev as string | undefined);
}

/** The `[pos, hash]` pairs of a document's `_revisions`, newest first. */
export function revPath(revisions: { start: number; ids: string[] } | undefined): string[] {
  if (!revisions) return [];
  return revisions.ids.map((hash, i) => `${revisions.start - i}-${hash}`);
}
