/**
 * Why a client call failed. `code` is one of a few client-side causes, or the server's own
 * code (`SAWA_BAD_CREDENTIALS`, `SAWA_USERNAME_TAKEN`, …, see docs/accounts.md) when the
 * server answered with one.
 */
export type SawaErrorCode =
  | 'signed-out' // no session, or the server revoked it: sign in again
  | 'offline' // the service could not be reached
  | 'server' // the service answered with an error it gave no code for
  | 'protocol' // the answer was not what the protocol says
  | (string & {}); // a server code such as SAWA_BAD_CREDENTIALS

export class SawaError extends Error {
  readonly code: SawaErrorCode;
  /** HTTP status when the server answered. */
  readonly status?: number;

  constructor(code: SawaErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'SawaError';
    this.code = code;
    this.status = status;
  }
}

export const isOffline = (err: unknown): boolean =>
  err instanceof SawaError && err.code === 'offline';
