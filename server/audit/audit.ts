import { randomBytes } from 'node:crypto';
import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * The audit log: one CouchDB database (AUDIT_DB) of entries that are only ever added. Its
 * design document's validate_doc_update refuses any write to an existing id and any
 * deletion, so no route, job or CouchDB client can change or remove an entry. (A CouchDB
 * server admin can still `_purge` or replace the design document: docs/data-protection.md
 * says how an operator watches for that.) Ids start with the time, so `_all_docs` lists the
 * log in order without a view.
 */

export const AUDIT_DDOC = '_design/audit';

/** Refuses updates and deletions. Kept as a string: CouchDB and the embedded store both run it. */
export const AUDIT_VALIDATE = `function (newDoc, oldDoc, userCtx) {
  if (oldDoc || newDoc._deleted) {
    throw({ forbidden: 'the audit log is append-only: entries cannot be changed or deleted' });
  }
  if (typeof newDoc.at !== 'string' || typeof newDoc.action !== 'string') {
    throw({ forbidden: 'an audit entry needs at and action' });
  }
}`;

export interface AuditEntry {
  /** ISO time of the event. */
  at: string;
  /** Who acted: a user name, or `system` for a job or script. */
  actor: string;
  actor_roles: string[];
  /** What happened: `access` (a staff read or change through a route), `export`, `erase`, `restrict`, … */
  action: string;
  /** Whose personal data, when one person's. */
  subject: string | null;
  /** Why, as the staff member gave it (X-Sawa-Reason header or a body's reason). */
  reason: string | null;
  /** From where: the client address Fastify saw. */
  ip: string | null;
  method?: string;
  /** The route's pattern (`/admin/users/:name`), never its values. */
  route?: string;
  status?: number;
  /** Counts and names of what was done; never personal data itself. */
  detail?: Record<string, unknown>;
}

export type StoredEntry = AuditEntry & { _id: string };

export interface AuditFilter {
  actor?: string;
  subject?: string;
  action?: string;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
}

export interface AuditPage {
  entries: StoredEntry[];
  /** Pass back as `cursor` for the next (older) page; null at the end. */
  next_cursor: string | null;
}

export interface AuditLog {
  ready(): Promise<void>;
  record(entry: Omit<AuditEntry, 'at'> & { at?: string }): Promise<string>;
  /** Newest first. */
  list(filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage>;
}

const entryId = (at: string) => `${at}:${randomBytes(6).toString('hex')}`;

export function matches(e: AuditEntry, f: AuditFilter): boolean {
  return (
    (f.actor === undefined || e.actor === f.actor) &&
    (f.subject === undefined || e.subject === f.subject) &&
    (f.action === undefined || e.action === f.action)
  );
}

export function createAuditLog(nano: Nano.ServerScope, dbName: string): AuditLog {
  const db = nano.use<AuditEntry>(dbName);
  let readiness: Promise<void> | undefined;

  async function install(): Promise<void> {
    try {
      await nano.db.create(dbName);
    } catch (err) {
      if (couchStatus(err) !== 412) throw cleanCouchError(err);
    }
    const raw = nano.use<Record<string, unknown>>(dbName);
    let rev: string | undefined;
    try {
      const current = (await raw.get(AUDIT_DDOC)) as { _rev: string; validate_doc_update?: string };
      if (current.validate_doc_update === AUDIT_VALIDATE) return;
      rev = current._rev;
    } catch (err) {
      if (couchStatus(err) !== 404) throw cleanCouchError(err);
    }
    try {
      await raw.insert({
        _id: AUDIT_DDOC,
        ...(rev ? { _rev: rev } : {}),
        validate_doc_update: AUDIT_VALIDATE,
      });
    } catch (err) {
      // Another instance installed it at the same moment.
      if (couchStatus(err) !== 409) throw cleanCouchError(err);
    }
  }

  return {
    ready() {
      readiness ??= install().catch((err: unknown) => {
        readiness = undefined;
        throw err;
      });
      return readiness;
    },
    async record(entry) {
      await this.ready();
      const at = entry.at ?? new Date().toISOString();
      const _id = entryId(at);
      try {
        await db.insert({ ...entry, at }, _id);
      } catch (err) {
        throw cleanCouchError(err);
      }
      return _id;
    },
    async list(filter, limit, cursor) {
      await this.ready();
      const entries: StoredEntry[] = [];
      // Newest first: from `until` (or the cursor) down to `since`.
      let startkey = cursor ?? (filter.until ? `${filter.until}\uffff` : '\uffff');
      let skip = cursor ? 1 : 0;
      const endkey = filter.since ?? '';
      const batch = Math.min(1000, Math.max(100, limit * 4));
      for (;;) {
        let res: Nano.DocumentListResponse<AuditEntry>;
        try {
          res = await db.list({
            descending: true,
            startkey,
            endkey,
            skip,
            limit: batch,
            include_docs: true,
          });
        } catch (err) {
          throw cleanCouchError(err);
        }
        for (const row of res.rows) {
          if (row.id.startsWith('_design/')) continue;
          const doc = row.doc as StoredEntry | undefined;
          if (!doc) continue;
          if (!matches(doc, filter)) continue;
          const { _rev, ...rest } = doc as StoredEntry & { _rev?: string };
          void _rev;
          entries.push(rest);
          if (entries.length === limit) return { entries, next_cursor: row.id };
        }
        if (res.rows.length < batch) return { entries, next_cursor: null };
        startkey = res.rows[res.rows.length - 1]!.id;
        skip = 1;
      }
    },
  };
}
