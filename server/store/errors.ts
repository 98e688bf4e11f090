/**
 * Every error the embedded store answers with, shaped as CouchDB shapes it:
 * `{"error": <code>, "reason": <text>}` with CouchDB's status for that code.
 */
export class CouchError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${error}: ${reason}`);
    this.name = 'CouchError';
  }

  toJSON(): { error: string; reason: string } {
    return { error: this.error, reason: this.reason };
  }
}

const make = (status: number, error: string) => (reason: string) =>
  new CouchError(status, error, reason);

export const errors = {
  badRequest: make(400, 'bad_request'),
  illegalDbName: (name: string) =>
    new CouchError(
      400,
      'illegal_database_name',
      `Name: '${name}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter.`,
    ),
  dbNameTooLong: (name: string) =>
    new CouchError(
      400,
      'database_name_too_long',
      `At least one path segment of \`${name}\` is too long.`,
    ),
  queryParse: make(400, 'query_parse_error'),
  invalidJson: () => new CouchError(400, 'bad_request', 'invalid UTF-8 JSON'),
  illegalDocId: make(400, 'illegal_docid'),
  invalidRev: () => new CouchError(400, 'bad_request', 'Invalid rev format'),
  unauthorized: make(401, 'unauthorized'),
  notAuthenticated: () =>
    new CouchError(401, 'unauthorized', 'You are not authorized to access this db.'),
  forbidden: make(403, 'forbidden'),
  notAllowedDb: () => new CouchError(403, 'forbidden', 'You are not allowed to access this db.'),
  notDbAdmin: () => new CouchError(403, 'forbidden', 'You are not a db or server admin.'),
  notFound: make(404, 'not_found'),
  missing: () => new CouchError(404, 'not_found', 'missing'),
  noDb: () => new CouchError(404, 'not_found', 'Database does not exist.'),
  methodNotAllowed: (allowed: string) =>
    new CouchError(405, 'method_not_allowed', `Only ${allowed} allowed`),
  notAcceptable: make(406, 'not_acceptable'),
  conflict: () => new CouchError(409, 'conflict', 'Document update conflict.'),
  fileExists: () =>
    new CouchError(
      412,
      'file_exists',
      'The database could not be created, the file already exists.',
    ),
  preconditionFailed: make(412, 'precondition_failed'),
  tooLarge: () => new CouchError(413, 'too_large', 'the request entity is too large'),
  documentTooLarge: (id: string) => new CouchError(413, 'document_too_large', id),
  badContentType: (expected = 'application/json') =>
    new CouchError(415, 'bad_content_type', `Content-Type must be ${expected}`),
  unknown: make(500, 'unknown_error'),
} as const;

interface PouchLikeError {
  status?: unknown;
  name?: unknown;
  error?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** Turns a PouchDB error (or anything thrown) into a CouchError, keeping PouchDB's CouchDB-shaped codes. */
export function toCouchError(err: unknown): CouchError {
  if (err instanceof CouchError) return err;
  const e = (err ?? {}) as PouchLikeError;
  const status = typeof e.status === 'number' ? e.status : 500;
  const code =
    typeof e.name === 'string' && e.name !== 'Error'
      ? e.name
      : typeof e.error === 'string'
        ? e.error
        : 'unknown_error';
  const reason =
    typeof e.reason === 'string'
      ? e.reason
      : typeof e.message === 'string'
        ? e.message
        : String(err);
  // PouchDB's wording and statuses where CouchDB's differ.
  if (code === 'conflict') return errors.conflict();
  if (code === 'doc_validation') return new CouchError(400, code, reason);
  if (code === 'badarg') return new CouchError(400, 'bad_request', reason);
  if (status >= 500) return new CouchError(500, 'unknown_error', reason);
  return new CouchError(status, code, reason);
}
