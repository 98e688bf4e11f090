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
import { scriptAccounts } from './accounts.js';
import { CliError, EXIT, couchConnection, loadCliConfig, run, type CliIo } from './cli.js';
import { createCouch } from '../server/couch/client.js';
import { createUser } from '../server/accounts/sessions.js';
import { repair } from '../server/accounts/admin.js';

/** A password piped on stdin (one trailing newline dropped), or typed at a terminal without echo. */
async function readPassword(
  stdin: NodeJS.ReadableStream & Partial<Pick<NodeJS.ReadStream, 'isTTY' | 'setRawMode'>>,
  stderr: NodeJS.WritableStream,
  prompt: string,
): Promise<string> {
  if (!stdin.isTTY || !stdin.setRawMode) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  stderr.write(prompt);
  setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (fn: () => void) => {
      setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
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

/** The command: reads only `io` (tests call it in-process), returns its exit code. */
export async function main(io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: io.argv,
    options: {
      'create-admin': { type: 'string' },
      repair: { type: 'boolean' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  if (!values['create-admin'] === !values.repair) throw new CliError(USAGE, EXIT.usage);
  const config = loadCliConfig(io.env);
  const couch = createCouch(await couchConnection(config));
  try {
    if (!(await couch.up()))
      throw new CliError(`CouchDB is not reachable at ${couch.conn.url}`, EXIT.failed);
    const { ctx } = scriptAccounts(couch.nano, config, io.stderr);

    const name = values['create-admin'];
    if (name !== undefined) {
      // Scripts are entry points: the one place besides config that may read the environment.
      const password =
        io.env.SAWA_ADMIN_PASSWORD ??
        (await readPassword(io.stdin ?? process.stdin, io.stderr, `password for ${name}: `));
      const doc = await createUser(
        ctx,
        { name, password, roles: ['admin'], teams: [] },
        { allowReserved: true },
      );
      io.stderr.write(`created admin ${doc.name}\n`);
      return EXIT.ok;
    }

    const concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
      throw new CliError('--concurrency must be 1 to 64', EXIT.usage);
    const report = await repair(ctx, {
      concurrency,
      progress: (line) => io.stderr.write(line + '\n'),
    });
    io.stderr.write(
      `repair: ${report.users} users, ${report.teams} teams, ${report.changed.length} changes, ` +
        `${report.failed.length} failures\n`,
    );
    return report.failed.length ? EXIT.failed : EXIT.ok;
  } finally {
    await couch.close();
  }
}

run(main, import.meta.url);
