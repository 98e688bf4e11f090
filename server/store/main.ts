import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { keepServing, STRAY_ERROR_EVENTS } from '../last-line.js';
import { loadConfig, ConfigError } from '../config.js';
import { startStore } from './start.js';

/** `npm run store`: the embedded store alone, for development and the compatibility suite. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({
    level: config.LOG_LEVEL,
    redact: [
      'req.headers.authorization',
      'req.headers.cookie',
      'req.headers["x-auth-couchdb-token"]',
    ],
  });
  const store = await startStore(config, {
    host: config.STORE_HOST,
    logger,
    log: (msg) => logger.info(msg),
  });
  logger.info(`embedded store listening on ${store.url} with data in ${config.DATA_DIR}`);
  keepServing(logger);
  closeWithGrace({ delay: 10_000, skip: STRAY_ERROR_EVENTS }, async ({ err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    await store.app.close();
  });
}

void main();
