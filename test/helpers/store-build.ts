import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/*
 * Two levels under the root, as server/store/ is: the store finds `../../package.json` and
 * its packages (node_modules) from here exactly as it does from its sources.
 */
const OUT_DIR = join(ROOT, 'node_modules', '.sawa-store');

/**
 * `server/store/main.ts` compiled by esbuild (the compiler tsx runs) into one ESM file, built
 * once for every test file and rebuilt when anything under server/ changes. A store started
 * from it is the same code as `npm run store`, without paying tsx's loader on each of the
 * suite's many store starts (about 1.3 s of CPU instead of 2.7). Packages stay external.
 */
export async function storeEntry(): Promise<string> {
  const hash = await sourceHash();
  const out = join(OUT_DIR, `main-${hash}.mjs`);
  if (await exists(out)) return out;
  await mkdir(OUT_DIR, { recursive: true });
  // Parallel test files may build at once: each writes its own file, then renames it in place.
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(ROOT, 'server/store/main.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  await rename(tmp, out);
  await pruneStale();
  return out;
}

/** Hash of every file's path (from the root) and bytes under server/, and of package.json. */
async function sourceHash(): Promise<string> {
  const h = createHash('sha256');
  const files = (await readdir(join(ROOT, 'server'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of [...files, join(ROOT, 'package.json')]) {
    h.update(relative(ROOT, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Removes builds a day old: not younger ones, which another checkout sharing node_modules,
 * or a run still going, may be starting a store from.
 */
async function pruneStale(): Promise<void> {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of await readdir(OUT_DIR)) {
    const path = join(OUT_DIR, name);
    const info = await stat(path).catch(() => null);
    if (info && info.mtimeMs < dayAgo) await rm(path, { force: true });
  }
}
