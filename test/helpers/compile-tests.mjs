// The suite compiled once for `npm test`: every test file bundled by esbuild (the compiler tsx
// runs, with the same settings: ESM, Node 20, names kept), code shared between files split
// into common chunks, packages left external. Tap then runs plain JavaScript: tsx's loader
// costs each test process about a second of CPU (its start-up and a hook on every import),
// which over ~80 files was a sixth of the suite's CPU. A test file run alone (`npx tap
// test/x.test.ts`) still goes through tsx (tsx-for-ts.mjs).
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
 * Compiles `files` (test files and helpers, relative to the root) into OUT_DIR, which it
 * empties first; resolves with the compiled files, in the same order.
 */
export async function compileTests(files) {
  await rm(OUT_DIR, { recursive: true, force: true });
  await build({
    entryPoints: files.map((f) => ({ in: join(ROOT, f), out: f.replace(/\.ts$/, '') })),
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
    plugins: [sourceUrls],
  });
  return files.map((f) => join(OUT_DIR, f.replace(/\.ts$/, '.mjs')));
}
