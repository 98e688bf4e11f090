import type Nano from 'nano';
import { upsert } from '../../couch/upsert.js';
import { readViews, type View } from '../../rules/sources.js';
import { adminOnlySecurity } from '../../provisioning/security.js';
import { ensureDb, ensureSecurity } from '../../provisioning/steps.js';
import type { BucketKey, BucketValue, Facts, ReportName, Share } from './rollups.js';
import { REPORTS } from './rollups.js';

/**
 * The reporting database's documents (default `sawa-aggregates`):
 *
 * - `contribution:<db>:<doc id>`: one per source document that counts anywhere — its facts,
 *   the document it links to, and its share of each bucket. Moving a document between
 *   buckets rewrites this record; nothing is ever added to a total.
 * - `bucket:<key parts>`: a bucket's members (each counted document's share) and value, their
 *   sum, rewritten only when it changes (buckets.ts). Reports read these.
 * - `linkers:<db>:<doc id>`: the documents whose contribution links to that one (linkers.ts).
 * - `pending:<db>`: the aggregator's journal for a batch in progress: the documents and
 *   buckets it is about to touch, so a crash half-way is finished by the next run.
 */

export interface Contribution {
  kind: 'contribution';
  db: string;
  doc_id: string;
  facts: Facts;
  link?: string;
  buckets: Share[];
}

export interface Bucket {
  kind: 'bucket';
  report: ReportName;
  /** The source database: `userdb-…` or `team-…`. See docs/aggregates.md, "Scopes". */
  scope: string;
  day: string;
  dims: Record<string, string>;
  count: number;
  amount: number;
  /** The share of each source document counted here, by document id (buckets.ts). */
  members?: Record<string, BucketValue>;
}

export interface Pending {
  kind: 'pending';
  db: string;
  docs: string[];
  buckets: BucketKey[];
  /** Link targets whose linker index the batch re-sets (linkers.ts). */
  links?: string[];
}

export const DDOC = 'aggregates';

export const contributionId = (db: string, docId: string) => `contribution:${db}:${docId}`;
export const pendingId = (db: string) => `pending:${db}`;
/** Database names hold no `:`; each part is URI-encoded so any district or status fits. */
export const bucketId = (key: BucketKey) => 'bucket:' + key.map(encodeURIComponent).join(':');

export function bucketDoc(key: BucketKey, value: BucketValue): Bucket {
  const [report, scope, day, ...dims] = key;
  const names = REPORTS[report];
  return {
    kind: 'bucket',
    report,
    scope,
    day,
    dims: Object.fromEntries(names.map((n, i) => [n, dims[i] ?? ''])),
    count: value[0],
    amount: value[1],
  };
}

let designDoc: { _id: string; language: 'javascript'; views: Record<string, View> } | undefined;

/** `_design/aggregates`, from design-docs/aggregates/aggregates/ (one function per file). */
export function aggregatesDesignDoc() {
  designDoc ??= { _id: `_design/${DDOC}`, language: 'javascript', views: readViews(DDOC, DDOC) };
  return designDoc;
}

/**
 * Creates the reporting database (server admins only: the report routes read it for people)
 * and brings its security and design document up to date; safe on every run.
 */
export async function ensureAggregatesDb(nano: Nano.ServerScope, name: string): Promise<void> {
  await ensureDb(nano, name);
  await ensureSecurity(nano, name, adminOnlySecurity());
  const { _id, ...content } = aggregatesDesignDoc();
  await upsert<typeof content>(nano.use(name), _id, (cur) => {
    if (cur && JSON.stringify(cur.views) === JSON.stringify(content.views)) return false;
    return content;
  });
}
