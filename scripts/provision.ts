/**
 * User administration from the command line, over the same modules as the service.
 *
 *   npm run provision -- --create-admin NAME   the first admin (password from SAWA_ADMIN_PASSWORD or stdin)
 *   npm run provision -- --repair [--concurrency 8]
 *                                              finish provisioning for every user and team, finish
 *                                              interrupted deletions, prune dead sessions
 *
 * Reaches CouchDB as the service does: COUCHDB_URL, or else the embedded store of a running
 * `npm start` on 127.0.0.1:STORE_PORT with its admin password from DATA_DIR. Progress goes to
 * stderr; the exit code is 0 when everything succeeded, 1 when something failed, 2 for usage.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { createCouch, type CouchConnection } from '../server/couch/client.js';
import { scriptCouch } from '../server/couch/connection.js';
import { scriptAccounts } from './accounts.js';
import { createUser } from '../server/accounts/sessions.js';
import { repair } from '../server/accounts/admin.js';

/** A password piped on stdin (one trailing newline dropped), or typed at a terminal without echo. */
async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (fn: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      fn();
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return done(() => resolve(typed));
        if (ch === '\u0003') return done(() => reject(new Error('cancelled')));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

const USAGE = 'usage: npm run provision -- --create-admin NAME | --repair [--concurrency N]';

function fail(message: string, code = 2): never {
  process.stderr.write(message + '\n');
  process.exit(code);
}

async function connection(config: Config): Promise<CouchConnection> {
  try {
    return await scriptCouch(config);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'create-admin': { type: 'string' },
      repair: { type: 'boolean' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  if (!values['create-admin'] === !values.repair) fail(USAGE);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const couch = createCouch(await connection(config));
  if (!(await couch.up())) fail(`CouchDB is not reachable at ${couch.conn.url}`, 1);
  const { ctx } = scriptAccounts(couch.nano, config);

  const name = values['create-admin'];
  if (name !== undefined) {
    // Scripts are entry points: the one place besides config that may read the environment.
    const password =
      process.env.SAWA_ADMIN_PASSWORD ?? (await readPassword(`password for ${name}: `));
    const doc = await createUser(
      ctx,
      { name, password, roles: ['admin'], teams: [] },
      { allowReserved: true },
    );
    process.stderr.write(`created admin ${doc.name}\n`);
    return;
  }

  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    fail('--concurrency must be 1 to 64');
  const report = await repair(ctx, {
    concurrency,
    progress: (line) => process.stderr.write(line + '\n'),
  });
  process.stderr.write(
    `repair: ${report.users} users, ${report.teams} teams, ${report.changed.length} changes, ` +
      `${report.failed.length} failures\n`,
  );
  if (report.failed.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  // Our own errors carry a message meant for people; anything else is a bug worth its stack.
  const e = err as { code?: string; message?: string; stack?: string };
  const ours = typeof e?.code === 'string' && e.code.startsWith('SAWA_');
  fail(ours ? `error: ${e.message}` : `error: ${e?.stack ?? String(err)}`, 1);
});
