import Fastify from 'fastify';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { keepServing, STRAY_ERROR_EVENTS } from './last-line.js';
import { loadConfig, ConfigError, type Config } from './config.js';
import app, { serverOptions } from './app.js';
import type { CouchConnection } from './couch/client.js';
import { startStore, type StartedStore } from './store/start.js';

/** The one file that listens: config, the embedded store when no COUCHDB_URL, then the service. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: config.LOG_LEVEL });
  let store: StartedStore | undefined;
  let couch: CouchConnection;
  if (config.COUCHDB_URL) {
    couch = externalCouch(config);
  } else {
    store = await startStore(config, { host: '127.0.0.1', log: (msg) => log.info(msg) });
    log.info(`embedded store on ${store.url}, data in ${config.DATA_DIR}`);
    couch = { url: store.url, admin: store.admin, proxySecret: store.proxySecret };
  }
  const server = Fastify(serverOptions(config));
  await server.register(app, { config, couch });
  if (store) {
    const embedded = store;
    // Close the store after the service so in-flight requests can still reach it.
    server.addHook('onClose', async () => embedded.app.close());
  }
  await server.listen({ host: config.HOST, port: config.PORT });
  keepServing(server.log);
  closeWithGrace({ delay: 10_000, skip: STRAY_ERROR_EVENTS }, async ({ err, signal }) => {
    if (err) server.log.error({ err }, 'shutting down after an error');
    else server.log.info({ signal }, 'shutting down');
    await server.close();
  });
}

function externalCouch(config: Config): CouchConnection {
  const url = new URL(config.COUCHDB_URL as string);
  const name = config.COUCHDB_USER ?? decodeURIComponent(url.username);
  const password = config.COUCHDB_PASSWORD ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  if (!name || !password) {
    process.stderr.write(
      'invalid configuration:\n  COUCHDB_URL needs admin credentials, in the URL or in COUCHDB_USER/COUCHDB_PASSWORD\n',
    );
    process.exit(2);
  }
  if (!config.COUCHDB_PROXY_SECRET) {
    process.stderr.write(
      'invalid configuration:\n  COUCHDB_PROXY_SECRET is required with COUCHDB_URL: it must equal [chttpd_auth] secret in CouchDB\n',
    );
    process.exit(2);
  }
  return {
    url: url.toString(),
    admin: { name, password },
    proxySecret: config.COUCHDB_PROXY_SECRET,
  };
}

void main();
