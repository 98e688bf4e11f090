import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';
import { ensureDesignDocs } from '../provisioning/steps.js';
import { designDocVersion, type DesignDoc } from '../rules/index.js';
import { isSawaDesignDoc, SAWA_DDOC_RANGE } from './fleet.js';

/**
 * One database of a rollout: read the design documents it holds (one request), install those
 * behind the build, remove Sawa's own ones the build no longer has. A database already at the
 * build gets no write at all, so its `_rev`s and update sequence stay as they were.
 */

type StoredDoc = Record<string, unknown> & { _id: string; _rev: string };

export interface DatabasePlan {
  /** Design documents to install: missing, at another version, or edited by hand. */
  install: DesignDoc[];
  /** Sawa's design documents the build no longer has. */
  remove: Array<{ id: string; rev: string }>;
}

/** What the database holds against what it should: no writes. Null when it no longer exists. */
export async function planDatabase(
  nano: Nano.ServerScope,
  db: string,
  wanted: readonly DesignDoc[],
  opts: { prune: boolean },
): Promise<DatabasePlan | null> {
  const stored = await storedDesignDocs(nano, db, wanted);
  if (!stored) return null;
  const install = wanted.filter((want) => !isCurrent(stored.get(want._id), want));
  const wantedIds = new Set(wanted.map((d) => d._id));
  const remove = opts.prune
    ? [...stored.values()]
        .filter((doc) => isSawaDesignDoc(doc._id) && !wantedIds.has(doc._id))
        // A build `version` marks what a Sawa deploy installed; anything else is left alone.
        .filter((doc) => typeof doc.version === 'string')
        .map((doc) => ({ id: doc._id, rev: doc._rev }))
    : [];
  return { install, remove };
}

/** Carries out a plan: new design documents first, so validation never lapses. */
export async function applyPlan(
  nano: Nano.ServerScope,
  db: string,
  plan: DatabasePlan,
): Promise<string[]> {
  const changes = await ensureDesignDocs(nano, db, plan.install);
  for (const { id, rev } of plan.remove) {
    if (await removeDesignDoc(nano.use(db), id, rev)) changes.push(`removed ${db}/${id}`);
  }
  return changes;
}

/** What a plan would change, worded as applyPlan words what it did. */
export function describePlan(db: string, plan: DatabasePlan): string[] {
  return [
    ...plan.install.map((d) => `would install ${db}/${d._id} ${d.version.slice(0, 12)}`),
    ...plan.remove.map((r) => `would remove ${db}/${r.id}`),
  ];
}

/** The same test ensureDesignDocs applies: the version, and the content hashing to it. */
function isCurrent(stored: StoredDoc | undefined, want: DesignDoc): boolean {
  return !!stored && stored.version === want.version && designDocVersion(stored) === want.version;
}

/**
 * Sawa's design documents in the database, by id: one `_all_docs` range over the Sawa
 * namespace (which holds every wanted document today), plus a `keys` request only for wanted
 * documents named outside it. Other design documents are never fetched.
 */
async function storedDesignDocs(
  nano: Nano.ServerScope,
  db: string,
  wanted: readonly DesignDoc[],
): Promise<Map<string, StoredDoc> | null> {
  type Rows = { rows: Array<{ id?: string; doc?: StoredDoc | null }> };
  try {
    const owned = (await nano.request({
      db,
      path: '_all_docs',
      qs: { ...SAWA_DDOC_RANGE, include_docs: true },
    })) as Rows;
    const others = wanted.map((d) => d._id).filter((id) => !isSawaDesignDoc(id));
    const extra: Rows = others.length
      ? ((await nano.request({
          db,
          path: '_all_docs',
          method: 'POST',
          qs: { include_docs: true },
          body: { keys: others },
        })) as Rows)
      : { rows: [] };
    const docs = [...owned.rows, ...extra.rows].flatMap((r) => (r.doc ? [r.doc] : []));
    return new Map(docs.map((d) => [d._id, d]));
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

/** Deletes the design document; true when this call deleted it. Retries once per conflict. */
async function removeDesignDoc(
  scope: Nano.DocumentScope<unknown>,
  id: string,
  rev: string,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await scope.destroy(id, rev);
      return true;
    } catch (err) {
      const status = couchStatus(err);
      if (status === 404) return false;
      if (status !== 409 || attempt >= 5) throw cleanCouchError(err);
      // Rewritten since we read it: delete whatever now stands, if it still carries a version.
      const current = await scope.get(id).catch((e: unknown) => {
        if (couchStatus(e) === 404) return null;
        throw cleanCouchError(e);
      });
      if (!current || typeof (current as { version?: unknown }).version !== 'string') return false;
      rev = current._rev;
    }
  }
}
