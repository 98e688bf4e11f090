import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The import graph of the project's own source, read with the TypeScript compiler's
 * pre-processor (static imports, `import type`, re-exports and `import()` with a literal
 * path all count: a type-only import still ties two folders together for a reader).
 */

const SOURCE = /\.(ts|js|mjs)$/;

/** Every source file under `dir` (recursively), as absolute paths. */
export function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Where a relative specifier lands: NodeNext code names `.js` for a `.ts` source. */
function resolveSpecifier(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
    join(base, 'index.js'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

/** The project files each file imports (packages and node: built-ins left out). */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets: string[] = [];
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolveSpecifier(file, ref.fileName);
      if (target) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/**
 * The folder-level units of a file as seen from each directory above it. Inside directory
 * D, a file belongs to the child of D on its path: a sub-folder of D (all of it, however
 * deep), or the file itself when it sits directly in D. So `server/access.ts` and
 * `server/accounts/` are two units of `server/`, and `server/jobs/aggregate/` and
 * `server/jobs/types.ts` two units of `server/jobs/`.
 */
function unitIn(dir: string, file: string): string | null {
  const rel = relative(dir, file);
  if (rel.startsWith('..')) return null;
  const first = rel.split(sep)[0]!;
  return join(dir, first);
}

export interface Cycle {
  /** The directory whose children form the cycle. */
  dir: string;
  /** Every child caught in this knot of cycles (a strongly connected component). */
  members: string[];
  /** One cycle through them, relative to the project root, closing on the first. */
  units: string[];
  /** One import that makes each step of the cycle, `from -> to`. */
  edges: string[];
}

/**
 * Cycles among the children of every directory: an edge from unit A to unit B when a file
 * in A imports a file in B. A parent importing its own sub-folder (and back) is not a cycle
 * at this level: both sit inside one unit of the level above, and inside the parent they
 * are separate units only if one is a file directly in it.
 */
export function folderCycles(root: string, graph: Map<string, string[]>): Cycle[] {
  const dirs = new Set<string>();
  for (const file of graph.keys()) {
    // Every folder from the file's own up to the root, the root included.
    for (let d = dirname(file); relative(root, d) === '' || !relative(root, d).startsWith('..');) {
      dirs.add(d);
      if (d === root) break;
      d = dirname(d);
    }
  }
  const cycles: Cycle[] = [];
  for (const dir of [...dirs].sort()) {
    const edges = new Map<string, Map<string, string>>();
    for (const [file, targets] of graph) {
      const from = unitIn(dir, file);
      if (!from) continue;
      for (const target of targets) {
        const to = unitIn(dir, target);
        if (!to || to === from) continue;
        const out = edges.get(from) ?? new Map<string, string>();
        if (!out.has(to)) out.set(to, `${relative(root, file)} -> ${relative(root, target)}`);
        edges.set(from, out);
      }
    }
    for (const component of stronglyConnected(edges)) {
      const cycle = cyclePath(component, edges);
      const units = [...cycle, cycle[0]!];
      cycles.push({
        dir: relative(root, dir) || '.',
        members: component.map((u) => relative(root, u)).sort(),
        units: units.map((u) => relative(root, u)),
        edges: cycle.map((u, i) => edges.get(u)!.get(units[i + 1]!) ?? '?'),
      });
    }
  }
  return cycles;
}

/**
 * The strongly connected components of two or more units (Tarjan): each holds at least
 * one cycle.
 */
function stronglyConnected(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component);
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** One cycle through a component, each step a real edge: breadth-first from its first unit back to it. */
function cyclePath(component: string[], edges: Map<string, Map<string, string>>): string[] {
  const members = new Set(component);
  const start = component.sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}
