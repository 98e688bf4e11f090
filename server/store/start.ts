import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { fileSecret } from '../secrets.js';
import { buildStore, type StoreLogger } from './app.js';
import type { StoreOptions } from './context.js';
import { packageVersion } from './version.js';

export interface StartedStore {
  app: FastifyInstance;
  url: string;
  admin: { name: string; password: string };
  proxySecret: string;
}

/**
 * Start-up wiring for the embedded store: admin credentials and secrets from
 * configuration, or generated once under DATA_DIR (their paths are logged, never
 * their values), then the store listening on loopback or STORE_HOST.
 */
export async function startStore(
  config: Config,
  opts: {
    host?: string;
    port?: number;
    logger?: StoreLogger;
    log?: (msg: string) => void;
    /** Store settings that configuration does not carry (tests: proxy authentication off). */
    overrides?: Partial<StoreOptions>;
  } = {},
): Promise<StartedStore> {
  const log = opts.log ?? (() => undefined);
  const name = config.COUCHDB_USER ?? 'admin';
  let password = config.COUCHDB_PASSWORD;
  if (!password) {
    const s = await fileSecret(config.DATA_DIR, 'store-admin-password');
    password = s.value;
    log(
      `embedded store admin "${name}": password ${s.created ? 'generated and ' : ''}kept in ${s.path}`,
    );
  }
  const secret =
    config.COUCHDB_PROXY_SECRET ?? (await fileSecret(config.DATA_DIR, 'store-secret', 32)).value;
  const storeOpts: StoreOptions = {
    dataDir: config.DATA_DIR,
    admins: { [name]: password },
    secret,
    proxyAuth: true,
    maxRequestBytes: config.STORE_MAX_REQUEST_BYTES,
    maxDocBytes: config.STORE_MAX_DOCUMENT_BYTES,
    pbkdf2Iterations: 50_000,
    sessionTimeoutSec: 600,
    maxOpenDbs: config.STORE_MAX_DBS_OPEN,
    dbUpdatesDelayMs: config.STORE_DB_UPDATES_DELAY_MS,
    version: packageVersion(),
    ...opts.overrides,
  };
  const app = await buildStore(storeOpts, opts.logger ?? false);
  const host = opts.host ?? '127.0.0.1';
  const address = await app.listen({ host, port: opts.port ?? config.STORE_PORT });
  return { app, url: address, admin: { name, password }, proxySecret: secret };
}
