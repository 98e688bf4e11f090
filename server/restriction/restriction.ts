import type Nano from 'nano';
import { cleanCouchError, couchStatus } from '../errors.js';

/**
 * Restriction of processing (PDPA: a person contests their data or its use): while a
 * restriction stands, Sawa sends no SMS, makes no payment and counts nothing of the person
 * in reports. One document per person in PRIVACY_DB, `restriction:<name>`; lifting it
 * deletes the document (the audit log keeps the history).
 *
 * The integrations and jobs ask `isRestricted()` before they act for a person.
 */

export interface Restriction {
  subject: string;
  reason: string;
  since: string;
  by: string;
}

const docId = (name: string) => `restriction:${name}`;
const ensured = new WeakMap<Nano.ServerScope, Set<string>>();

async function ensureDb(nano: Nano.ServerScope, db: string): Promise<void> {
  const seen = ensured.get(nano) ?? new Set<string>();
  ensured.set(nano, seen);
  if (seen.has(db)) return;
  try {
    await nano.db.create(db);
  } catch (err) {
    if (couchStatus(err) !== 412) throw cleanCouchError(err);
  }
  seen.add(db);
}

export async function getRestriction(
  nano: Nano.ServerScope,
  db: string,
  name: string,
): Promise<(Restriction & { _rev: string }) | null> {
  try {
    return (await nano.use<Restriction>(db).get(docId(name))) as Restriction & { _rev: string };
  } catch (err) {
    if (couchStatus(err) === 404) return null;
    throw cleanCouchError(err);
  }
}

/** True while processing of the person's data is restricted. `db` is the PRIVACY_DB setting. */
export async function isRestricted(
  nano: Nano.ServerScope,
  db: string,
  name: string,
): Promise<boolean> {
  return (await getRestriction(nano, db, name)) !== null;
}

/** Sets (or replaces the reason of) a restriction; returns it as stored. */
export async function restrict(
  nano: Nano.ServerScope,
  db: string,
  r: Omit<Restriction, 'since'>,
): Promise<Restriction> {
  await ensureDb(nano, db);
  for (let attempt = 0; ; attempt++) {
    const current = await getRestriction(nano, db, r.subject);
    const doc: Restriction = { ...r, since: current?.since ?? new Date().toISOString() };
    try {
      await nano
        .use<Restriction>(db)
        .insert({ ...doc, ...(current ? { _rev: current._rev } : {}) }, docId(r.subject));
      return doc;
    } catch (err) {
      if (couchStatus(err) !== 409 || attempt > 5) throw cleanCouchError(err);
    }
  }
}

/** Lifts a restriction; false when there was none. */
export async function lift(nano: Nano.ServerScope, db: string, name: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const current = await getRestriction(nano, db, name);
    if (!current) return false;
    try {
      await nano.use(db).destroy(docId(name), current._rev);
      return true;
    } catch (err) {
      if (couchStatus(err) !== 409 || attempt > 5) throw cleanCouchError(err);
    }
  }
}

/** Every person whose processing is restricted now (an empty set when PRIVACY_DB does not exist). */
export async function restrictedSubjects(nano: Nano.ServerScope, db: string): Promise<Set<string>> {
  const out = new Set<string>();
  const prefix = docId('');
  let startkey = prefix;
  let skip = 0;
  for (;;) {
    let rows: Array<{ id: string }>;
    try {
      ({ rows } = await nano
        .use(db)
        .list({ startkey, endkey: `${prefix}\ufff0`, limit: 500, skip }));
    } catch (err) {
      if (couchStatus(err) === 404) return out;
      throw cleanCouchError(err);
    }
    for (const r of rows) out.add(r.id.slice(prefix.length));
    if (rows.length < 500) return out;
    startkey = rows[rows.length - 1]!.id;
    skip = 1;
  }
}

/**
 * What an integration worker calls once per run: `check(name)` answers whether processing of
 * that person is restricted, asking CouchDB at most once per person per run. A worker holds
 * (does not send, does not fail) what it would do for a restricted person, and acts on it in
 * a later run once the restriction is lifted. `db` is the PRIVACY_DB setting.
 */
export function restrictionCheck(
  nano: Nano.ServerScope,
  db: string,
): (name: string) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>();
  return (name) => {
    let answer = seen.get(name);
    if (!answer) {
      answer = isRestricted(nano, db, name);
      // A failed look-up is asked again next time, not remembered.
      answer.catch(() => seen.delete(name));
      seen.set(name, answer);
    }
    return answer;
  };
}

/** The `reason` a held request carries (the payment's status shows it to the agent). */
export const HELD_REASON = 'held: processing of this person’s data is restricted; nothing was sent';
