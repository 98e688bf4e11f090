import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type Config } from '../config.js';
import type { CouchConnection } from './client.js';

/**
 * The one place that turns configuration into a CouchDB connection, for the service, the
 * scripts and the tests alike: the same checks, the same messages, a ConfigError for each
 * problem (the caller decides how to stop: the service exits 2, a script prints usage).
 */

type CouchSettings = Pick<
  Config,
  'COUCHDB_URL' | 'COUCHDB_USER' | 'COUCHDB_PASSWORD' | 'COUCHDB_PROXY_SECRET'
>;

export interface ResolveOptions {
  /**
   * True for callers that act as users through proxy authentication (the service): they
   * cannot work without the secret, so its absence is a configuration error. Scripts act as
   * server admin only and may go without.
   */
  needsProxySecret: boolean;
}

/**
 * The CouchDB named by COUCHDB_URL, with admin credentials from the URL or from
 * COUCHDB_USER/COUCHDB_PASSWORD (those win); null when COUCHDB_URL is not set. The URL given
 * back carries no credentials (safe to log) and no trailing slash.
 */
export function configuredCouch(
  config: CouchSettings,
  opts: ResolveOptions,
): CouchConnection | null {
  if (!config.COUCHDB_URL) return null;
  const url = new URL(config.COUCHDB_URL);
  const name = config.COUCHDB_USER ?? decodeURIComponent(url.username);
  const password = config.COUCHDB_PASSWORD ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const problems: string[] = [];
  if (!name || !password) {
    problems.push(
      'COUCHDB_URL needs admin credentials, in the URL or in COUCHDB_USER/COUCHDB_PASSWORD',
    );
  }
  if (opts.needsProxySecret && !config.COUCHDB_PROXY_SECRET) {
    problems.push(
      'COUCHDB_PROXY_SECRET is required with COUCHDB_URL: it must equal [chttpd_auth] secret in CouchDB',
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    url: url.toString().replace(/\/$/, ''),
    admin: { name, password },
    proxySecret: config.COUCHDB_PROXY_SECRET ?? '',
  };
}

/**
 * For the scripts: the configured CouchDB, or else the embedded store of a running
 * `npm start` or `npm run store` on 127.0.0.1:STORE_PORT, with the admin password and proxy
 * secret it keeps under DATA_DIR.
 */
export async function scriptCouch(config: Config): Promise<CouchConnection> {
  const configured = configuredCouch(config, { needsProxySecret: false });
  if (configured) return configured;
  const passwordFile = resolve(join(config.DATA_DIR, 'store-admin-password'));
  const password = config.COUCHDB_PASSWORD ?? (await readSecret(passwordFile));
  if (!password) {
    throw new ConfigError([
      'no CouchDB configured: set COUCHDB_URL (with admin credentials in it or in ' +
        'COUCHDB_USER/COUCHDB_PASSWORD), or run this where the embedded store runs ' +
        `(npm start or npm run store), which keeps its admin password in ${passwordFile}`,
    ]);
  }
  return {
    url: `http://127.0.0.1:${config.STORE_PORT}`,
    admin: { name: config.COUCHDB_USER ?? 'admin', password },
    proxySecret:
      config.COUCHDB_PROXY_SECRET ??
      (await readSecret(join(config.DATA_DIR, 'store-secret'))) ??
      '',
  };
}

async function readSecret(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`]);
  }
}
