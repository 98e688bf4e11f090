/** The embedded store's authentication building blocks; the HTTP layer wires them to requests. */
export { ADMIN_ROLE, anonymous, isServerAdmin, type UserCtx } from '../user-ctx.js';
export { BasicAuthError, parseBasicAuth, type BasicCredentials } from './basic.js';
export {
  PasswordError,
  VerifiedCache,
  hashPassword,
  newSalt,
  pbkdf2Hex,
  simpleHash,
  verifyPassword,
  type HashOptions,
  type HashedPassword,
  type Pbkdf2Prf,
  type VerifyOptions,
} from './passwords.js';
export {
  AUTH_DDOC_ID,
  USERS_DB,
  USER_DOC_PREFIX,
  UsersDbError,
  filterUserDocRead,
  notServerAdmin,
  prepareUserDocWrite,
  requiresServerAdmin,
  securityNotEditable,
  userDocId,
  userNameFromId,
  validateUserDoc,
  type UserDoc,
  type UsersDbOptions,
  type UsersReadOptions,
  type UsersWriteOptions,
} from './users-db.js';
export {
  COOKIE_HASHES,
  SESSION_COOKIE,
  SessionCookieError,
  clearCookieHeader,
  mintSessionCookie,
  readSessionCookie,
  sessionCookieFromHeader,
  setCookieHeader,
  type CookieAttributes,
  type CookieHash,
  type MintOptions,
  type ReadOptions,
  type Session,
  type SessionUser,
} from './session.js';
export {
  PROXY_HEADERS,
  ProxyAuthError,
  proxyAuthHeaders,
  proxyToken,
  readProxyAuth,
  type HeaderBag,
  type ProxyAuthOptions,
} from './proxy.js';
