import { gunzipSync } from 'node:zlib';
import { errors } from './errors.js';

type Doc = Record<string, unknown>;
type Att = Record<string, unknown>;

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/** The parts of a `multipart/*` body, each with lower-cased headers. */
export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw errors.badRequest('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at === -1) throw errors.badRequest('multipart body without its boundary');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    if (body.subarray(at, at + 2).toString() === '\r\n') at += 2;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), at);
    if (next === -1) throw errors.badRequest('multipart body ends without its closing boundary');
    const part = body.subarray(at, next);
    // A part with no headers starts with its blank line.
    const split = part.subarray(0, 2).toString() === '\r\n' ? -2 : part.indexOf('\r\n\r\n');
    const head = split < 0 ? '' : part.subarray(0, split).toString('latin1');
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: split === -1 ? part : part.subarray(split + 4) });
    at = next + 2;
  }
  return parts;
}

/**
 * A document sent as `multipart/related`, the way CouchDB's replicator sends
 * one with attachments: the JSON first, its `"follows": true` attachments
 * then as parts, by `Content-Disposition` filename or else in order. The
 * result carries the attachments inline (base64), gzip-encoded ones decoded.
 */
export function docFromMultipart(body: Buffer, contentType: string): Doc {
  const [first, ...rest] = parseMultipart(body, contentType);
  if (!first) throw errors.badRequest('multipart body without a document');
  let doc: unknown;
  try {
    doc = JSON.parse(first.body.toString('utf8'));
  } catch {
    throw errors.invalidJson();
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw errors.badRequest('Document must be a JSON object');
  }
  const atts = ((doc as Doc)._attachments ?? {}) as Record<string, Att>;
  const following = Object.keys(atts).filter((name) => atts[name]?.follows === true);
  const byName = new Map<string, Buffer>();
  const inOrder: Buffer[] = [];
  for (const part of rest) {
    const filename = /filename="?([^";]+)"?/i.exec(part.headers['content-disposition'] ?? '')?.[1];
    if (filename !== undefined) byName.set(decodeURIComponent(filename), part.body);
    else inOrder.push(part.body);
  }
  for (const name of following) {
    const data = byName.get(name) ?? inOrder.shift();
    if (data === undefined)
      throw errors.badRequest(`attachment ${name} is missing from the multipart body`);
    const {
      follows: _f,
      encoding,
      encoded_length: _e,
      digest: _d,
      length: _l,
      ...meta
    } = atts[name] as Att;
    const bytes = encoding === 'gzip' ? gunzipSync(data) : data;
    atts[name] = { ...meta, data: bytes.toString('base64') };
  }
  return doc as Doc;
}
