/**
 * User administration in bulk, over the same modules as POST /admin/users/import.
 *
 *   npm run users -- import FILE [--format csv|json] [--concurrency N]
 *
 * FILE is CSV (header row: name, phone, role, teams, and optionally username and password)
 * or JSON (by its .json extension, or --format). A progress bar goes to stderr; one line per
 * row goes to stdout as CSV: row, username, status, code, message, password. Generated first
 * passwords appear there only: send stdout to a file only the admin can read. Running the
 * same file again is safe (existing users answer "exists"). Exit codes: 0 every row created or
 * existing, 1 some rows failed, 2 usage or configuration, 3 CouchDB unreachable.
 */
import { readFile } from 'node:fs/promises';
import { importUsers, type ImportResult } from '../server/accounts/import-users.js';
import { readImport } from '../server/accounts/import-rows.js';
import { scriptAccounts } from './accounts.js';
import {
  CliError,
  type CliIo,
  EXIT,
  connectCouch,
  intOption,
  loadCliConfig,
  parseCliArgs,
  progress,
  run,
} from './cli.js';

const USAGE = `usage: npm run users -- import FILE [--format csv|json] [--concurrency N]`;

const csvField = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function resultLine(r: ImportResult): string {
  return [r.row, r.username, r.status, r.code, r.message, r.password].map(csvField).join(',');
}

/** The command: reads only `io` (tests call it in-process), returns its exit code. */
export async function main(io: CliIo): Promise<number> {
  const [command, file, ...rest] = io.argv;
  if (command === '--help' || command === '-h') parseCliArgs(USAGE, {}, ['--help'], io.stdout);
  if (command !== 'import' || !file || file.startsWith('-')) throw new CliError(USAGE, EXIT.usage);
  const values = parseCliArgs(
    USAGE,
    { format: { type: 'string' }, concurrency: { type: 'string', default: '4' } },
    rest,
    io.stdout,
  );
  const format = values.format ?? (file.endsWith('.json') ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json')
    throw new CliError(`--format must be csv or json (got ${format})`, EXIT.usage);
  const concurrency = intOption(values.concurrency as string, 'concurrency', 1, 64);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  let body: unknown = text;
  if (format === 'json') {
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${file} is not JSON: ${(err as Error).message}`, EXIT.usage);
    }
  }
  const rows = readImport(body, format);

  const config = loadCliConfig(io.env);
  const couch = await connectCouch(config);
  try {
    const { ctx } = scriptAccounts(couch.nano, config, io.stderr);
    const bar = progress('users', rows.length, io.stderr, io.stdout);
    const summary = await importUsers(ctx, rows, {
      concurrency,
      progress: (done) => bar.update(done),
    });
    bar.end();
    io.stdout.write('row,username,status,code,message,password\n');
    for (const r of summary.results) io.stdout.write(`${resultLine(r)}\n`);
    io.stderr.write(
      `created ${summary.created}, existing ${summary.exists}, failed ${summary.failed}\n`,
    );
    return summary.failed ? EXIT.failed : EXIT.ok;
  } finally {
    await couch.close();
  }
}

run(main, import.meta.url);
