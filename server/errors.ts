import createError from '@fastify/error';

/**
 * Every error Sawa's own routes raise, in one list: a code that says what went wrong, a
 * message a client developer can act on, a status. Fastify answers them as
 * `{statusCode, code, error, message}`. The CouchDB paths (the gateway) answer
 * CouchDB-shaped `{error, reason}` bodies instead; see the gateway's own mapping.
 *
 * Messages never carry secrets, hashes or CouchDB's internals.
 */

// Input
export const InvalidUsername = createError<'SAWA_INVALID_USERNAME', 400, [string]>(
  'SAWA_INVALID_USERNAME',
  '%s',
  400,
);
export const WeakPassword = createError<'SAWA_WEAK_PASSWORD', 400, [number]>(
  'SAWA_WEAK_PASSWORD',
  'password must be at least %s characters',
  400,
);
export const InvalidTeam = createError<'SAWA_INVALID_TEAM', 400, [string]>(
  'SAWA_INVALID_TEAM',
  'team %s is not a valid team name: lower-case letters, digits and -, starting with a letter, at most 63 characters',
  400,
);

// Authentication
export const BadCredentials = createError(
  'SAWA_BAD_CREDENTIALS',
  'wrong username or password',
  401,
);
export const AccountDisabled = createError(
  'SAWA_ACCOUNT_DISABLED',
  'this account is disabled: ask an administrator',
  401,
);
export const TokenMissing = createError(
  'SAWA_TOKEN_MISSING',
  'an access token is required: send Authorization: Bearer <access_token>',
  401,
);
export const TokenInvalid = createError(
  'SAWA_TOKEN_INVALID',
  'the access token is invalid: log in again',
  401,
);
export const TokenExpired = createError(
  'SAWA_TOKEN_EXPIRED',
  'the access token has expired: get a new one from POST /auth/refresh',
  401,
);
export const RefreshInvalid = createError(
  'SAWA_REFRESH_INVALID',
  'the refresh token is invalid, expired or revoked: log in again',
  401,
);
export const RefreshReused = createError(
  'SAWA_REFRESH_REUSED',
  'this refresh token was already used, so the session is revoked for safety: log in again',
  401,
);
export const RateLimited = createError<'SAWA_RATE_LIMITED', 429, [number]>(
  'SAWA_RATE_LIMITED',
  'too many attempts: retry in %s seconds',
  429,
);

// Authorisation and state
export const AdminRequired = createError(
  'SAWA_ADMIN_REQUIRED',
  'this route needs the admin role',
  403,
);
export const UserNotFound = createError<'SAWA_USER_NOT_FOUND', 404, [string]>(
  'SAWA_USER_NOT_FOUND',
  'no user %s',
  404,
);
export const UsernameTaken = createError<'SAWA_USERNAME_TAKEN', 409, [string]>(
  'SAWA_USERNAME_TAKEN',
  'username %s is taken',
  409,
);
export const SelfLockout = createError<'SAWA_SELF_LOCKOUT', 409, [string]>(
  'SAWA_SELF_LOCKOUT',
  'an admin cannot %s their own account: ask another admin',
  409,
);

// Signup, invitations and passwords (issue 16)
export const SignupClosed = createError(
  'SAWA_SIGNUP_CLOSED',
  'signup is closed on this server: an administrator creates accounts',
  403,
);
export const InviteRequired = createError(
  'SAWA_INVITE_REQUIRED',
  'signup needs an invitation code (send it as "invite"): ask your supervisor for one',
  403,
);
export const InviteInvalid = createError(
  'SAWA_INVITE_INVALID',
  'the invitation code is unknown, already used, expired or revoked: ask for a new one',
  403,
);
export const InviteForbidden = createError<'SAWA_INVITE_FORBIDDEN', 403, [string]>(
  'SAWA_INVITE_FORBIDDEN',
  '%s',
  403,
);
export const InviterRequired = createError(
  'SAWA_INVITER_REQUIRED',
  'this route needs the admin or supervisor role',
  403,
);
export const InviteNotFound = createError<'SAWA_INVITE_NOT_FOUND', 404, [string]>(
  'SAWA_INVITE_NOT_FOUND',
  'no invitation %s',
  404,
);
export const PasswordChangeRequired = createError(
  'SAWA_PASSWORD_CHANGE_REQUIRED',
  'your password was reset: choose a new one with POST /me/password before anything else',
  403,
);
export const ImportInvalid = createError<'SAWA_IMPORT_INVALID', 400, [string]>(
  'SAWA_IMPORT_INVALID',
  '%s',
  400,
);

// CouchDB
export const CouchUnavailable = createError(
  'SAWA_COUCH_UNAVAILABLE',
  'the database is unavailable: retry later',
  503,
);
export const ProvisioningFailed = createError<'SAWA_PROVISIONING_FAILED', 503, [string]>(
  'SAWA_PROVISIONING_FAILED',
  'could not prepare the databases of %s: retry later',
  503,
);

// Reports
export const ReportsForbidden = createError(
  'SAWA_REPORTS_FORBIDDEN',
  'reports need the supervisor or admin role',
  403,
);
export const ReportTeamForbidden = createError<'SAWA_REPORT_TEAM_FORBIDDEN', 403, [string]>(
  'SAWA_REPORT_TEAM_FORBIDDEN',
  'team %s is not one of your teams',
  403,
);
export const BadReportQuery = createError<'SAWA_BAD_REPORT_QUERY', 400, [string]>(
  'SAWA_BAD_REPORT_QUERY',
  '%s',
  400,
);

// Jobs and scripts: CouchDB refused some of a batch, a run failed in part, a run was stopped
export const CouchWriteFailed = createError<'SAWA_COUCH_WRITE_FAILED', 502, [string]>(
  'SAWA_COUCH_WRITE_FAILED',
  '%s',
  502,
);
export const UnknownJob = createError<'SAWA_UNKNOWN_JOB', 404, [string, string]>(
  'SAWA_UNKNOWN_JOB',
  'no job %s; jobs: %s',
  404,
);
export const JobFailed = createError<'SAWA_JOB_FAILED', 500, [string]>(
  'SAWA_JOB_FAILED',
  '%s',
  500,
);
export const Interrupted = createError<'SAWA_INTERRUPTED', 503, [string]>(
  'SAWA_INTERRUPTED',
  '%s interrupted: run it again to finish',
  503,
);

// Backups
export const BackupNotFound = createError<'SAWA_BACKUP_NOT_FOUND', 404, [string]>(
  'SAWA_BACKUP_NOT_FOUND',
  '%s',
  404,
);
export const BackupExists = createError<'SAWA_BACKUP_EXISTS', 409, [string]>(
  'SAWA_BACKUP_EXISTS',
  'a backup set named %s already exists',
  409,
);
export const BackupInvalid = createError<'SAWA_BACKUP_INVALID', 422, [string]>(
  'SAWA_BACKUP_INVALID',
  '%s',
  422,
);

// Sync rules and design documents, checked at build and start-up
export const DesignDocSourceInvalid = createError<'SAWA_DESIGN_DOC_SOURCE', 500, [string]>(
  'SAWA_DESIGN_DOC_SOURCE',
  '%s',
  500,
);
export const InstallIncomplete = createError<'SAWA_INSTALL_INCOMPLETE', 500, [string]>(
  'SAWA_INSTALL_INCOMPLETE',
  '%s not found: the installation is incomplete',
  500,
);

// CouchDB answered something Sawa cannot read (e.g. a sequence in an unknown encoding)
export const UnexpectedCouchData = createError<'SAWA_COUCH_UNEXPECTED', 502, [string]>(
  'SAWA_COUCH_UNEXPECTED',
  '%s',
  502,
);

// The client left before the answer was done: nobody to answer (nginx's 499)
export const ClientGone = createError('SAWA_CLIENT_GONE', 'the phone went away', 499);

// A broken promise inside Sawa: a bug to report, never the client's fault
export const Internal = createError<'SAWA_INTERNAL', 500, [string]>('SAWA_INTERNAL', '%s', 500);

// The field app (/app/)
export const AppUnavailable = createError(
  'SAWA_APP_UNAVAILABLE',
  'the field app could not be built: the service log says why',
  503,
);

// Data protection (/me/export, /admin/subjects/…, /admin/audit)
export const StaffRequired = createError(
  'SAWA_STAFF_REQUIRED',
  'this route needs the admin role, or supervisor of a team the person belongs to',
  403,
);
export const SubjectNotFound = createError<'SAWA_SUBJECT_NOT_FOUND', 404, [string]>(
  'SAWA_SUBJECT_NOT_FOUND',
  'no user named %s',
  404,
);
export const ReasonRequired = createError(
  'SAWA_REASON_REQUIRED',
  'say why in the body (reason): the audit log keeps it',
  400,
);
export const AuditCursorInvalid = createError(
  'SAWA_AUDIT_CURSOR_INVALID',
  'cursor must be the next_cursor of an earlier page',
  400,
);

/**
 * A failed CouchDB request, stripped to what is safe to log. nano's own errors carry the
 * request, body included (a user document holds a password hash), so they never leave the
 * module that made the call.
 */
export class CouchRequestError extends Error {
  constructor(
    readonly statusCode: number | undefined,
    readonly couchError: string | undefined,
    readonly reason: string | undefined,
  ) {
    super(
      `CouchDB request failed: ${statusCode ?? 'no response'} ${couchError ?? ''} ${reason ?? ''}`.trim(),
    );
    this.name = 'CouchRequestError';
  }
}

/** The HTTP status of a nano or CouchRequestError error, if CouchDB answered. */
export function couchStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Turns whatever nano threw into a CouchRequestError (anything else passes through). */
export function cleanCouchError(err: unknown): Error {
  if (err instanceof CouchRequestError) return err;
  const e = err as { scope?: unknown; error?: unknown; reason?: unknown; message?: unknown } | null;
  if (e && (e.scope === 'couch' || typeof e.error === 'string')) {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return new CouchRequestError(couchStatus(err), str(e.error), str(e.reason) ?? str(e.message));
  }
  // nano's wording when no response came back at all (refused, reset, DNS).
  if (err instanceof Error && err.message.startsWith('error happened in your connection')) {
    return new CouchRequestError(undefined, 'unreachable', err.message);
  }
  return err instanceof Error ? err : new Error(String(err));
}

// Provider callbacks: a wrong path secret reads as no such route; a refused address as 403
export const CallbackUnknown = createError('SAWA_CALLBACK_UNKNOWN', 'no such callback', 404);
export const CallbackForbidden = createError(
  'SAWA_CALLBACK_FORBIDDEN',
  'callbacks are not accepted from this address',
  403,
);

// Encrypted backups: a missing, malformed or wrong BACKUP_ENCRYPTION_KEY, or a changed file
export const BackupKeyInvalid = createError<'SAWA_BACKUP_KEY', 422, [string]>(
  'SAWA_BACKUP_KEY',
  '%s',
  422,
);

// Sign-in by SMS: a wrong, expired, used or exhausted code all read alike
export const CodeInvalid = createError(
  'SAWA_CODE_INVALID',
  'wrong or expired code: ask for a new one',
  401,
);
export const PhoneInvalid = createError(
  'SAWA_PHONE_INVALID',
  'not a phone number: use +255712345678 or 0712345678',
  400,
);
