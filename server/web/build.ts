import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import * as esbuild from 'esbuild';
import type { SyncRules } from '../rules/plugin.js';
import { rulesModuleSource } from './rules-module.js';

/**
 * Builds the field app (app/) in memory with esbuild: the app with PouchDB and the client
 * bundled into one script, the service worker, the static files. Each file is compressed
 * once here (gzip and brotli), so serving it costs nothing per request. Takes well under
 * a second, so it runs when the service starts instead of as a separate build step.
 */

export const APP_DIR = fileURLToPath(new URL('../../app/', import.meta.url));

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
  const files: AppFiles = new Map();
  const rules: esbuild.Plugin = {
    name: 'sawa-rules',
    setup(build) {
      build.onResolve({ filter: /^sawa:rules$/ }, () => ({ path: 'rules', namespace: 'sawa' }));
      build.onLoad({ filter: /.*/, namespace: 'sawa' }, () => ({
        contents: rulesModuleSource(syncRules),
        loader: 'js',
      }));
    },
  };
  const app = await esbuild.build({
    entryPoints: [`${APP_DIR}main.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: TARGET,
    write: false,
    legalComments: 'none',
    plugins: [rules],
    // PouchDB's browser build still names Node's `global` and `process.env` in places.
    define: { global: 'globalThis', 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  files.set('app.js', await file('js', app.outputFiles[0]!.contents));
  const css = await esbuild.build({
    entryPoints: [`${APP_DIR}style.css`],
    bundle: true,
    minify: true,
    target: TARGET,
    write: false,
    logLevel: 'silent',
  });
  files.set('app.css', await file('css', css.outputFiles[0]!.contents));
  for (const [path, source] of Object.entries(STATIC)) {
    files.set(
      path,
      await file(source.split('.').pop() as string, await readFile(APP_DIR + source)),
    );
  }
  // The service worker caches everything above under a name that changes with any of it, so
  // a new build replaces the cached app at the next visit with a network.
  const version = createHash('sha256')
    .update([...files.values()].map((f) => f.hash).join())
    .digest('hex')
    .slice(0, 12);
  const sw = await esbuild.build({
    entryPoints: [`${APP_DIR}sw.ts`],
    bundle: true,
    minify: true,
    format: 'iife',
    target: TARGET,
    write: false,
    define: {
      __VERSION__: JSON.stringify(version),
      __ASSETS__: JSON.stringify([...files.keys()].map((p) => `/app/${p}`)),
    },
    logLevel: 'silent',
  });
  files.set('sw.js', await file('js', sw.outputFiles[0]!.contents));
  return files;
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
