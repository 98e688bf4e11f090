import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { Doc } from '../writes.js';
import type { Leaf } from '../open-revs.js';

type Att = Record<string, unknown>;

/**
 * mochiweb's accepts_content_type, which chttpd asks before choosing
 * multipart: no `Accept` header takes anything; otherwise the type itself,
 * `type/*` or `*\/*`, each with a non-zero q.
 */
export function accepts(req: FastifyRequest, type: string): boolean {
  const header = req.headers.accept;
  if (header === undefined || header === '') return true;
  const [major] = type.split('/');
  return header.split(',').some((entry) => {
    const [range = '', ...opts] = entry.split(';').map((s) => s.trim().toLowerCase());
    const q = opts.find((o) => o.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return range === type || range === `${major}/*` || range === '*/*';
  });
}

const boundary = () => randomBytes(16).toString('hex');

/** Attachments that carry their bytes (`attachments=true`); stubs stay in the JSON. */
function inlined(doc: Doc): Array<[string, Att]> {
  const atts = (doc._attachments ?? {}) as Record<string, Att>;
  return Object.entries(atts).filter(([, a]) => typeof a.data === 'string');
}

/**
 * A document as `multipart/related` (couch_doc:doc_to_multi_part_stream):
 * the JSON first, each inlined attachment marked `follows`, then one part
 * per attachment with its bytes.
 */
function related(doc: Doc, b: string): Buffer {
  const files = inlined(doc);
  const atts = { ...(doc._attachments as Record<string, Att>) };
  for (const [name, att] of files) {
    const { data, ...meta } = att;
    atts[name] = { ...meta, length: Buffer.byteLength(data as string, 'base64'), follows: true };
  }
  const chunks: Buffer[] = [
    Buffer.from(
      `--${b}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ ...doc, _attachments: atts })}\r\n`,
    ),
  ];
  for (const [name, att] of files) {
    const bytes = Buffer.from(att.data as string, 'base64');
    chunks.push(
      Buffer.from(
        `--${b}\r\nContent-Disposition: attachment; filename=${JSON.stringify(name)}\r\n` +
          `Content-Type: ${String(att.content_type ?? 'application/octet-stream')}\r\n` +
          `Content-Length: ${bytes.length}\r\n\r\n`,
      ),
      bytes,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${b}--`));
  return Buffer.concat(chunks);
}

/**
 * One document: JSON, or `multipart/related` when it carries attachment
 * bytes and the client accepts that (CouchDB's send_doc_efficiently: any
 * client that does not say `Accept: application/json` only).
 */
export function sendDoc(req: FastifyRequest, reply: FastifyReply, doc: Doc) {
  if (inlined(doc).length === 0 || !accepts(req, 'multipart/related')) return reply.send(doc);
  const b = boundary();
  return reply.type(`multipart/related; boundary="${b}"`).send(related(doc, b));
}

/**
 * `open_revs` leaves: `multipart/mixed` unless the client accepts only JSON,
 * one part per leaf, itself `multipart/related` when it has attachments.
 */
export function sendOpenRevs(req: FastifyRequest, reply: FastifyReply, leaves: Leaf[]) {
  if (!accepts(req, 'multipart/mixed')) return reply.send(leaves);
  const b = boundary();
  const chunks: Buffer[] = [];
  for (const leaf of leaves) {
    if (leaf.ok && inlined(leaf.ok).length > 0) {
      const inner = boundary();
      chunks.push(
        Buffer.from(`--${b}\r\nContent-Type: multipart/related; boundary="${inner}"\r\n\r\n`),
        related(leaf.ok, inner),
        Buffer.from('\r\n'),
      );
      continue;
    }
    const body = leaf.ok ?? { missing: leaf.missing };
    const type = leaf.ok ? 'application/json' : 'application/json; error="true"';
    chunks.push(Buffer.from(`--${b}\r\nContent-Type: ${type}\r\n\r\n${JSON.stringify(body)}\r\n`));
  }
  chunks.push(Buffer.from(`--${b}--`));
  return reply.type(`multipart/mixed; boundary="${b}"`).send(Buffer.concat(chunks));
}
