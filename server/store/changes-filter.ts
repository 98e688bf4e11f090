import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { params } from './http.js';
import type { Handle } from './registry.js';
import { compileFilter } from './sandbox/filter.js';
import { compileMap } from './sandbox/map.js';
import { own } from './own.js';

type Doc = Record<string, unknown>;

/**
 * Turns CouchDB's `_changes` filter parameters into PouchDB changes options.
 * Design-document filters and `_view` filters run in the sandbox; PouchDB only
 * receives a plain function that calls into it.
 */
export async function changesFilter(
  app: FastifyInstance,
  req: FastifyRequest,
  h: Handle,
  body: Doc,
): Promise<Record<string, unknown>> {
  const filter = params.str(req, 'filter');
  const docIds = params.json(req, 'doc_ids') ?? body.doc_ids;
  if (filter === undefined) {
    return docIds !== undefined ? { doc_ids: checkDocIds(docIds) } : {};
  }
  switch (filter) {
    case '_doc_ids':
      if (docIds === undefined) throw errors.badRequest('filter=_doc_ids needs a `doc_ids` list');
      return { doc_ids: checkDocIds(docIds) };
    case '_selector': {
      const selector = body.selector ?? params.json(req, 'selector');
      if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
        throw errors.badRequest('Selector error: expected a JSON object');
      }
      return { selector };
    }
    case '_design':
      return { filter: (doc: Doc) => String(doc._id).startsWith('_design/') };
    case '_view':
      return { filter: await viewFilter(h, params.str(req, 'view')) };
    default:
      return { filter: await ddocFilter(app, req, h, filter) };
  }
}

function checkDocIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
    throw errors.badRequest('`doc_ids` filter parameter is not a list of doc ids.');
  }
  return ids as string[];
}

async function loadDdoc(h: Handle, ddocName: string): Promise<Doc> {
  try {
    return (await h.db.get(`_design/${ddocName}`)) as Doc;
  } catch {
    throw errors.notFound(`missing design document _design/${ddocName}`);
  }
}

function splitName(value: string | undefined, what: string): [string, string] {
  const m = value ? /^(?:_design\/)?([^/]+)\/(.+)$/.exec(value) : null;
  if (!m) throw errors.badRequest(`\`${what}\` must be of the form designname/name`);
  return [m[1] as string, m[2] as string];
}

async function ddocFilter(app: FastifyInstance, req: FastifyRequest, h: Handle, filter: string) {
  const [ddocName, fname] = splitName(filter, 'filter');
  const ddoc = await loadDdoc(h, ddocName);
  const source = own(ddoc.filters as Record<string, unknown> | undefined, fname);
  if (typeof source !== 'string') throw errors.notFound(`missing json key: ${fname}`);
  const fn = compileFilter(source, `_design/${ddocName}/filters/${fname}`);
  const request = {
    query: req.query,
    method: req.method,
    userCtx: { db: h.name, name: req.userCtx.name, roles: req.userCtx.roles },
    info: { db_name: h.name },
  };
  return (doc: Doc) => {
    try {
      return fn(doc, request);
    } catch (err) {
      app.log.warn({ err, filter }, 'changes filter failed on a document');
      return false;
    }
  };
}

async function viewFilter(h: Handle, view: string | undefined) {
  const [ddocName, vname] = splitName(view, 'view');
  const ddoc = await loadDdoc(h, ddocName);
  const source = own(ddoc.views as Record<string, { map?: unknown }> | undefined, vname)?.map;
  if (typeof source !== 'string') throw errors.notFound(`missing json key: ${vname}`);
  const map = compileMap(source, `_design/${ddocName}/views/${vname}`);
  return (doc: Doc) => map(doc).length > 0;
}
