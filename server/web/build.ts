import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import * as esbuild from 'esbuild';
import type { SyncRules } from '../rules/plugin.js';
import { cachedBuild, type AppFile, type AppFiles, type Built } from './build-cache.js';
import { rulesModuleSource } from './rules-module.js';

/**
 * Builds the field app (app/) in memory with esbuild: the app with PouchDB and the client
 * bundled into one script, the service worker, the static files. Each file is compressed
 * once here (gzip and brotli), so serving it costs nothing per request. Takes well under
 * a second, so it runs when the service starts instead of as a separate build step, and is
 * kept on disk for the next process while its sources stay the same (build-cache.ts).
 */

export const APP_DIR = fileURLToPath(new URL('../../app/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type { AppFile, AppFiles } from './build-cache.js';

const STATIC: Record<string, string> = {
  '': 'index.html',
  'manifest.webmanifest': 'manifest.webmanifest',
  'icon.svg': 'icon.svg',
};

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  webmanifest: 'application/manifest+json',
  svg: 'image/svg+xml',
};

// Chrome 80+ (Android Go phones of the last few years, and their WebView), Safari 14+.
const TARGET = ['es2020'];

export async function buildApp(syncRules: SyncRules): Promise<AppFiles> {
  const rulesModule = rulesModuleSource(syncRules);
  // The rules and this builder (its options) are what the build is made of besides files.
  const self = await readFile(fileURLToPath(import.meta.url), 'utf8');
  return cachedBuild('app', `${rulesModule}\0${self}`, () => build(rulesModule));
}

async function build(rulesModule: string): Promise<Built> {
  const files: AppFiles = new Map();
  const inputs: string[] = [];
  const read = (result: esbuild.BuildResult<{ metafile: true }>) => {
    // Files, as paths from the root; the rules module (`sawa:rules`) and the defines
    // (`<define:…>`) are not files, and are in the cache's key instead.
    inputs.push(...Object.keys(result.metafile.inputs).filter((p) => !/^<|^sawa:/.test(p)));
    return result.outputFiles![0]!.contents;
  };
  const common = { absWorkingDir: ROOT, metafile: true, write: false } as const;
  const rules: esbuild.Plugin = {
    name: 'sawa-rules',
    setup(build) {
      build.onResolve({ filter: /^sawa:rules$/ }, () => ({ path: 'rules', namespace: 'sawa' }));
      build.onLoad({ filter: /.*/, namespace: 'sawa' }, () => ({
        contents: rulesModule,
        loader: 'js',
      }));
    },
  };
  const app = await esbuild.build({
    ...common,
    entryPoints: [`${APP_DIR}main.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    legalComments: 'none',
    plugins: [rules],
    // PouchDB's browser build still names Node's `global` and `process.env` in places.
    define: { global: 'globalThis', 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  files.set('app.js', await file('js', read(app)));
  const css = await esbuild.build({
    ...common,
    entryPoints: [`${APP_DIR}style.css`],
    bundle: true,
    minify: true,
    target: TARGET,
    logLevel: 'silent',
  });
  files.set('app.css', await file('css', read(css)));
  for (const [path, source] of Object.entries(STATIC)) {
    files.set(
      path,
      await file(source.split('.').pop() as string, await readFile(APP_DIR + source)),
    );
    inputs.push(relative(ROOT, APP_DIR + source));
  }
  // The service worker caches everything above under a name that changes with any of it, so
  // a new build replaces the cached app at the next visit with a network.
  const version = createHash('sha256')
    .update([...files.values()].map((f) => f.hash).join())
    .digest('hex')
    .slice(0, 12);
  const sw = await esbuild.build({
    ...common,
    entryPoints: [`${APP_DIR}sw.ts`],
    bundle: true,
    minify: true,
    format: 'iife',
    target: TARGET,
    define: {
      __VERSION__: JSON.stringify(version),
      __ASSETS__: JSON.stringify([...files.keys()].map((p) => `/app/${p}`)),
    },
    logLevel: 'silent',
  });
  files.set('sw.js', await file('js', read(sw)));
  return { files, inputs };
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

// Compressed off the event loop: the service keeps answering while the app is built.
export async function file(ext: string, contents: Uint8Array): Promise<AppFile> {
  const body = Buffer.from(contents);
  const [gz, br] = await Promise.all([
    gzipAsync(body, { level: 9 }),
    brotliAsync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  ]);
  return {
    body,
    gzip: gz,
    br,
    type: TYPES[ext] ?? 'application/octet-stream',
    hash: createHash('sha256').update(body).digest('base64url').slice(0, 22),
  };
}
