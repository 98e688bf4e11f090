/**
 * The reference rollups, for the reference sync rules (sync-rules/): what the aggregator keeps
 * of each source document (its facts) and which buckets a document counts in. A deployment
 * with other document types replaces this file; the machinery around it stays.
 *
 * Every bucket is keyed [report, scope, day, ...dimensions] and valued [count, amount].
 */

export const REPORTS = {
  visits: ['district', 'activity'],
  farmers: ['district'],
  payments: ['provider', 'status'],
} as const;

export type ReportName = keyof typeof REPORTS;
export const REPORT_NAMES = Object.keys(REPORTS) as ReportName[];

/** A district for visits whose farmer is not (or not yet) in the same database. */
export const UNKNOWN_DISTRICT = '(unknown)';
/** The status of a payment request no payment_status document answers yet. */
export const PENDING = 'pending';

/** Only what the rollups need: small, and no personal data beyond a district. */
export type Facts =
  | { type: 'farmer'; day: string; district: string }
  | { type: 'visit'; day: string; activity: string; farmer_id: string }
  | { type: 'payment_request'; day: string; provider: string; amount: number }
  | { type: 'payment_status'; request_id: string; status: string; updated_at: string };

export type BucketKey = [ReportName, string, string, ...string[]];
/** [count, amount]: amount is integer shillings for payments, 0 elsewhere. */
export type BucketValue = [number, number];

export interface Share {
  key: BucketKey;
  value: BucketValue;
}

/** What resolving a document may look up: other documents of the same database, by their facts. */
export interface Lookup {
  facts(id: string): Facts | null;
  /** The documents whose `link` is `id`. */
  linkers(id: string): Array<{ id: string; facts: Facts }>;
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The local calendar day the phone wrote (as design-docs/fleet/sawa/views/by_type_and_date does). */
function day(value: unknown): string | null {
  return str(value) && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : null;
}

/** The facts of a source document, or null when it counts nowhere (other types, bad shapes). */
export function factsOf(doc: Record<string, unknown>): Facts | null {
  switch (doc.type) {
    case 'farmer': {
      const d = day(doc.created_at);
      return d && str(doc.district) ? { type: 'farmer', day: d, district: doc.district } : null;
    }
    case 'visit': {
      const d = day(doc.visited_at);
      return d && str(doc.activity) && str(doc.farmer_id)
        ? { type: 'visit', day: d, activity: doc.activity, farmer_id: doc.farmer_id }
        : null;
    }
    case 'payment_request': {
      const d = day(doc.created_at);
      const amount = doc.amount;
      return d && str(doc.provider) && Number.isSafeInteger(amount)
        ? { type: 'payment_request', day: d, provider: doc.provider, amount: amount as number }
        : null;
    }
    case 'payment_status':
      return str(doc.request_id) && str(doc.status)
        ? {
            type: 'payment_status',
            request_id: doc.request_id,
            status: doc.status,
            updated_at: str(doc.updated_at) ? doc.updated_at : '',
          }
        : null;
    default:
      return null;
  }
}

/** The document of the same database these facts depend on or point at. */
export function linkOf(facts: Facts): string | undefined {
  if (facts.type === 'visit') return facts.farmer_id;
  if (facts.type === 'payment_status') return facts.request_id;
  return undefined;
}

/**
 * Documents whose buckets a change to a document with these facts (before or after) can move,
 * besides itself and the documents linking to it: a status moves its request.
 */
export function targetsOf(facts: Facts | null): string[] {
  return facts?.type === 'payment_status' ? [facts.request_id] : [];
}

/** The buckets a document counts in, a pure function of its facts and what it looks up. */
export function sharesOf(scope: string, id: string, facts: Facts, lookup: Lookup): Share[] {
  switch (facts.type) {
    case 'farmer':
      return [{ key: ['farmers', scope, facts.day, facts.district], value: [1, 0] }];
    case 'visit': {
      const farmer = lookup.facts(facts.farmer_id);
      const district = farmer?.type === 'farmer' ? farmer.district : UNKNOWN_DISTRICT;
      return [{ key: ['visits', scope, facts.day, district, facts.activity], value: [1, 0] }];
    }
    case 'payment_request': {
      const status = latestStatus(lookup.linkers(id));
      return [
        { key: ['payments', scope, facts.day, facts.provider, status], value: [1, facts.amount] },
      ];
    }
    case 'payment_status':
      return [];
  }
}

/** The newest status (by updated_at, then id, so any order of the same inputs agrees), or pending. */
function latestStatus(linkers: Array<{ id: string; facts: Facts }>): string {
  let best: { id: string; updated_at: string; status: string } | null = null;
  for (const { id, facts } of linkers) {
    if (facts.type !== 'payment_status') continue;
    const cand = { id, updated_at: facts.updated_at, status: facts.status };
    if (
      !best ||
      cand.updated_at > best.updated_at ||
      (cand.updated_at === best.updated_at && cand.id > best.id)
    ) {
      best = cand;
    }
  }
  return best?.status ?? PENDING;
}
