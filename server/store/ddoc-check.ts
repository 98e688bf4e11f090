import { createHash } from 'node:crypto';
import { Sandbox } from './sandbox/engine.js';
import { SandboxCompileError } from './sandbox/errors.js';
import { compileFilter } from './sandbox/filter.js';
import { compileMap } from './sandbox/map.js';
import { compileReduce } from './sandbox/reduce.js';
import { compileValidator } from './sandbox/validate.js';

type Doc = Record<string, unknown>;

export interface DesignProblem {
  error: 'invalid_design_doc' | 'compilation_error';
  reason: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * couch_db:validate_ddoc: a design document whose functions CouchDB could not
 * use is refused when it is written (400), so a typo never leaves a database
 * whose every later write fails. Functions are compiled in one throwaway sandbox.
 */
export function checkDesignDoc(doc: Doc): DesignProblem | null {
  if (doc._deleted === true) return null;
  const language = doc.language ?? 'javascript';
  if (typeof language !== 'string') return invalid('`language` must be a string');
  // Mango indexes (`language: "query"`) hold no JavaScript.
  if (language !== 'javascript') return null;
  const shape = shapeProblem(doc);
  if (shape) return invalid(shape);
  // A fleet's databases carry the same design documents: their functions compile once.
  const key = functionsKey(doc);
  if (passed.has(key)) {
    passed.delete(key);
    passed.add(key);
    return null;
  }
  const problem = compileAll(doc);
  if (problem === null) {
    passed.add(key);
    if (passed.size > PASSED_KEPT) passed.delete(passed.values().next().value as string);
  }
  return problem;
}

/** How many passed design documents are remembered (least recently written out first). */
const PASSED_KEPT = 256;
const passed = new Set<string>();

/** A hash of everything the compile reads: the same functions under the same id pass alike. */
function functionsKey(doc: Doc): string {
  const functions = [doc._id, doc.views, doc.filters, doc.validate_doc_update];
  return createHash('sha256').update(JSON.stringify(functions)).digest('base64');
}

function compileAll(doc: Doc): DesignProblem | null {
  const sandbox = Sandbox.create();
  try {
    const id = String(doc._id);
    for (const [name, view] of Object.entries((doc.views ?? {}) as Record<string, Doc>)) {
      if (name === 'lib') continue;
      compile('map', name, () =>
        compileMap(view.map as string, `${id}/views/${name}`, { sandbox }),
      );
      if (typeof view.reduce === 'string') {
        compile('reduce', name, () =>
          compileReduce(view.reduce as string, `${id}/views/${name}/reduce`, { sandbox }),
        );
      }
    }
    for (const [name, source] of Object.entries((doc.filters ?? {}) as Record<string, string>)) {
      compile('filter', name, () => compileFilter(source, `${id}/filters/${name}`, { sandbox }));
    }
    if (typeof doc.validate_doc_update === 'string') {
      const source = doc.validate_doc_update;
      compile('validate_doc_update', 'validate_doc_update', () =>
        compileValidator(source, id, { sandbox }),
      );
    }
    return null;
  } catch (err) {
    if (err instanceof DesignError) return err.problem;
    throw err;
  } finally {
    sandbox.dispose();
  }
}

class DesignError extends Error {
  constructor(readonly problem: DesignProblem) {
    super(problem.reason);
  }
}

const invalid = (reason: string): DesignProblem => ({ error: 'invalid_design_doc', reason });

function compile(type: string, name: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof SandboxCompileError)) throw err;
    const problem: DesignProblem =
      err.couchError === 'invalid_design_doc'
        ? invalid(err.detail)
        : {
            error: 'compilation_error',
            reason: `Compilation of the ${type} function in the '${name}' view failed: ${err.detail}`,
          };
    throw new DesignError(problem);
  }
}

function shapeProblem(doc: Doc): string | null {
  if (doc.views !== undefined) {
    if (!isObject(doc.views)) return '`views` is not an object';
    for (const [name, view] of Object.entries(doc.views)) {
      if (name === 'lib') continue;
      if (!isObject(view)) return `View ${name} must be an object`;
      if (typeof view.map !== 'string') return `\`map\` in ${name} must be a string`;
      if (view.reduce !== undefined && typeof view.reduce !== 'string') {
        return `\`reduce\` in ${name} must be a string`;
      }
    }
  }
  if (doc.filters !== undefined) {
    if (!isObject(doc.filters)) return '`filters` is not an object';
    for (const [name, source] of Object.entries(doc.filters)) {
      if (typeof source !== 'string') return `\`filters.${name}\` is not a string`;
    }
  }
  if (doc.validate_doc_update !== undefined && typeof doc.validate_doc_update !== 'string') {
    return '`validate_doc_update` is not a string';
  }
  return null;
}
