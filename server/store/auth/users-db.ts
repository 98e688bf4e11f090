import { CouchError } from '../errors.js';
import { isDbAdmin, type SecurityObject } from '../security.js';
import { hashPassword } from './passwords.js';
import { isServerAdmin, type UserCtx } from '../user-ctx.js';

/**
 * CouchDB's authentication database rules as pure functions. CouchDB enforces
 * them in two layers, kept apart here in the same order because the order
 * decides which error a caller sees:
 *  1. couch_users_db:before_doc_update (Erlang, runs first): a named
 *     non-admin touching another user's document gets 404; a `password`
 *     field is hashed away.
 *  2. the `_design/_auth` validate_doc_update (couch_js_functions.hrl): the
 *     shape of a user document and who may change what, all 403 `forbidden`.
 * Reads go through couch_users_db:after_doc_read.
 */

export const USERS_DB = '_users';
export const USER_DOC_PREFIX = 'org.couchdb.user:';
export const AUTH_DDOC_ID = '_design/_auth';

/**
 * `_users`' security as CouchDB 3 sets it: server admins only, so nobody signs up by writing
 * a user document, and nobody but Sawa can authenticate under the name of a Sawa user (who
 * is not in `_users`) and then enter that user's database.
 */
export const USERS_SECURITY = {
  members: { roles: ['_admin'] },
  admins: { roles: ['_admin'] },
};

export const userDocId = (name: string): string => USER_DOC_PREFIX + name;

/** The user name an `_id` stands for, or undefined when it is no user document id. */
export function userNameFromId(id: unknown): string | undefined {
  return typeof id === 'string' && id.startsWith(USER_DOC_PREFIX)
    ? id.slice(USER_DOC_PREFIX.length)
    : undefined;
}

type UsersDbCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'not_found';

export class UsersDbError extends CouchError {
  constructor(status: 400 | 401 | 403 | 404, error: UsersDbCode, reason: string) {
    super(status, error, reason);
    this.name = 'UsersDbError';
  }
}

const forbid = (reason: string): never => {
  throw new UsersDbError(403, 'forbidden', reason);
};
/** CouchDB's bare `throw(not_found)`, rendered by chttpd as reason "missing". */
const missing = () => new UsersDbError(404, 'not_found', 'missing');

export type UserDoc = Record<string, unknown>;

export interface UsersDbOptions {
  /** The `_users` database's security object: its admins count as admins here, as in CouchDB. */
  security?: SecurityObject;
}

export interface UsersWriteOptions extends UsersDbOptions {
  /** `[chttpd_auth] iterations` for passwords hashed on write. */
  iterations: number;
  /** `[chttpd_auth] pbkdf2_prf`; sha256 by default as in CouchDB 3.4+. */
  prf?: 'sha256' | 'sha1';
}

const isAdmin = (ctx: UserCtx, security: SecurityObject | undefined): boolean =>
  isServerAdmin(ctx) || (security !== undefined && isDbAdmin(security, ctx));

const isDesignId = (id: unknown) => typeof id === 'string' && id.startsWith('_design/');
const isLocalId = (id: unknown) => typeof id === 'string' && id.startsWith('_local/');

/**
 * The document to store for a write to `_users`, or a UsersDbError saying why
 * CouchDB would refuse it. `oldDoc` is the current revision (null for a new
 * document; a deleted one counts as none, as CouchDB validates a re-creation
 * against nothing). Never mutates its arguments.
 */
export async function prepareUserDocWrite(
  newDoc: UserDoc,
  oldDoc: UserDoc | null,
  ctx: UserCtx,
  opts: UsersWriteOptions,
): Promise<UserDoc> {
  const id = newDoc['_id'];
  // Local documents skip both layers in CouchDB (couch_db:before_docs_update).
  if (isLocalId(id)) return { ...newDoc };
  const admin = isAdmin(ctx, opts.security);
  if (isDesignId(id)) {
    if (admin) return { ...newDoc };
    // before_doc_update finds no user name in a design doc id, so a named caller gets 404;
    // anonymous ones reach couch_db's design-doc check.
    if (ctx.name !== null) throw missing();
    throw new UsersDbError(401, 'unauthorized', 'You are not a db or server admin.');
  }
  // An anonymous caller may be signing up: CouchDB lets the validate function decide.
  if (!admin && ctx.name !== null && ctx.name !== userNameFromId(id)) throw missing();
  const stored = await hashPasswordField(newDoc, opts);
  const previous = oldDoc !== null && oldDoc['_deleted'] !== true ? oldDoc : null;
  validateUserDoc(stored, previous, ctx, opts.security);
  return stored;
}

// Every field a password change replaces (couch_users_db:remove_password_fields).
const PASSWORD_FIELDS = new Set([
  'derived_key',
  'iterations',
  'password',
  'password_scheme',
  'password_sha',
  'preserve_salt',
  'pbkdf2_prf',
  'salt',
]);

// Erlang's ~p would print the term; JSON is the closest reading of it.
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/**
 * couch_users_db:save_doc: a string `password` becomes `password_scheme`,
 * `pbkdf2_prf`, `salt`, `iterations` and `derived_key`, dropping every older
 * password field; `password: null` (or none) leaves the document as it is.
 * `preserve_salt: true` keeps the given salt, so a hash upgrade does not end
 * the user's sessions.
 */
async function hashPasswordField(doc: UserDoc, opts: UsersWriteOptions): Promise<UserDoc> {
  const password = doc['password'];
  if (password === undefined || password === null) return { ...doc };
  if (typeof password !== 'string') forbid(`Password value of '${show(password)}' is invalid.`);
  let salt: string | undefined;
  if (doc['preserve_salt'] === true && doc['salt'] !== undefined) {
    if (typeof doc['salt'] !== 'string') forbid(`Salt value of '${show(doc['salt'])}' is invalid.`);
    salt = doc['salt'] as string;
  }
  const hashed = await hashPassword(password as string, {
    iterations: opts.iterations,
    prf: opts.prf,
    salt,
  });
  // Metadata first, then the hash fields, then the body: the order CouchDB writes them in.
  const entries = Object.entries(doc).filter(([k]) => !PASSWORD_FIELDS.has(k));
  return Object.fromEntries([
    ...entries.filter(([k]) => k.startsWith('_')),
    ...Object.entries(hashed),
    ...entries.filter(([k]) => !k.startsWith('_')),
  ]);
}

const SCHEMES = ['simple', 'pbkdf2'];

/**
 * The `_design/_auth` validate_doc_update of CouchDB 3.x, rule for rule and
 * reason for reason. Throws UsersDbError (403) or returns. `oldDoc` null
 * means a new document.
 */
export function validateUserDoc(
  newDoc: UserDoc,
  oldDoc: UserDoc | null,
  ctx: UserCtx,
  security?: SecurityObject,
): void {
  if (newDoc['_deleted'] === true) {
    // Only the `_admin` role here, not database admins: CouchDB's function checks just that.
    if (isServerAdmin(ctx)) return;
    const owner = oldDoc?.['name'];
    if (oldDoc !== null && (ctx.name === null ? owner == null : owner === ctx.name)) return;
    forbid('Only admins may delete other user docs.');
  }
  if (newDoc['type'] !== 'user') forbid('doc.type must be user');
  const name = newDoc['name'];
  if (!name) forbid('doc.name is required');
  const roles = newDoc['roles'];
  if (!roles) forbid('doc.roles must exist');
  if (!Array.isArray(roles)) forbid('doc.roles must be an array');
  const roleList = roles as unknown[];
  if (roleList.some((r) => typeof r !== 'string')) forbid('doc.roles can only contain strings');
  // A name that is not a string cannot spell a user id (CouchDB would fail later, less clearly).
  if (typeof name !== 'string' || newDoc['_id'] !== userDocId(name)) {
    forbid('Doc ID must be of the form org.couchdb.user:name');
  }
  const userName = name as string;
  if (oldDoc !== null && oldDoc['name'] !== userName) forbid('Usernames can not be changed.');
  if (newDoc['password_sha'] && !newDoc['salt']) {
    // Sic: CouchDB's message has no space after the first sentence.
    forbid(
      'Users with password_sha must have a salt.See /_utils/script/couch.js for example code.',
    );
  }
  const scheme = newDoc['password_scheme'];
  if (scheme && !SCHEMES.includes(scheme as string)) {
    forbid(`Password scheme \`${String(scheme)}\` not supported.`);
  }
  if (scheme === 'pbkdf2') {
    if (typeof newDoc['iterations'] !== 'number') forbid('iterations must be a number.');
    if (typeof newDoc['derived_key'] !== 'string') forbid('derived_key must be a string.');
  }
  if (!isAdmin(ctx, security)) checkNonAdminChange(roleList as string[], oldDoc, ctx, userName);
  for (const role of roleList as string[]) {
    if (role !== '_metrics' && role.startsWith('_')) {
      forbid('No system roles (starting with underscore) in users db.');
    }
  }
  if (userName.startsWith('_')) forbid('Username may not start with underscore.');
  if (userName.includes(':')) forbid('Character `:` is not allowed in usernames.');
}

/** What a user who is no admin may do: sign up with no roles, or edit their own doc leaving roles alone. */
function checkNonAdminChange(
  roles: string[],
  oldDoc: UserDoc | null,
  ctx: UserCtx,
  name: string,
): void {
  if (oldDoc === null) {
    if (roles.length > 0) forbid('Only _admin may set roles');
    return;
  }
  if (ctx.name !== name) forbid('You may only update your own user document.');
  const before = Array.isArray(oldDoc['roles']) ? [...(oldDoc['roles'] as unknown[])].sort() : [];
  const after = [...roles].sort();
  if (before.length !== after.length || before.some((r, i) => r !== after[i])) {
    forbid('Only _admin may edit roles');
  }
}

export interface UsersReadOptions extends UsersDbOptions {
  /** `[chttpd_auth] public_fields`: body fields anyone allowed into `_users` may read. */
  publicFields?: readonly string[];
}

/**
 * couch_users_db:after_doc_read: admins read everything; a user reads their
 * own document whole; anyone else sees only the public fields (with the
 * document's `_id`/`_rev` metadata), and a document with none of them is 404.
 * Design documents are for admins (403). Returns the document to send.
 */
export function filterUserDocRead(
  doc: UserDoc,
  ctx: UserCtx,
  opts: UsersReadOptions = {},
): UserDoc {
  const admin = isAdmin(ctx, opts.security);
  if (isDesignId(doc['_id'])) {
    if (admin) return doc;
    throw new UsersDbError(
      403,
      'forbidden',
      'Only administrators can view design docs in the users database.',
    );
  }
  if (admin) return doc;
  if (ctx.name !== null && ctx.name === userNameFromId(doc['_id'])) return doc;
  const allowed = new Set(opts.publicFields ?? []);
  const kept = Object.entries(doc).filter(([k]) => k.startsWith('_') || allowed.has(k));
  if (!kept.some(([k]) => !k.startsWith('_'))) throw missing();
  return Object.fromEntries(kept);
}

/**
 * chttpd_auth_request: listing `_users` (`_all_docs`, `_changes`), creating or
 * deleting it are for server admins only, whatever its `_security` says (db
 * admins included). `rest` is the path after the database name.
 */
export function requiresServerAdmin(method: string, rest: readonly string[]): boolean {
  if (rest.length === 0) return method === 'PUT' || method === 'DELETE';
  return rest[0] === '_all_docs' || rest[0] === '_changes';
}

/** couch_httpd:verify_is_server_admin answers 401 to everyone, named users too. */
export const notServerAdmin = (): UsersDbError =>
  new UsersDbError(401, 'unauthorized', 'You are not a server admin.');

/** `[couchdb] users_db_security_editable = false` (the default) locks `_users/_security`. */
export const securityNotEditable = (): UsersDbError =>
  new UsersDbError(403, 'forbidden', "You can't edit the security object of the user database.");
