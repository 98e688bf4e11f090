import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Built pages kept on disk between processes, so that a process serving /app/ (every test
 * file that opens the app, every `npm start`) reuses the build of the one before instead of
 * paying esbuild and brotli at level 11 again (about 3 s of CPU). An entry is found by a key
 * (what the build was made from besides files: the rules module, the builder's own source) and
 * holds the hash of every file esbuild and the builder read: a changed or missing input is a
 * miss. Nothing here is needed: a cache that cannot be read or written just means a build.
 */
export const BUILD_CACHE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/sawa/web/', import.meta.url),
);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AppFile {
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  type: string;
  /** Of the uncompressed body; ETags add the encoding. */
  hash: string;
}

/** URL path under /app/ ('' for the page itself) → file. */
export type AppFiles = Map<string, AppFile>;

export interface Built {
  files: AppFiles;
  /** every file the build read, as paths from the root (or absolute) */
  inputs: string[];
}

/** A build from the cache when its inputs are unchanged, else `build()`, then kept. */
export async function cachedBuild(
  name: string,
  key: string,
  build: () => Promise<Built>,
  dir = BUILD_CACHE_DIR,
): Promise<AppFiles> {
  const path = join(dir, `${name}-${sha256(key).slice(0, 16)}.json`);
  const hit = await readEntry(path).catch(() => undefined);
  if (hit) return hit;
  const built = await build();
  await writeEntry(path, built).catch(() => {});
  return built.files;
}

interface Entry {
  inputs: Record<string, string>;
  files: Array<[string, Record<keyof AppFile, string>]>;
}

async function readEntry(path: string): Promise<AppFiles | undefined> {
  const entry = JSON.parse(await readFile(path, 'utf8')) as Entry;
  for (const [input, hash] of Object.entries(entry.inputs)) {
    if (sha256(await readFile(resolve(ROOT, input))) !== hash) return undefined;
  }
  const files: AppFiles = new Map();
  for (const [at, f] of entry.files) {
    const bytes = (b64: string) => Buffer.from(b64, 'base64');
    files.set(at, {
      body: bytes(f.body),
      gzip: bytes(f.gzip),
      br: bytes(f.br),
      type: f.type,
      hash: f.hash,
    });
  }
  return files;
}

/** Written under a name of its own, then renamed: a reader never sees half an entry. */
async function writeEntry(path: string, { files, inputs }: Built): Promise<void> {
  const entry: Entry = { inputs: {}, files: [] };
  for (const input of [...new Set(inputs)].sort()) {
    entry.inputs[input] = sha256(await readFile(resolve(ROOT, input)));
  }
  for (const [at, f] of files) {
    entry.files.push([
      at,
      {
        body: f.body.toString('base64'),
        gzip: f.gzip.toString('base64'),
        br: f.br.toString('base64'),
        type: f.type,
        hash: f.hash,
      },
    ]);
  }
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
