import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import * as acorn from 'acorn';
import { DesignDocSourceInvalid, InstallIncomplete } from '../errors.js';

/**
 * The one loader of design-doc sources. They live in `design-docs/<db>/<ddoc>/`: `<db>` names
 * the databases that get the document (`fleet`: every user and team database; `aggregates`:
 * the reporting database), `<ddoc>` the document, and under it `views/<view>/map.js` and
 * `reduce.js`, one function per file. Each file is an ES module whose only statement is
 * `export default function (…) {…}` (or `export default '_count'` for a built-in reduce), so
 * it lints and formats like the rest of the tree, while what goes into CouchDB is the function
 * text itself, cut out of the file unchanged.
 */

// From server/rules/ (tsx, tap) or dist/server/rules/ (tsc output): the first that exists.
const CANDIDATES = ['../../design-docs/', '../../../design-docs/'];

let root: string | undefined;

export function designDocsDir(): string {
  root ??= CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url))).find((dir) =>
    existsSync(join(dir, 'fleet')),
  );
  if (!root) throw new InstallIncomplete(`design-docs/ (from ${fileURLToPath(import.meta.url)})`);
  return root;
}

/** The text of the file's default-exported function, or the built-in reduce name it exports. */
export function readDesignSource(relativePath: string): string {
  const file = join(designDocsDir(), relativePath);
  const text = readFileSync(file, 'utf8');
  return extractDefaultExport(text, relativePath);
}

export interface View {
  map: string;
  reduce?: string;
}

/** The design documents of one kind of database: the folder names under `design-docs/<db>/`. */
export function designDocNames(db: string): string[] {
  return readdirSync(join(designDocsDir(), db), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The views of `design-docs/<db>/<ddoc>/views/`, by name; none when it has no views/. */
export function readViews(db: string, ddoc: string): Record<string, View> {
  const base = join(db, ddoc, 'views');
  const dir = join(designDocsDir(), base);
  if (!existsSync(dir)) return {};
  const views: Record<string, View> = {};
  for (const view of readdirSync(dir).sort()) {
    const map = readDesignSource(join(base, view, 'map.js'));
    const hasReduce = existsSync(join(dir, view, 'reduce.js'));
    views[view] = hasReduce
      ? { map, reduce: readDesignSource(join(base, view, 'reduce.js')) }
      : { map };
  }
  return views;
}

/** True when `design-docs/<db>/<ddoc>/` has a validate_doc_update/ (generated from the rules). */
export function hasValidation(db: string, ddoc: string): boolean {
  return existsSync(join(designDocsDir(), db, ddoc, 'validate_doc_update'));
}

export function extractDefaultExport(text: string, where: string): string {
  let program: acorn.Program;
  try {
    // ES2017 at most: CouchDB's SpiderMonkey builds and QuickJS must all run it.
    program = acorn.parse(text, { ecmaVersion: 2017, sourceType: 'module' });
  } catch (err) {
    throw new DesignDocSourceInvalid(`${where}: not ES2017 JavaScript: ${(err as Error).message}`);
  }
  const [only, ...rest] = program.body;
  if (!only || rest.length > 0 || only.type !== 'ExportDefaultDeclaration') {
    throw new DesignDocSourceInvalid(
      `${where}: must contain exactly one statement, export default function (…) {…}`,
    );
  }
  const decl = only.declaration;
  if (decl.type === 'FunctionDeclaration') return text.slice(decl.start, decl.end);
  if (decl.type === 'Literal' && typeof decl.value === 'string' && decl.value.startsWith('_')) {
    return decl.value;
  }
  throw new DesignDocSourceInvalid(
    `${where}: must export a function or a built-in reduce such as '_count'`,
  );
}

/**
 * Evaluates a function expression in a fresh JavaScript context, without Node's globals, as
 * CouchDB would: code that leans on anything outside itself fails here, not in production.
 */
export function evaluateIsolated<T>(source: string): T {
  return vm.runInNewContext(`(${source})`, Object.create(null), { filename: 'sawa-ddoc.js' }) as T;
}
