import Fastify from 'fastify';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { keepServing, STRAY_ERROR_EVENTS } from './last-line.js';
import { loadConfig, ConfigError, type Config } from './config.js';
import app, { serverOptions } from './app.js';
import type { CouchConnection } from './couch/client.js';
import { configuredCouch } from './couch/connection.js';
import { startStore, type StartedStore } from './store/start.js';

/** Configuration and the CouchDB to use, or a ConfigError naming every problem. */
function configure(): { config: Config; external: CouchConnection | null } {
  const config = loadConfig();
  // The service acts as users through proxy authentication, so it needs the secret.
  return { config, external: configuredCouch(config, { needsProxySecret: true }) };
}

/** The one file that listens: config, the embedded store when no COUCHDB_URL, then the service. */
async function main(): Promise<void> {
  let setup: ReturnType<typeof configure>;
  try {
    setup = configure();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const { config, external } = setup;
  const log = pino({ level: config.LOG_LEVEL });
  let store: StartedStore | undefined;
  let couch: CouchConnection;
  if (external) {
    couch = external;
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

void main();
