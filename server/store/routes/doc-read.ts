import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { errors, toCouchError } from '../errors.js';
import { params } from '../http.js';
import { checkRev, revPath } from '../revs.js';
import type { Db } from '../pouch.js';
import type { Doc } from '../writes.js';

export type Leaf = { ok?: Doc; missing?: string };

/** A document query flag: CouchDB's document endpoints read `true` and ignore anything else. */
const flag = (req: FastifyRequest, key: string) => params.str(req, key) === 'true';

/**
 * `GET /db/doc` with CouchDB's read options (`rev`, `revs`, `revs_info`,
 * `conflicts`, `deleted_conflicts`, `meta`, `latest`, `attachments`,
 * `atts_since`, `local_seq`); `open_revs` is answered by {@link sendOpenRevs}.
 */
export async function readDoc(req: FastifyRequest, db: Db, id: string): Promise<Doc> {
  const meta = flag(req, 'meta');
  const latest = flag(req, 'latest');
  const opts: Record<string, unknown> = {
    revs: flag(req, 'revs'),
    revs_info: flag(req, 'revs_info') || meta,
    conflicts: flag(req, 'conflicts') || meta,
    attachments: flag(req, 'attachments'),
    local_seq: flag(req, 'local_seq'),
  };
  const rev = params.str(req, 'rev');
  // With `latest` CouchDB opens the winning revision whatever `rev` says.
  if (rev !== undefined && !latest) opts.rev = checkRev(rev);
  const attsSince = params.json(req, 'atts_since');
  if (attsSince !== undefined) {
    if (!Array.isArray(attsSince))
      throw errors.badRequest('atts_since must be a JSON array of revisions');
    attsSince.forEach(checkRev);
    opts.revs = true;
    opts.attachments = true;
  }
  const doc = (await db.get(id, opts as never).catch((e) => {
    throw toCouchError(e);
  })) as unknown as Doc;
  if (flag(req, 'deleted_conflicts') || meta) {
    const deleted = await deletedConflicts(db, id, doc._rev as string);
    if (deleted.length > 0) doc._deleted_conflicts = deleted;
  }
  if (Array.isArray(attsSince)) {
    stubOlderAttachments(doc, attsSince as string[]);
    if (!flag(req, 'revs')) delete doc._revisions;
  }
  return doc;
}

async function deletedConflicts(db: Db, id: string, winner: string): Promise<string[]> {
  const leaves = (await db.get(id, { open_revs: 'all' } as never)) as unknown as Leaf[];
  return leaves
    .map((l) => l.ok)
    .filter((d): d is Doc => !!d && d._deleted === true && d._rev !== winner)
    .map((d) => d._rev as string);
}

/** With `atts_since`, attachments the client already has (revpos at or below a revision it knows) come as stubs. */
export function stubOlderAttachments(doc: Doc, known: string[]): void {
  const path = revPath(doc._revisions as { start: number; ids: string[] } | undefined);
  const atts = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!atts) return;
  const ancestor = path.find((r) => known.includes(r));
  const threshold = ancestor ? Number(ancestor.split('-')[0]) : 0;
  for (const [k, att] of Object.entries(atts)) {
    if (Number(att.revpos) <= threshold) {
      const { data: _d, ...rest } = att;
      atts[k] = { ...rest, stub: true };
    }
  }
}

function parseOpenRevs(value: string): 'all' | string[] {
  if (value === 'all') return 'all';
  let revs: unknown;
  try {
    revs = JSON.parse(value);
  } catch {
    throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
  }
  if (!Array.isArray(revs))
    throw errors.badRequest('open_revs must be "all" or a JSON array of revisions');
  return revs.map(checkRev);
}

export interface OpenRevsOptions {
  revs: boolean;
  attachments: boolean;
  latest: boolean;
  /** Revisions the client has: attachments no newer than them come as stubs. */
  attsSince?: string[];
}

/**
 * The named leaves (or all) of a document. With `latest`, every leaf
 * descending from a named revision, as couch_key_tree:get_key_leafs. A
 * document that does not exist has no leaves: `[]` for `all`.
 */
export async function openRevs(
  db: Db,
  id: string,
  wanted: 'all' | string[],
  o: OpenRevsOptions,
): Promise<Leaf[]> {
  const needRevs = o.revs || o.latest || o.attsSince !== undefined;
  const attachments = o.attachments || o.attsSince !== undefined;
  const get = (revs: 'all' | string[]) =>
    db.get(id, { revs: needRevs, attachments, open_revs: revs } as never).catch((err) => {
      const e = toCouchError(err);
      if (e.status === 404) return revs === 'all' ? [] : revs.map((r) => ({ missing: r }));
      throw e;
    }) as unknown as Promise<Leaf[]>;
  let result: Leaf[];
  if (wanted !== 'all' && o.latest) {
    const leaves = await get('all');
    result = [];
    for (const rev of wanted) {
      const below = leaves.filter((l) => l.ok && revPath(l.ok._revisions as never).includes(rev));
      if (below.length === 0) result.push({ missing: rev });
      for (const l of below) if (!result.includes(l)) result.push(l);
    }
  } else if (wanted === 'all') {
    result = await get(wanted);
  } else {
    // PouchDB reads the named revisions concurrently and lists them as they come;
    // CouchDB answers in request order.
    const got = await get(wanted);
    const revOf = (l: Leaf) => (l.ok ? (l.ok._rev as string) : (l.missing as string));
    result = wanted.map((rev) => got.find((l) => revOf(l) === rev) ?? { missing: rev });
  }
  for (const l of result) {
    if (!l.ok) continue;
    if (o.attsSince) stubOlderAttachments(l.ok, o.attsSince);
    if (!o.revs) delete l.ok._revisions;
  }
  return result;
}

/**
 * `open_revs` on a document: a JSON array or, when the client asks for it as
 * CouchDB's replicator does, `multipart/mixed`.
 */
export async function sendOpenRevs(
  req: FastifyRequest,
  reply: FastifyReply,
  db: Db,
  id: string,
  value: string,
) {
  const wanted = parseOpenRevs(value);
  const result = await openRevs(db, id, wanted, {
    revs: flag(req, 'revs'),
    attachments: flag(req, 'attachments'),
    latest: flag(req, 'latest'),
  });
  if (wanted === 'all' && result.length === 0) throw errors.missing();
  const accept = String(req.headers.accept ?? '');
  if (!accept.includes('multipart/mixed')) return reply.send(result);
  const boundary = randomBytes(16).toString('hex');
  const parts = result.map((r) => {
    const body = r.ok ?? { missing: r.missing };
    const type = r.ok ? 'application/json' : 'application/json; error="true"';
    return `--${boundary}\r\nContent-Type: ${type}\r\n\r\n${JSON.stringify(body)}\r\n`;
  });
  return reply
    .type(`multipart/mixed; boundary="${boundary}"`)
    .send(parts.join('') + `--${boundary}--`);
}
