import type { FastifyRequest } from 'fastify';
import { CouchError, errors } from './errors.js';
import { params } from './http.js';
import type { Handle } from './registry.js';
import { compileFilter } from './sandbox/filter.js';
import { FilterError } from './sandbox/errors.js';
import { compileMap } from './sandbox/map.js';
import { own } from './own.js';

type Doc = Record<string, unknown>;

/**
 * A design-document filter that throws fails the whole `_changes` request, as
 * in CouchDB (500 with what the function threw), rather than silently leaving
 * documents out. PouchDB calls the filter, so the failure is handed over here.
 */
export class FilterFailure {
  error: CouchError | null = null;
  private listener: ((e: CouchError) => void) | undefined;

  fail(e: CouchError): void {
    if (this.error) return;
    this.error = e;
    this.listener?.(e);
  }

  onFail(listener: (e: CouchError) => void): void {
    this.listener = listener;
    if (this.error) listener(this.error);
  }

  /** The filter's sandbox, freed when the request ends (end()). */
  private disposers: Array<() => void> = [];

  onEnd(dispose: () => void): void {
    this.disposers.push(dispose);
  }

  end(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
  }
}

/**
 * Turns CouchDB's `_changes` filter parameters into PouchDB changes options.
 * Design-document filters and `_view` filters run in the sandbox; PouchDB only
 * receives a plain function that calls into it.
 */
export async function changesFilter(
  req: FastifyRequest,
  h: Handle,
  body: Doc,
  failure: FilterFailure,
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
      return { filter: await ddocFilter(req, h, filter, failure) };
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

async function ddocFilter(req: FastifyRequest, h: Handle, filter: string, failure: FilterFailure) {
  const [ddocName, fname] = splitName(filter, 'filter');
  const ddoc = await loadDdoc(h, ddocName);
  const source = own(ddoc.filters as Record<string, unknown> | undefined, fname);
  if (typeof source !== 'string') throw errors.notFound(`missing json key: ${fname}`);
  const fn = compileFilter(source, `_design/${ddocName}/filters/${fname}`);
  failure.onEnd(() => fn.dispose());
  const request = {
    query: req.query,
    method: req.method,
    userCtx: { db: h.name, name: req.userCtx.name, roles: req.userCtx.roles },
    info: { db_name: h.name },
  };
  return (doc: Doc) => {
    if (failure.error) return false;
    try {
      return fn(doc, request);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      failure.fail(new CouchError(500, err.error, err.reason));
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
