import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';

type Query = Record<string, string | string[] | undefined>;

/** A parameter the store reads changes what a request means: given twice, it is ambiguous. */
function one(q: Query, key: string): string | undefined {
  const v = q[key];
  if (Array.isArray(v)) throw errors.queryParse(`Query parameter "${key}" is given more than once`);
  return v;
}

/** Query parameters as CouchDB reads them: booleans are `true`/`false`, keys are JSON. */
export const params = {
  bool(req: FastifyRequest, key: string, dflt = false): boolean {
    const v = one(req.query as Query, key);
    if (v === undefined) return dflt;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw errors.queryParse(`Invalid boolean parameter: "${v}"`);
  },
  int(req: FastifyRequest, key: string, opts: { min?: number } = {}): number | undefined {
    const v = one(req.query as Query, key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < (opts.min ?? 0)) {
      throw errors.queryParse(`Invalid value for ${key}: "${v}"`);
    }
    return n;
  },
  str(req: FastifyRequest, key: string): string | undefined {
    return one(req.query as Query, key);
  },
  json(req: FastifyRequest, key: string): unknown {
    const v = one(req.query as Query, key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      throw errors.badRequest(`invalid_json: ${key} must be JSON`);
    }
  },
  has(req: FastifyRequest, key: string): boolean {
    return one(req.query as Query, key) !== undefined;
  },
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const MAX_DEPTH = 1000;

/** How deep arrays and objects nest in JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** No string (key or value) holds a lone UTF-16 surrogate, which CouchDB's JSON parser refuses as invalid UTF-8. */
function wellFormed(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return false;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return false;
        stack.push(x);
      }
    }
  }
  return true;
}

/** The request body parsed as JSON (the store reads bodies raw and parses them itself to answer as CouchDB does). */
export function jsonBody(req: FastifyRequest): unknown {
  const raw = req.body;
  if (raw === undefined || raw === null || (Buffer.isBuffer(raw) && raw.length === 0)) {
    throw errors.badRequest('Request body must be a JSON object');
  }
  let text: string;
  let value: unknown;
  try {
    text = Buffer.isBuffer(raw) ? UTF8.decode(raw) : String(raw);
    value = JSON.parse(text);
  } catch {
    throw errors.invalidJson();
  }
  // Raw bytes passed the strict UTF-8 decoder; only a `\uD8xx` escape can still make a lone surrogate.
  if (SURROGATE_ESCAPE.test(text) && !wellFormed(value)) throw errors.invalidJson();
  // Deeper documents overflow the stack of whatever walks them next (size checks, storage, the sandbox).
  if (nestingDepth(text) > MAX_DEPTH) {
    throw errors.badRequest(`JSON is nested deeper than ${MAX_DEPTH} levels`);
  }
  return value;
}

export function jsonObject(req: FastifyRequest): Record<string, unknown> {
  const body = jsonBody(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.badRequest('Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** A POST with a non-JSON Content-Type is refused as CouchDB refuses it (415). */
export function requireJsonType(req: FastifyRequest): void {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('application/json')) throw errors.badContentType();
}

/** An absolute URL on this server, as CouchDB puts in `Location` headers. */
export function absoluteUrl(req: FastifyRequest, path: string): string {
  return `${req.protocol}://${req.host}${path}`;
}
