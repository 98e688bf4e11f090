import type { UserCtx } from './user-ctx.js';
import type { SecurityObject } from './security.js';

/** What the steps of the store's write path (writes.ts and its helpers) share. */

export type Doc = Record<string, unknown>;

export interface WriteOptions {
  newEdits: boolean;
  userCtx: UserCtx;
  dbAdmin: boolean;
  maxDocBytes: number;
  security: SecurityObject;
  /** Hook for databases with rules of their own (`_users`): may rewrite the doc or throw a CouchError. */
  prepare?: (doc: Doc, oldDoc: Doc | null) => Promise<Doc>;
}
