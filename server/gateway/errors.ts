/**
 * Every error the sync gateway answers with, in one list. Bodies are CouchDB-shaped
 * (`{"error", "reason"}`) because PouchDB reads them: `forbidden` and `unauthorized`
 * per-document errors become `denied` events, a 401 makes the client refresh its token,
 * a 413 or 429 tells it to send less or later.
 */
export class SyncError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    readonly reason: string,
    readonly code: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
    this.name = 'SyncError';
  }

  get body(): { error: string; reason: string } {
    return { error: this.error, reason: this.reason };
  }
}

export const syncErrors = {
  badPath: (why: string) => new SyncError(400, 'bad_request', why, 'SAWA_SYNC_BAD_PATH'),
  badBody: (why: string) => new SyncError(400, 'bad_request', why, 'SAWA_SYNC_BAD_BODY'),
  notSyncEndpoint: (what: string) =>
    new SyncError(404, 'not_found', `${what} is not a sync endpoint`, 'SAWA_SYNC_NOT_FOUND'),
  // PouchDB asks `GET /sync/` at the start of every replication (its id() looks for a server
  // uuid): the shortest answer CouchDB would give, since every sync pays for it.
  noDatabase: () => new SyncError(404, 'not_found', 'missing', 'SAWA_SYNC_NO_DB'),
  methodNotAllowed: (allowed: readonly string[]) =>
    new SyncError(
      405,
      'method_not_allowed',
      `Only ${allowed.join(',')} allowed`,
      'SAWA_SYNC_METHOD',
      { allow: allowed.join(', ') },
    ),
  notOffered: (what: string) =>
    new SyncError(
      403,
      'forbidden',
      `${what} is not offered to sync clients`,
      'SAWA_SYNC_NOT_OFFERED',
    ),
  noAccess: () =>
    new SyncError(
      403,
      'forbidden',
      'You are not allowed to access this db.',
      'SAWA_SYNC_NO_ACCESS',
    ),
  readOnly: () =>
    new SyncError(
      403,
      'forbidden',
      'You may read this database but not write to it.',
      'SAWA_SYNC_READ_ONLY',
    ),
  unsupportedType: (type: string) =>
    new SyncError(
      415,
      'bad_content_type',
      `Content-Type ${type} is not accepted here; send application/json`,
      'SAWA_SYNC_CONTENT_TYPE',
    ),
  tooLarge: (limit: number) =>
    new SyncError(
      413,
      'too_large',
      `the request body is larger than ${limit} bytes (after decoding)`,
      'SAWA_SYNC_TOO_LARGE',
      // Stops the rest of an oversized upload instead of reading and discarding it.
      { connection: 'close' },
    ),
  tooManyDocs: (max: number) =>
    new SyncError(
      413,
      'too_large',
      `a _bulk_docs request may carry at most ${max} documents (SYNC_MAX_DOCS_PER_REQUEST); send smaller batches`,
      'SAWA_SYNC_TOO_MANY_DOCS',
    ),
  duplicateParam: (name: string) =>
    new SyncError(
      400,
      'bad_request',
      `query parameter ${JSON.stringify(name)} is given more than once`,
      'SAWA_SYNC_DUPLICATE_PARAM',
    ),
  rateLimited: (max: number, after: string, seconds: number) =>
    new SyncError(
      429,
      'too_many_requests',
      `sync is limited to ${max} requests a minute per user; retry in ${after}`,
      'SAWA_SYNC_RATE_LIMITED',
      { 'retry-after': String(seconds) },
    ),
  unreachable: () =>
    new SyncError(
      503,
      'service_unavailable',
      'the database is unreachable; retry later',
      'SAWA_SYNC_UPSTREAM_DOWN',
      { 'retry-after': '10' },
    ),
  upstreamTimeout: () =>
    new SyncError(
      504,
      'timeout',
      'the database did not answer in time; retry later',
      'SAWA_SYNC_UPSTREAM_TIMEOUT',
    ),
  upstreamRefusedGateway: () =>
    new SyncError(
      502,
      'bad_gateway',
      'the database refused the gateway; retry later',
      'SAWA_SYNC_UPSTREAM_AUTH',
    ),
  upstreamBadAnswer: () =>
    new SyncError(
      502,
      'bad_gateway',
      'the database gave an unexpected answer',
      'SAWA_SYNC_UPSTREAM_BAD',
    ),
  internal: () =>
    new SyncError(
      500,
      'internal_server_error',
      'the gateway failed; retry later',
      'SAWA_SYNC_INTERNAL',
    ),
};

const BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  411: 'bad_request',
  412: 'precondition_failed',
  413: 'too_large',
  415: 'bad_content_type',
  429: 'too_many_requests',
};

/**
 * Any error raised on a /sync path (ours, Fastify's body parser, @fastify/compress,
 * @fastify/rate-limit, requireUser) as a CouchDB-shaped answer. 4xx keep their message,
 * everything else becomes a bare 500: no stack, no internals.
 */
export function toSyncError(err: unknown, bodyLimit: number): SyncError {
  if (err instanceof SyncError) return err;
  const e = (err ?? {}) as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return syncErrors.tooLarge(bodyLimit);
  }
  const status = e.statusCode;
  if (status && status >= 400 && status < 500) {
    const error = BY_STATUS[status] ?? 'bad_request';
    return new SyncError(status, error, e.message || error, e.code ?? 'SAWA_SYNC_CLIENT');
  }
  return syncErrors.internal();
}
