import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { folderCycles, importGraph, sourceFiles } from './imports.js';

/**
 * No folder-level import cycle in Sawa's own code: inside every folder, its files and
 * sub-folders import each other one way only, so the tree reads as the architecture
 * (issue 15, "Boundaries").
 */

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const files = ['server', 'scripts', 'client', 'app'].flatMap((dir) => sourceFiles(join(root, dir)));

t.test('server/, scripts/, client/ and app/ have no folder-level import cycle', async (t) => {
  t.ok(files.length > 150, `the walk found the sources (${files.length} files)`);
  const cycles = folderCycles(root, importGraph(files));
  const report = cycles.map(
    (c) => `in ${c.dir}/: ${c.units.join(' -> ')}\n    ${c.edges.join('\n    ')}`,
  );
  t.same(report, [], 'no cycle (each one shown with an import per step)');
});

t.test('the walk sees the kinds of import that tie folders together', async (t) => {
  const graph = importGraph(files);
  const imports = (from: string) =>
    graph.get(join(root, from))?.map((f) => f.slice(root.length + 1));
  // A type-only import counts: it ties the two folders together for a reader all the same.
  t.ok(imports('server/access.ts')?.includes('server/user.ts'), 'import type');
  t.ok(
    imports('server/migrations/checkpoint.ts')?.includes('server/jobs/changed-dbs.ts'),
    'export … from',
  );
  t.ok(imports('server/app.ts')?.includes('server/accounts/plugin.ts'), 'import … from');
});

t.test('a cycle between a file and a sibling folder is found and named', async (t) => {
  const r = '/p';
  const graph = new Map<string, string[]>([
    ['/p/server/access.ts', ['/p/server/accounts/types.ts']],
    ['/p/server/accounts/types.ts', []],
    ['/p/server/accounts/sessions.ts', ['/p/server/access.ts', '/p/server/errors.ts']],
    ['/p/server/errors.ts', []],
    ['/p/server/jobs/plugin.ts', ['/p/server/jobs/aggregate/run.ts']],
    ['/p/server/jobs/aggregate/run.ts', ['/p/server/jobs/types.ts']],
    ['/p/server/jobs/types.ts', []],
  ]);
  const cycles = folderCycles(r, graph);
  t.same(
    cycles.map((c) => ({ dir: c.dir, members: c.members })),
    [{ dir: 'server', members: ['server/access.ts', 'server/accounts'] }],
    'only access.ts <-> accounts/; a folder using its own files and sub-folders is fine',
  );
  t.same(cycles[0]?.edges, [
    'server/access.ts -> server/accounts/types.ts',
    'server/accounts/sessions.ts -> server/access.ts',
  ]);
});

t.test('a cycle through three folders is one knot with a real path', async (t) => {
  const graph = new Map<string, string[]>([
    ['/p/a/x.ts', ['/p/b/y.ts']],
    ['/p/b/y.ts', ['/p/c/z.ts']],
    ['/p/c/z.ts', ['/p/a/x.ts']],
  ]);
  const [cycle, ...rest] = folderCycles('/p', graph);
  t.same(rest, []);
  t.same(cycle?.units, ['a', 'b', 'c', 'a']);
  t.same(cycle?.edges, ['a/x.ts -> b/y.ts', 'b/y.ts -> c/z.ts', 'c/z.ts -> a/x.ts']);
});
