import { readFileSync } from 'node:fs';

/**
 * Sawa's version from its package.json. The file is two folders up from the
 * sources (server/store/) and three from the build (dist/server/store/), so
 * both are tried; a copy without it still starts and reports "0.0.0".
 */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'sawa' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there from this layout: try the next
    }
  }
  return '0.0.0';
}
