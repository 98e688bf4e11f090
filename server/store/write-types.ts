import type { UserCtx } from './user-ctx.js';
import type { SecurityObject } from './security.js';

/** What the store's one write path takes and gives back (writes.ts). */
export type WriteResult =
  | { ok: true; id: string; rev: string }
  | { id: string; rev?: string; error: string; reason: string };

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
