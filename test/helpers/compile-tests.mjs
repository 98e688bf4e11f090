// The suite compiled once for `npm test`: every test file bundled by esbuild (the compiler tsx
// runs, with the same settings: ESM, Node 20, names kept), code shared between files split
// into common chunks, packages left external. Tap then runs plain JavaScript: tsx's loader
// costs each test process about a second of CPU (its start-up and a hook on every import),
// which over ~80 files was a sixth of the suite's CPU. A test file run alone (`npx tap
// test/x.test.ts`) still goes through tsx (tsx-for-ts.mjs).
//
// Test files of one folder also share processes (processGroups): each process costs tap, the
// service's modules, the config schema, the rules and the route schemas before its first
// assertion, about 1.7 CPU-seconds.
//
// Each module's `import.meta.url` is its source file's URL, so paths worked out from it (the
// root, design-docs/, fixtures, a script to start) are those of the source tree, as under tsx.
import { build } from 'esbuild';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'sawa', 'tests');

/** The test files under test/ (as tap's `include` finds them), relative to the root. */
export async function testFiles() {
  const entries = await readdir(join(ROOT, 'test'), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** At most this many test files share one process under `npm test` (docs/testing.md). */
export const FILES_PER_PROCESS = 5;

/**
 * `files` (sorted test files) as the processes `npm test` runs: each folder's files in order,
 * split into as few runs of at most FILES_PER_PROCESS as they fit in, of even length. A
 * process of several files is named after its folder (`test/accounts/1-of-3`,
 * `test/rules/all`); a file alone keeps its own name.
 */
export function processGroups(files) {
  const byFolder = new Map();
  for (const f of files) {
    const folder = f.slice(0, f.lastIndexOf('/'));
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), f]);
  }
  const groups = [];
  for (const [folder, inFolder] of byFolder) {
    const count = Math.ceil(inFolder.length / FILES_PER_PROCESS);
    const size = Math.ceil(inFolder.length / count);
    for (let i = 0; i < count; i++) {
      const members = inFolder.slice(i * size, (i + 1) * size);
      const name =
        members.length === 1
          ? members[0].replace(/\.ts$/, '')
          : `${folder}/${count === 1 ? 'all' : `${i + 1}-of-${count}`}`;
      groups.push({ name, files: members });
    }
  }
  return groups;
}

/**
 * A process's entry module: its test files imported in order (tap runs their tests so), each
 * in a context of its own (test-file.ts).
 */
const groupEntries = (groups) => ({
  name: 'test-process-entries',
  setup(b) {
    b.onResolve({ filter: /^sawa-process:/ }, (args) => ({
      path: args.path.slice('sawa-process:'.length),
      namespace: 'sawa-process',
    }));
    b.onLoad({ filter: /.*/, namespace: 'sawa-process' }, (args) => {
      const files = groups
        .get(args.path)
        .map((f) => `[${JSON.stringify(f)}, () => import(${JSON.stringify(join(ROOT, f))})]`);
      return {
        contents:
          `import { runTestFiles } from ${JSON.stringify(join(ROOT, 'test/helpers/test-file.ts'))};\n` +
          `await runTestFiles([\n  ${files.join(',\n  ')},\n]);\n`,
        resolveDir: ROOT,
        loader: 'js',
      };
    });
  },
});

/** Source files keep their own `import.meta.url` inside the bundle. */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined; // packages: untouched
      const source = await readFile(args.path, 'utf8');
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return {
        contents: source.replaceAll('import.meta.url', url),
        loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
      };
    });
  },
};

/**
 * Compiles `files` (helpers, relative to the root, each an entry of its own) and `groups`
 * (processGroups) into OUT_DIR, which it empties first; resolves with the compiled files, then
 * the groups' entries, in the same order.
 */
export async function compileTests(files, groups = []) {
  await rm(OUT_DIR, { recursive: true, force: true });
  const several = new Map(groups.filter((g) => g.files.length > 1).map((g) => [g.name, g.files]));
  const entries = [
    ...files.map((f) => ({ in: join(ROOT, f), out: f.replace(/\.ts$/, '') })),
    ...groups.map((g) =>
      several.has(g.name)
        ? { in: `sawa-process:${g.name}`, out: g.name }
        : { in: join(ROOT, g.files[0]), out: g.name },
    ),
  ];
  await build({
    entryPoints: entries,
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [sourceUrls, groupEntries(several)],
  });
  return entries.map((e) => join(OUT_DIR, `${e.out}.mjs`));
}
